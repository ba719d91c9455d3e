/* fedihub: raster tiles under the server-drawn map, only when the operator set FEDIHUB_MAP_TILES_URL.
   The SVG is Web Mercator over data-bbox (fedihub/maps/projection.py), the projection tiles use, so tiles
   and outlines line up; without this script (or the setting) the outlines alone are the map. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function globalY(latitude, size) {
    var phi = Math.max(-85, Math.min(85, latitude)) * Math.PI / 180;
    return (1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2 * size;
  }

  function addTiles(svg) {
    var template = svg.getAttribute("data-tiles");
    var box = svg.getAttribute("data-bbox").split(",").map(Number);
    var width = svg.viewBox.baseVal.width;
    var height = svg.viewBox.baseVal.height;
    var scale = width / ((box[2] - box[0]) * Math.PI / 180);  // viewBox units per radian
    var zoom = Math.max(0, Math.min(19, Math.round(Math.log2(scale * 2 * Math.PI / 256))));
    var tiles = Math.pow(2, zoom);
    var size = 256 * tiles;
    var k = scale / (size / (2 * Math.PI));  // viewBox units per tile pixel
    var x0 = (box[0] + 180) / 360 * size;
    var y0 = globalY(box[3], size);
    var layer = document.createElementNS(SVG, "g");
    layer.setAttribute("class", "map-tiles");
    layer.setAttribute("aria-hidden", "true");
    for (var ty = Math.floor(y0 / 256); ty <= Math.floor((y0 + height / k) / 256); ty++) {
      if (ty < 0 || ty >= tiles) {
        continue;
      }
      for (var tx = Math.floor(x0 / 256); tx <= Math.floor((x0 + width / k) / 256); tx++) {
        var image = document.createElementNS(SVG, "image");
        var wrapped = ((tx % tiles) + tiles) % tiles;
        image.setAttribute("href", template.replace("{z}", zoom).replace("{x}", wrapped).replace("{y}", ty));
        image.setAttribute("x", ((tx * 256 - x0) * k).toFixed(1));
        image.setAttribute("y", ((ty * 256 - y0) * k).toFixed(1));
        image.setAttribute("width", (256 * k + 0.5).toFixed(1));
        image.setAttribute("height", (256 * k + 0.5).toFixed(1));
        layer.appendChild(image);
      }
    }
    var outlines = svg.querySelector(".map-outlines");
    svg.insertBefore(layer, outlines);
    svg.classList.add("has-tiles");
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("svg.map[data-tiles]"), addTiles);
  });
})();
