/* fedihub: pick a call's place on the server-drawn map. Without it the latitude and longitude fields work as typed. */
(function () {
  "use strict";

  // The map is Web Mercator over the box in data-bbox (fedihub/maps/projection.py): invert it for a click.
  function latitudeAt(y, north, scale) {
    var clamp = Math.max(-85, Math.min(85, north));
    var top = Math.log(Math.tan(Math.PI / 4 + clamp * Math.PI / 360));
    return (2 * Math.atan(Math.exp(top - y / scale)) - Math.PI / 2) * 180 / Math.PI;
  }

  function enable(figure) {
    var svg = figure.querySelector("svg.map");
    var lat = document.getElementById(figure.getAttribute("data-pick-latitude"));
    var lon = document.getElementById(figure.getAttribute("data-pick-longitude"));
    if (!svg || !lat || !lon || !svg.getScreenCTM) {
      return;
    }
    var box = svg.getAttribute("data-bbox").split(",").map(Number);
    var width = svg.viewBox.baseVal.width;
    var scale = width / ((box[2] - box[0]) * Math.PI / 180);
    var mark = svg.querySelector(".map-point circle");
    svg.addEventListener("click", function (event) {
      event.preventDefault();
      var point = svg.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      var at = point.matrixTransform(svg.getScreenCTM().inverse());
      // Near the antimeridian the map shows a little beyond ±180° (its margin): wrap back onto the globe.
      var longitude = ((box[0] + (at.x / scale) * 180 / Math.PI + 540) % 360) - 180;
      lat.value = latitudeAt(at.y, box[3], scale).toFixed(5);
      lon.value = longitude.toFixed(5);
      if (mark) {
        mark.setAttribute("cx", at.x.toFixed(1));
        mark.setAttribute("cy", at.y.toFixed(1));
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-pick-latitude]"), enable);
  });
})();
