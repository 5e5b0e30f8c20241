// A small code editor over a plain <textarea data-editor>: Tab indents, Shift+Tab dedents,
// Enter keeps the indentation, and a gutter shows line numbers. Escape then Tab leaves the
// field, so keyboard users are never trapped. Without this script the textarea still works.
(function () {
  "use strict";

  var INDENT = "    ";

  function lineStart(text, position) {
    return text.lastIndexOf("\n", position - 1) + 1;
  }

  // Replace text[start, end) and keep the browser's undo history when it can.
  function replaceRange(area, start, end, text, selectStart, selectEnd) {
    area.focus();
    area.setSelectionRange(start, end);
    var done = false;
    try {
      done = document.execCommand("insertText", false, text);
    } catch (error) {
      done = false;
    }
    if (!done || area.value.substring(start, start + text.length) !== text) {
      area.setRangeText(text, start, end, "end");
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
    area.setSelectionRange(selectStart, selectEnd);
  }

  function indentOrDedent(area, dedent) {
    var text = area.value;
    var start = area.selectionStart;
    var end = area.selectionEnd;
    if (!dedent && text.substring(start, end).indexOf("\n") === -1) {
      replaceRange(area, start, end, INDENT, start + INDENT.length, start + INDENT.length);
      return;
    }
    var blockStart = lineStart(text, start);
    // A selection ending right after a newline does not include the next line.
    var blockEnd = end > start && text.charAt(end - 1) === "\n" ? end - 1 : end;
    var lineEnd = text.indexOf("\n", blockEnd);
    if (lineEnd === -1) {
      lineEnd = text.length;
    }
    var lines = text.substring(blockStart, lineEnd).split("\n");
    var firstChange = 0;
    var total = 0;
    var changed = lines.map(function (line, number) {
      var delta;
      var result;
      if (dedent) {
        var spaces = /^( {1,4}|\t)/.exec(line);
        delta = spaces ? -spaces[0].length : 0;
        result = line.substring(-delta);
      } else {
        delta = INDENT.length;
        result = INDENT + line;
      }
      if (number === 0) {
        firstChange = delta;
      }
      total += delta;
      return result;
    });
    var newStart = Math.max(blockStart, start + firstChange);
    var newEnd = Math.max(newStart, end + total);
    replaceRange(area, blockStart, lineEnd, changed.join("\n"), newStart, newEnd);
  }

  function newlineKeepingIndent(area) {
    var text = area.value;
    var start = area.selectionStart;
    var current = text.substring(lineStart(text, start), start);
    var indent = /^[ \t]*/.exec(current)[0];
    var insert = "\n" + indent;
    replaceRange(area, start, area.selectionEnd, insert, start + insert.length, start + insert.length);
  }

  function enhance(area) {
    area.setAttribute("wrap", "off"); // one text line per gutter number
    var wrapper = document.createElement("div");
    wrapper.className = "editor";
    var gutter = document.createElement("div");
    gutter.className = "editor-gutter";
    gutter.setAttribute("aria-hidden", "true");
    area.parentNode.insertBefore(wrapper, area);
    wrapper.appendChild(gutter);
    wrapper.appendChild(area);

    var hint = document.createElement("p");
    hint.className = "editor-hint";
    hint.id = (area.id || "editor") + "-hint";
    hint.textContent = "Tab indents and Shift+Tab dedents. To leave the editor, press Escape, then Tab.";
    wrapper.parentNode.insertBefore(hint, wrapper.nextSibling);
    var described = area.getAttribute("aria-describedby");
    area.setAttribute("aria-describedby", described ? described + " " + hint.id : hint.id);

    var shownLines = 0;
    function renumber() {
      var count = area.value.split("\n").length;
      if (count !== shownLines) {
        var numbers = [];
        for (var line = 1; line <= count; line += 1) {
          numbers.push(line);
        }
        gutter.textContent = numbers.join("\n");
        shownLines = count;
      }
      gutter.scrollTop = area.scrollTop;
    }

    var leaving = false; // set by Escape: the next Tab moves focus as usual
    area.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        leaving = true;
        return;
      }
      if (event.key === "Tab") {
        if (leaving || event.ctrlKey || event.altKey || event.metaKey) {
          leaving = false;
          return;
        }
        event.preventDefault();
        indentOrDedent(area, event.shiftKey);
        renumber();
        return;
      }
      leaving = false;
      if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.altKey &&
          !event.metaKey && !event.isComposing) {
        event.preventDefault();
        newlineKeepingIndent(area);
        renumber();
      }
    });
    area.addEventListener("blur", function () {
      leaving = false;
    });
    area.addEventListener("input", renumber);
    area.addEventListener("scroll", function () {
      gutter.scrollTop = area.scrollTop;
    });
    renumber();
  }

  function start() {
    var areas = document.querySelectorAll("textarea[data-editor]");
    for (var index = 0; index < areas.length; index += 1) {
      if (!areas[index].hasAttribute("data-editor-ready")) {
        areas[index].setAttribute("data-editor-ready", "");
        enhance(areas[index]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
