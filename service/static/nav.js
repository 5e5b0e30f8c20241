// The site menu on narrow screens: folded behind a "Menu" button that opens and closes it
// (aria-expanded says which). Wide screens hide the button in CSS and always show the menu.
(function () {
  "use strict";

  function start() {
    var header = document.querySelector(".site-header");
    var toggle = header && header.querySelector(".menu-toggle");
    if (!toggle) {
      return;
    }
    header.setAttribute("data-menu", "closed");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = header.getAttribute("data-menu") !== "open";
      header.setAttribute("data-menu", open ? "open" : "closed");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
