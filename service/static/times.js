// Times in the viewer's own timezone: the server writes every moment in UTC inside
// <time datetime="ISO 8601">; this rewrites the text to the browser's timezone (named, e.g.
// "2026-03-10 13:00 GMT+1") and keeps the UTC text as the element's title. Without the
// script the page shows UTC, saying so.
(function () {
  "use strict";

  var STAMP = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? UTC/;

  function pad(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function zoneName(moment) {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(moment);
      for (var index = 0; index < parts.length; index += 1) {
        if (parts[index].type === "timeZoneName") {
          return parts[index].value;
        }
      }
    } catch (error) {
      // No Intl: fall through to the offset.
    }
    var offset = -moment.getTimezoneOffset();
    return "UTC" + (offset < 0 ? "-" : "+") + pad(Math.floor(Math.abs(offset) / 60)) + ":" +
      pad(Math.abs(offset) % 60);
  }

  function local(moment, seconds) {
    return moment.getFullYear() + "-" + pad(moment.getMonth() + 1) + "-" + pad(moment.getDate()) +
      " " + pad(moment.getHours()) + ":" + pad(moment.getMinutes()) +
      (seconds ? ":" + pad(moment.getSeconds()) : "") + " " + zoneName(moment);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("time[datetime]"), function (element) {
      var text = element.textContent;
      var found = STAMP.exec(text);
      var stamp = element.getAttribute("datetime");
      if (!found || !stamp) {
        return;
      }
      // Stored in UTC: a stamp without an offset is UTC too.
      var moment = new Date(/(Z|[+-]\d{2}:\d{2})$/.test(stamp) ? stamp : stamp + "Z");
      if (isNaN(moment.getTime())) {
        return;
      }
      element.setAttribute("title", found[0]);
      element.textContent = text.replace(STAMP, local(moment, Boolean(found[1])));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
