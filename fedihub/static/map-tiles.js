/* fedihub: raster tiles under the server-drawn map, only when the operator set FEDIHUB_MAP_TILES_URL.
   The SVG is Web Mercator over data-bbox (fedihub/maps/projection.py), the projection tiles use, so tiles
   and outlines line up; without this script (or the setting) the outlines alone are the map.
   The tiles cover the SVG's viewBox, and follow it when map-pan.js moves it ("fedihub:mapview"). */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var TILE = 256;
  var MAX_ZOOM = 19;
  var MAX_IMAGES = 200;  // a sanity bound: a view needs about 20

  function globalY(latitude, size) {
    var phi = Math.max(-85, Math.min(85, latitude)) * Math.PI / 180;
    return (1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2 * size;
  }

  function layer(svg, name) {
    var group = document.createElementNS(SVG, "g");
    group.setAttribute("class", name);
    group.setAttribute("aria-hidden", "true");
    svg.insertBefore(group, svg.querySelector(".map-outlines"));
    return group;
  }

  function addTiles(svg) {
    var template = svg.getAttribute("data-tiles");
    var box = svg.getAttribute("data-bbox").split(",").map(Number);
    var width = svg.viewBox.baseVal.width;
    var scale = width / ((box[2] - box[0]) * Math.PI / 180);  // viewBox units per radian
    // The last zoom level's tiles stay underneath until the new level's cover them, so a zoom never flashes.
    var previous = layer(svg, "map-tiles-previous");
    var current = layer(svg, "map-tiles");
    var level = null;
    var images = {};

    function draw(view) {
      var shownPixels = svg.getBoundingClientRect().width || view.width;
      var pixelsPerRadian = scale * shownPixels / view.width;
      var zoom = Math.max(0, Math.min(MAX_ZOOM, Math.round(Math.log2(pixelsPerRadian * 2 * Math.PI / TILE))));
      if (zoom !== level) {
        while (previous.firstChild) {
          previous.removeChild(previous.firstChild);
        }
        while (current.firstChild) {
          previous.appendChild(current.firstChild);
        }
        images = {};
        level = zoom;
      }
      var tiles = Math.pow(2, zoom);
      var size = TILE * tiles;
      var k = scale / (size / (2 * Math.PI));  // viewBox units per tile pixel
      var x0 = (box[0] + 180) / 360 * size + view.x / k;
      var y0 = globalY(box[3], size) + view.y / k;
      var firstX = Math.floor(x0 / TILE), lastX = Math.floor((x0 + view.width / k) / TILE);
      var firstY = Math.max(0, Math.floor(y0 / TILE)), lastY = Math.min(tiles - 1, Math.floor((y0 + view.height / k) / TILE));
      if ((lastX - firstX + 1) * (lastY - firstY + 1) > MAX_IMAGES) {
        return;
      }
      var originX = (box[0] + 180) / 360 * size, originY = globalY(box[3], size);
      var seam = 0.5 * view.width / shownPixels;
      var wanted = {};
      for (var ty = firstY; ty <= lastY; ty++) {
        for (var tx = firstX; tx <= lastX; tx++) {
          var key = tx + "/" + ty;
          wanted[key] = true;
          if (images[key]) {
            continue;
          }
          // The map may show a little past ±180° (and a moved view more): the world's tiles repeat there.
          var wrapped = ((tx % tiles) + tiles) % tiles;
          var image = document.createElementNS(SVG, "image");
          image.setAttribute("href", template.replace("{z}", zoom).replace("{x}", wrapped).replace("{y}", ty));
          image.setAttribute("x", ((tx * TILE - originX) * k).toFixed(2));
          image.setAttribute("y", ((ty * TILE - originY) * k).toFixed(2));
          // Half a screen pixel of overlap hides the hairline seams between tiles.
          image.setAttribute("width", (TILE * k + seam).toFixed(2));
          image.setAttribute("height", (TILE * k + seam).toFixed(2));
          current.appendChild(image);
          images[key] = image;
        }
      }
      Object.keys(images).forEach(function (key) {
        if (!wanted[key]) {
          current.removeChild(images[key]);
          delete images[key];
        }
      });
    }

    var start = svg.viewBox.baseVal;
    draw({x: start.x, y: start.y, width: start.width, height: start.height});
    svg.classList.add("has-tiles");
    svg.addEventListener("fedihub:mapview", function (event) {
      draw(event.detail);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("svg.map[data-tiles]"), addTiles);
  });
})();
