// Drive service/static/editor.js on a minimal fake DOM and print one line per check.
// Run by tests/submissions/test_assets.py: `node editor_harness.js path/to/editor.js`.
"use strict";
const fs = require("fs");

function element() {
  return {
    attrs: {},
    children: [],
    listeners: {},
    setAttribute(name, value) { this.attrs[name] = value; },
    getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; },
    hasAttribute(name) { return name in this.attrs; },
    appendChild(child) { this.children.push(child); child.parentNode = this; },
    insertBefore(child) { this.children.push(child); child.parentNode = this; },
    addEventListener(type, listener) { this.listeners[type] = listener; },
  };
}

const form = element();
const area = element();
Object.assign(area, {
  id: "source",
  value: "",
  selectionStart: 0,
  selectionEnd: 0,
  scrollTop: 0,
  focus() {},
  dispatchEvent() {},
  setSelectionRange(start, end) { this.selectionStart = start; this.selectionEnd = end; },
  setRangeText(text, start, end) {
    this.value = this.value.slice(0, start) + text + this.value.slice(end);
  },
});
area.setAttribute("data-editor", "");
form.appendChild(area);
global.Event = function Event() {};
global.document = { readyState: "complete", querySelectorAll: () => [area], createElement: element };

eval(fs.readFileSync(process.argv[2], "utf8")); // eslint-disable-line no-eval

function press(key, extra) {
  let prevented = false;
  const event = Object.assign({ key, preventDefault() { prevented = true; } }, extra || {});
  area.listeners.keydown(event);
  return prevented;
}
function put(value, start, end) {
  area.value = value;
  area.selectionStart = start;
  area.selectionEnd = end === undefined ? start : end;
}
function report(name, got, want) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  console.log(`${ok ? "ok" : "FAIL"} ${name}: ${JSON.stringify(got)}${ok ? "" : " want " + JSON.stringify(want)}`);
}

const wrapper = form.children.find((child) => child.className === "editor");
const gutter = wrapper.children.find((child) => child.className === "editor-gutter");
report("wrapped with a gutter", [wrapper.children.length, gutter.attrs["aria-hidden"]], [2, "true"]);
report("hint linked", area.attrs["aria-describedby"], "source-hint");

put("ab", 1);
report("tab inserts spaces", [press("Tab"), area.value, area.selectionStart], [true, "a    b", 5]);
put("if x:\n    y", 11);
report("enter keeps indent", [press("Enter"), area.value, area.selectionStart], [true, "if x:\n    y\n    ", 16]);
put("a\nb\nc", 0, 3);
press("Tab");
report("tab indents lines", [area.value, area.selectionStart, area.selectionEnd], ["    a\n    b\nc", 4, 11]);
put("    a\n  b\n\tc", 2, 11);
press("Tab", { shiftKey: true });
report("shift-tab dedents", [area.value, area.selectionStart, area.selectionEnd], ["a\nb\nc", 0, 4]);
put("x", 1);
press("Escape");
report("escape then tab leaves", [press("Tab"), area.value], [false, "x"]);
report("then tab indents again", press("Tab"), true);
report("ctrl-tab is left alone", press("Tab", { ctrlKey: true }), false);
put("a\nb\nc", 0);
area.listeners.input();
report("gutter numbers lines", gutter.textContent, "1\n2\n3");
area.scrollTop = 40;
area.listeners.scroll();
report("gutter follows scrolling", gutter.scrollTop, 40);
