/* fedihub: move and zoom the server-drawn map where tiles are drawn under it (FEDIHUB_MAP_TILES_URL):
   drag or swipe, pinch, the wheel, the + and − buttons, and the arrow and +/− keys once the map has focus.
   It changes the SVG's viewBox, so outlines and marks move together, and tells map-tiles.js which part
   is shown ("fedihub:mapview"). Marks keep their size; grouping is the server's, so the link under the
   map asks it to redraw the part shown. Without this script the map and its zoom links work as drawn. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var MAX_LATITUDE = 85;
  var KEY_STEP = 0.2;  // share of the view an arrow key moves it
  var MOST_ZOOM = 256;  // times the drawn scale: street level on a country-wide map
  var DRAG_START = 4;  // pixels before a press becomes a drag, so a click on a mark still follows its link
  var ANIMATION_MS = 200;

  function mercator(latitude) {
    var phi = Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, latitude)) * Math.PI / 180;
    return Math.log(Math.tan(Math.PI / 4 + phi / 2));
  }

  function latitudeOf(y) {
    return (2 * Math.atan(Math.exp(y)) - Math.PI / 2) * 180 / Math.PI;
  }

  function round(value) {
    return String(Math.round(value * 1e4) / 1e4);
  }

  function centreOf(mark) {
    var circle = mark.querySelector("circle");
    if (circle) {
      return [circle.cx.baseVal.value, circle.cy.baseVal.value];
    }
    var rect = mark.querySelector("rect");
    return [rect.x.baseVal.value + rect.width.baseVal.value / 2, rect.y.baseVal.value + rect.height.baseVal.value / 2];
  }

  function enable(svg) {
    var figure = svg.closest("figure");
    var controls = figure && figure.querySelector("[data-map-controls]");
    var help = figure && figure.querySelector("[data-map-help]");
    var here = figure && figure.querySelector("[data-map-here]");
    var reduced = window.matchMedia("(prefers-reduced-motion: reduce)");
    var base = svg.viewBox.baseVal;
    var W = base.width, H = base.height;
    var box = svg.getAttribute("data-bbox").split(",").map(Number);
    var scale = W / ((box[2] - box[0]) * Math.PI / 180);  // viewBox units per radian
    var top = mercator(box[3]);
    // How far the view may go: the centre stays on the world, and zoomed out it shows the world once.
    var left = (-180 - box[0]) * Math.PI / 180 * scale, right = (180 - box[0]) * Math.PI / 180 * scale;
    var north = (top - mercator(MAX_LATITUDE)) * scale, south = (top - mercator(-MAX_LATITUDE)) * scale;
    var widest = Math.max(W, right - left), narrowest = W / MOST_ZOOM;
    var marks = Array.prototype.map.call(svg.querySelectorAll(".map-points > a"), function (mark) {
      return {element: mark, centre: centreOf(mark)};
    });
    var view = {x: 0, y: 0, width: W, height: H};
    var goal = view;
    var animation = 0;
    var notified = false;

    // Outlines are drawn for the first view only; beyond it the server pulled their points onto a frame.
    var clipId = svg.getAttribute("aria-labelledby") + "-clip";
    var defs = document.createElementNS(SVG, "defs");
    var clip = document.createElementNS(SVG, "clipPath");
    var frame = document.createElementNS(SVG, "rect");
    clip.setAttribute("id", clipId);
    frame.setAttribute("width", W);
    frame.setAttribute("height", H);
    clip.appendChild(frame);
    defs.appendChild(clip);
    svg.insertBefore(defs, svg.firstChild);
    svg.querySelector(".map-outlines").setAttribute("clip-path", "url(#" + clipId + ")");

    function bounded(next) {
      var width = Math.max(narrowest, Math.min(widest, next.width));
      var height = width * H / W;
      var cx = Math.max(left, Math.min(right, next.x + next.width / 2));
      var cy = Math.max(north, Math.min(south, next.y + next.height / 2));
      return {x: cx - width / 2, y: cy - height / 2, width: width, height: height};
    }

    function areaOf(shown) {
      var west = box[0] + shown.x / scale * 180 / Math.PI;
      var east = box[0] + (shown.x + shown.width) / scale * 180 / Math.PI;
      var northern = latitudeOf(top - shown.y / scale), southern = latitudeOf(top - (shown.y + shown.height) / scale);
      return [Math.max(-180, west), Math.max(-MAX_LATITUDE, southern), Math.min(180, east),
              Math.min(MAX_LATITUDE, northern)].map(round).join(",");
    }

    function show(next) {
      view = next;
      svg.setAttribute("viewBox", [next.x, next.y, next.width, next.height].map(function (v) {
        return v.toFixed(2);
      }).join(" "));
      // Marks keep their size on screen whatever the zoom.
      var factor = next.width / W;
      marks.forEach(function (mark) {
        var c = mark.centre;
        mark.element.setAttribute("transform", factor === 1 ? "" :
          "translate(" + c[0] + " " + c[1] + ") scale(" + factor.toFixed(5) + ") translate(" + -c[0] + " " + -c[1] + ")");
      });
      if (here) {
        var url = new URL(here.href, document.baseURI);
        url.searchParams.set("bbox", areaOf(next));
        here.href = url.pathname + url.search;
        here.hidden = next.x === 0 && next.y === 0 && next.width === W;
      }
      if (!notified) {
        notified = true;
        window.requestAnimationFrame(function () {
          notified = false;
          svg.dispatchEvent(new CustomEvent("fedihub:mapview", {detail: view}));
        });
      }
    }

    function moveTo(next, smoothly) {
      goal = bounded(next);
      window.cancelAnimationFrame(animation);
      if (!smoothly || reduced.matches) {
        show(goal);
        return;
      }
      var from = view, to = goal, started = null;
      animation = window.requestAnimationFrame(function step(now) {
        started = started === null ? now : started;
        var t = Math.min(1, (now - started) / ANIMATION_MS);
        var eased = 1 - Math.pow(1 - t, 3);
        show({x: from.x + (to.x - from.x) * eased, y: from.y + (to.y - from.y) * eased,
              width: from.width + (to.width - from.width) * eased, height: from.height + (to.height - from.height) * eased});
        if (t < 1) {
          animation = window.requestAnimationFrame(step);
        }
      });
    }

    // Zoom by `factor` (below 1 is closer) keeping the spot at (fx, fy), shares of the view, where it is.
    function zoomAround(from, factor, fx, fy, smoothly) {
      var width = Math.max(narrowest, Math.min(widest, from.width * factor));
      var height = width * H / W;
      moveTo({x: from.x + fx * (from.width - width), y: from.y + fy * (from.height - height), width: width,
              height: height}, smoothly);
    }

    function shareOf(clientX, clientY) {
      var rect = svg.getBoundingClientRect();
      return [(clientX - rect.left) / rect.width, (clientY - rect.top) / rect.height];
    }

    // Pointers: one drags, two pinch. A press that never moves stays a click on whatever is under it.
    var pointers = {};
    var gesture = null;
    var dragged = false;

    function startGesture() {
      var ids = Object.keys(pointers);
      var rect = svg.getBoundingClientRect();
      var a = pointers[ids[0]], b = pointers[ids[1]] || a;
      var mid = shareOf((a.x + b.x) / 2, (a.y + b.y) / 2);
      gesture = {view: view, mid: mid, spread: Math.hypot(a.x - b.x, a.y - b.y), pixels: rect.width,
                 moving: gesture !== null && gesture.moving, x: (a.x + b.x) / 2, y: (a.y + b.y) / 2};
    }

    svg.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "mouse" && event.button !== 0) {
        return;
      }
      pointers[event.pointerId] = {x: event.clientX, y: event.clientY};
      dragged = false;
      startGesture();
    });
    svg.addEventListener("pointermove", function (event) {
      if (!pointers[event.pointerId] || gesture === null) {
        return;
      }
      pointers[event.pointerId] = {x: event.clientX, y: event.clientY};
      var ids = Object.keys(pointers);
      var a = pointers[ids[0]], b = pointers[ids[1]] || a;
      var x = (a.x + b.x) / 2, y = (a.y + b.y) / 2;
      if (!gesture.moving) {
        if (Math.hypot(x - gesture.x, y - gesture.y) < DRAG_START && ids.length < 2) {
          return;
        }
        gesture.moving = true;
        ids.forEach(function (id) {
          svg.setPointerCapture(Number(id));
        });
        svg.classList.add("is-dragging");
      }
      dragged = true;
      var from = gesture.view;
      var spread = Math.hypot(a.x - b.x, a.y - b.y);
      var width = ids.length > 1 && spread > 0 ? from.width * gesture.spread / spread : from.width;
      width = Math.max(narrowest, Math.min(widest, width));
      var height = width * H / W;
      var units = width / gesture.pixels;  // viewBox units per screen pixel at the new zoom
      var anchorX = from.x + gesture.mid[0] * from.width, anchorY = from.y + gesture.mid[1] * from.height;
      moveTo({x: anchorX - gesture.mid[0] * width - (x - gesture.x) * units,
              y: anchorY - gesture.mid[1] * height - (y - gesture.y) * units, width: width, height: height}, false);
    });
    function release(event) {
      if (!pointers[event.pointerId]) {
        return;
      }
      delete pointers[event.pointerId];
      if (Object.keys(pointers).length) {
        startGesture();
        return;
      }
      gesture = null;
      svg.classList.remove("is-dragging");
    }
    svg.addEventListener("pointerup", release);
    svg.addEventListener("pointercancel", release);
    // A press on a mark would otherwise start dragging the link itself (and cancel the pointer).
    svg.addEventListener("dragstart", function (event) {
      event.preventDefault();
    });
    // A drag that ends on a mark is not a click on it.
    svg.addEventListener("click", function (event) {
      if (dragged) {
        event.preventDefault();
        event.stopPropagation();
        dragged = false;
      }
    }, true);

    svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      var lines = event.deltaMode === 1 ? 30 : event.deltaMode === 2 ? 300 : 1;
      var at = shareOf(event.clientX, event.clientY);
      zoomAround(view, Math.exp(event.deltaY * lines * 0.002), at[0], at[1], false);
    }, {passive: false});

    svg.setAttribute("tabindex", "0");
    svg.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) {
        return;
      }
      var moves = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
      var zooms = {"+": 0.5, "=": 0.5, "-": 2, "_": 2};
      if (moves[event.key]) {
        var move = moves[event.key];
        moveTo({x: goal.x + move[0] * KEY_STEP * goal.width, y: goal.y + move[1] * KEY_STEP * goal.height,
                width: goal.width, height: goal.height}, true);
      } else if (zooms[event.key]) {
        zoomAround(goal, zooms[event.key], 0.5, 0.5, true);
      } else {
        return;
      }
      event.preventDefault();
    });

    if (controls) {
      Array.prototype.forEach.call(controls.querySelectorAll("[data-map-zoom]"), function (button) {
        button.addEventListener("click", function () {
          zoomAround(goal, button.getAttribute("data-map-zoom") === "in" ? 0.5 : 2, 0.5, 0.5, true);
        });
      });
      controls.hidden = false;
    }
    if (help) {
      help.hidden = false;
      svg.setAttribute("aria-describedby", svg.getAttribute("aria-describedby") + " " + help.id);
    }
    svg.classList.add("is-movable");
    // The tile level follows the map's size on screen.
    window.addEventListener("resize", function () {
      show(view);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.URL || !window.CustomEvent || !window.matchMedia) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("svg.map[data-tiles]"), enable);
  });
})();
