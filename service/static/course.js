// Course pages: show deadlines in the viewer's own timezone and count down to them.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    weekday: "short", year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  document.querySelectorAll("time.local-time").forEach(function (node) {
    var when = new Date(node.getAttribute("datetime"));
    if (!isNaN(when)) { node.title = node.textContent; node.textContent = format.format(when); }
  });
  function left(ms) {
    var minutes = Math.floor(ms / 60000), days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    return (days ? days + " d " : "") + hours + " h " + (minutes % 60) + " min left";
  }
  function tick() {
    document.querySelectorAll(".countdown").forEach(function (node) {
      var ms = new Date(node.dataset.until) - new Date();
      node.textContent = ms > 0 ? left(ms) : "due time passed: reload for the late credit";
    });
  }
  tick();
  setInterval(tick, 30000);
})();
