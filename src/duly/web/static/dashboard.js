// duly dashboard: queue countdowns and refresh. Plain script, no library, no build step.
//
// Each countdown starts from the seconds-to-due the server rendered and subtracts the time
// elapsed since this page (or the refreshed rows) arrived, measured with the monotonic
// performance clock: the browser's own wall clock may be wrong, the elapsed time is not.
"use strict";

(function () {
  function duration(seconds) {
    var rest = Math.floor(Math.abs(seconds));
    var days = Math.floor(rest / 86400);
    rest -= days * 86400;
    var hours = Math.floor(rest / 3600);
    rest -= hours * 3600;
    var minutes = Math.floor(rest / 60);
    var secs = rest - minutes * 60;
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (days) { return days + "d " + hours + "h"; }
    if (hours) { return hours + "h " + two(minutes) + "m"; }
    return minutes + "m " + two(secs) + "s";
  }

  function announce(text) {
    var region = document.getElementById("queue-announcer");
    if (region) { region.textContent = text; }
  }

  function markBreached(countdown) {
    var row = countdown.closest("tr");
    if (!row) { return; }
    var badge = row.querySelector(".badge");
    if (!badge || badge.getAttribute("data-state") === "breached") { return; }
    badge.setAttribute("data-state", "breached");
    badge.className = "badge badge-breached";
    badge.textContent = "breached";
    row.className = "state-breached";
    announce("Ticket " + row.getAttribute("data-ticket") + ": " +
             row.getAttribute("data-metric") + " breached");
  }

  function tick() {
    var now = performance.now();
    var countdowns = document.querySelectorAll(".countdown[data-due-in-s]");
    for (var i = 0; i < countdowns.length; i++) {
      var el = countdowns[i];
      if (!el.hasAttribute("data-t0")) { el.setAttribute("data-t0", String(now)); }
      var elapsed = (now - parseFloat(el.getAttribute("data-t0"))) / 1000;
      var left = parseFloat(el.getAttribute("data-due-in-s")) - elapsed;
      el.textContent = left >= 0 ? duration(left) : "overdue " + duration(-left);
      if (left < 0) { markBreached(el); }
    }
  }

  function refresh(table) {
    var seconds = parseFloat(table.getAttribute("data-refresh-s"));
    if (!(seconds > 0)) { return; }
    window.setInterval(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("queue");
          var current = document.getElementById("queue");
          if (fresh && current) {
            current.replaceWith(document.importNode(fresh, true));
            tick();
          }
        })
        .catch(function () { /* the next refresh tries again */ });
    }, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    if (document.getElementById("queue")) { window.setInterval(tick, 1000); }
    var table = document.getElementById("queue");
    if (table) { refresh(table); }
  });
})();
