/* fedihub: small progressive enhancement. Every page works without it. */
(function () {
  "use strict";

  // A call's time in the visitor's own zone, next to the server-rendered time in the event's zone.
  function showLocalTimes() {
    var visitorZone;
    try {
      visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    var elements = document.querySelectorAll("[data-local-time]");
    Array.prototype.forEach.call(elements, function (el) {
      var start = new Date(el.getAttribute("data-start"));
      var endText = el.getAttribute("data-end");
      var end = endText ? new Date(endText) : null;
      if (isNaN(start.getTime())) {
        return;
      }
      if (visitorZone && visitorZone === el.getAttribute("data-zone")) {
        el.textContent = "This is also your time zone.";
        el.hidden = false;
        return;
      }
      var format = new Intl.DateTimeFormat(undefined, {
        weekday: "long", day: "numeric", month: "long", hour: "numeric", minute: "2-digit", timeZoneName: "short"
      });
      var text = end && typeof format.formatRange === "function" ? format.formatRange(start, end) : format.format(start);
      el.textContent = "Your time: " + text;
      el.hidden = false;
    });
  }

  function flash(button, message) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    var icon = button.querySelector("svg");
    button.textContent = message;
    if (icon) {
      button.insertBefore(icon, button.firstChild);
    }
    window.setTimeout(function () {
      button.textContent = label;
      if (icon) {
        button.insertBefore(icon, button.firstChild);
      }
    }, 2000);
  }

  // Copy buttons are hidden in the HTML and shown only when copying can work.
  function enableCopyButtons() {
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    document.body.appendChild(live);
    var buttons = document.querySelectorAll("[data-copy-text]");
    Array.prototype.forEach.call(buttons, function (button) {
      if (!navigator.clipboard || !window.isSecureContext) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.getAttribute("data-copy-text")).then(function () {
          flash(button, "Copied");
          live.textContent = "Copied to the clipboard.";
        }, function () {
          live.textContent = "Copying did not work; select the text and copy it yourself.";
        });
      });
    });
  }

  function selectOnFocus() {
    var inputs = document.querySelectorAll("[data-select-on-focus]");
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("focus", function () {
        input.select();
      });
    });
  }

  // E-mail subscription forms send the reader's zone, so messages give times as the reader lives them.
  function fillTimeZones() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    var fields = document.querySelectorAll("[data-timezone-field]");
    Array.prototype.forEach.call(fields, function (field) {
      if (zone && !field.value) {
        field.value = zone;
      }
    });
  }

  function start() {
    showLocalTimes();
    fillTimeZones();
    enableCopyButtons();
    selectOnFocus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
