// Behaviour of every page, kept out of the HTML so the Content-Security-Policy can forbid inline
// script (script-src 'self').
(function () {
  "use strict";

  // A <select class="js-autosubmit"> submits its form when changed (the role switch, the record
  // kind chooser); each has a button in <noscript> for browsers without JavaScript.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.classList.contains("js-autosubmit") && target.form) {
      target.form.submit();
    }
  });

  // The idle-timeout warning (WCAG 2.2.1): shortly before the session would end for inactivity,
  // a dialog says so and one button keeps the user signed in. Settings come from <body data-*>.
  function startSessionWarning() {
    var body = document.body;
    var idle = Number(body.dataset.sessionIdleSeconds || 0);
    var warnBefore = Number(body.dataset.sessionWarningSeconds || 0);
    var keepaliveUrl = body.dataset.sessionKeepaliveUrl;
    var panel = document.getElementById("session-warning");
    if (!idle || !keepaliveUrl || !panel) {
      return;
    }
    var staySignedIn = document.getElementById("session-stay");
    var remaining = document.getElementById("session-remaining");
    var timers = [];
    var deadline = 0;

    function clearTimers() {
      timers.forEach(clearTimeout);
      timers = [];
    }
    function tick() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      remaining.textContent = String(left);
      if (left > 0) {
        timers.push(setTimeout(tick, 1000));
      } else {
        window.location.reload();  // the server has ended the session: show the log-in page
      }
    }
    function schedule() {
      clearTimers();
      panel.hidden = true;
      deadline = Date.now() + idle * 1000;
      timers.push(setTimeout(function () {
        panel.hidden = false;
        staySignedIn.focus();
        tick();
      }, Math.max(0, (idle - warnBefore) * 1000)));
    }
    staySignedIn.addEventListener("click", function () {
      var token = document.querySelector("input[name=csrfmiddlewaretoken]");
      fetch(keepaliveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {"X-CSRFToken": token ? token.value : ""},
      }).then(function (response) {
        if (response.ok) {
          schedule();
        } else {
          window.location.reload();
        }
      });
    });
    // Every htmx request renews the session on the server as well.
    document.body.addEventListener("htmx:afterRequest", schedule);
    schedule();
  }

  // A link to one item of a form ("…/visit/#lab-anc", the worklist's links and "Save and go to the
  // next missing item") puts the keyboard focus in that item's first field, so typing can start.
  // After a refused save, the focus goes to the summary of what to check.
  function focusTarget() {
    var summary = document.getElementById("visit-errors");
    if (summary) {
      summary.focus();
      return;
    }
    if (!window.location.hash) {
      return;
    }
    var target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    if (!target) {
      return;
    }
    var field = target.matches("input, select, textarea") ? target : target.querySelector(
      "input:not([type=hidden]), select, textarea");
    if (field) {
      field.focus();
    }
  }

  function start() {
    startSessionWarning();
    focusTarget();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
