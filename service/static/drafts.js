// Keeps the code of each problem in this browser (localStorage) as it is typed, so a reload, a
// refused submission (too large, a stale form) or a closed tab never loses it, and remembers
// the language last chosen. textarea[data-draft="KEY"] and select[data-remember="KEY"] name
// their keys (per person, per problem). Without storage (private windows, old browsers) the
// form works as before.
(function () {
  "use strict";

  var storage;
  try {
    storage = window.localStorage;
    storage.getItem("verdict");
  } catch (error) {
    return;
  }

  function save(key, value) {
    try {
      if (value) {
        storage.setItem(key, value);
      } else {
        storage.removeItem(key);
      }
    } catch (error) {
      // Full or refused: the draft is only a convenience.
    }
  }

  function keepDraft(area) {
    var key = area.getAttribute("data-draft");
    var saved = storage.getItem(key);
    if (!area.value && saved) {
      area.value = saved;
      area.dispatchEvent(new Event("input", { bubbles: true }));
      var note = document.createElement("p");
      note.className = "editor-hint";
      note.setAttribute("role", "status");
      note.textContent = "Your draft, kept in this browser, is back in the editor.";
      area.parentNode.insertBefore(note, area.nextSibling);
    }
    area.addEventListener("input", function () {
      save(key, area.value);
    });
  }

  function rememberChoice(select) {
    var key = select.getAttribute("data-remember");
    var saved = storage.getItem(key);
    var offered = Array.prototype.some.call(select.options, function (option) {
      return option.value === saved;
    });
    if (saved && offered) {
      select.value = saved;
    }
    select.addEventListener("change", function () {
      save(key, select.value);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-draft]"), keepDraft);
    Array.prototype.forEach.call(document.querySelectorAll("select[data-remember]"), rememberChoice);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
