// Drive service/static/live.js on a minimal fake DOM with a fake WebSocket and fetch, and print
// one line per check. Run by tests/submissions/test_assets.py:
// `node live_harness.js path/to/live.js websocket|dropped|silent|polling|rejudge`.
"use strict";
const fs = require("fs");

// ---- a tiny DOM: elements, classes, attributes and the few selectors live.js uses
class Element {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.attrs = {};
    this.children = [];
    this.parentNode = null;
    this.text = "";
    this.hidden = false;
    const classes = new Set();
    this.classList = {
      add: (name) => classes.add(name),
      remove: (name) => classes.delete(name),
      contains: (name) => classes.has(name),
      toggle: (name, force) => (force ? classes.add(name) : classes.delete(name), force),
    };
    this._classes = classes;
  }
  get className() { return [...this._classes].join(" "); }
  set className(value) { this._classes.clear(); value.split(/\s+/).filter(Boolean).forEach((c) => this._classes.add(c)); }
  get firstChild() { return this.children[0] || null; }
  get textContent() { return this.text + this.children.map((child) => child.textContent).join(""); }
  set textContent(value) { this.children = []; this.text = String(value); }
  setAttribute(name, value) { this.attrs[name] = String(value); }
  getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; }
  hasAttribute(name) { return name in this.attrs; }
  appendChild(child) { return this.insertBefore(child, null); }
  insertBefore(child, before) {
    this.text = "";
    const at = before === null ? this.children.length : this.children.indexOf(before);
    this.children.splice(at, 0, child);
    child.parentNode = this;
    return child;
  }
  removeChild(child) { this.children.splice(this.children.indexOf(child), 1); return child; }
  descendants() { return this.children.flatMap((child) => [child, ...child.descendants()]); }
  matches(selector) {
    const parts = /^([a-z]*)((?:\[[^\]]+\]|\.[\w-]+|:not\(\.[\w-]+\))*)$/.exec(selector);
    if (!parts) throw new Error("unsupported selector " + selector);
    if (parts[1] && parts[1].toUpperCase() !== this.tagName) return false;
    const tests = parts[2].match(/\[[^\]]+\]|\.[\w-]+|:not\(\.[\w-]+\)/g) || [];
    return tests.every((test) => {
      if (test.startsWith(".")) return this._classes.has(test.slice(1));
      if (test.startsWith(":not(")) return !this._classes.has(test.slice(6, -1));
      const [, name, value] = /^\[([\w-]+)(?:="([^"]*)")?\]$/.exec(test);
      return value === undefined ? name in this.attrs : this.attrs[name] === value;
    });
  }
  querySelectorAll(selector) { return this.descendants().filter((node) => node.matches(selector)); }
  querySelector(selector) { return this.querySelectorAll(selector)[0] || null; }
}

function build(tag, attrs, children) {
  const node = new Element(tag);
  Object.entries(attrs || {}).forEach(([name, value]) => node.setAttribute(name, value));
  (children || []).forEach((child) => node.appendChild(child));
  return node;
}

const rows = build("tbody", { "data-test-rows": "" });
const pendingRow = build("tr", { "data-test-index": "1" }, [
  "test-index", "test-name", "test-verdict", "test-time", "test-memory", "test-message",
].map((name) => { const cell = build("td"); cell.className = name; return cell; }));
pendingRow.classList.add("pending");
rows.appendChild(pendingRow);
const progress = build("progress", { "data-progress": "" });
progress.max = 1;
progress.value = 0;
const compileOutput = build("pre", { "data-compile-output": "" });
const compile = build("div", { "data-compile": "" }, [compileOutput]);
compile.hidden = true;
const root = build("section", {
  "data-live-submission": "", "data-live-url": "/submissions/7/live",
  "data-state-url": "/submissions/7/state", "data-status": "queued",
}, [
  build("dd", { "data-verdict": "" }), build("dd", { "data-score": "" }), progress,
  build("span", { "data-progress-text": "" }), compile, rows, build("p", { "data-feedback-summary": "" }),
]);

// ---- the browser around it
const mode = process.argv[3];
const finalState = {
  status: "done", verdict: "CE", score: 0, tests_total: 2, tests_done: 0, tests: [],
  compile_output: "main.c:1: error: <script>", summary: { passed: 1, done: 3, total: 3 },
};
const fetched = [];
let sockets = [];
const timers = []; // the delay of every timer set
global.document = { querySelector: (s) => root.querySelector(s) || (root.matches(s) ? root : null), createElement: (tag) => new Element(tag) };
global.window = {
  location: { protocol: "https:", host: "verdict.test" },
  setTimeout: (callback, ms) => { timers.push(ms); setImmediate(callback); },
};
global.fetch = (url, options) => {
  fetched.push([url, options.headers.Accept]);
  return Promise.resolve({ ok: true, json: () => Promise.resolve(finalState) });
};
if (mode !== "polling") {
  window.WebSocket = function FakeSocket(url) {
    this.url = url;
    this.listeners = {};
    this.closed = 0;
    this.addEventListener = (type, listener) => { this.listeners[type] = listener; };
    this.close = () => { this.closed += 1; };
    sockets.push(this);
  };
  global.WebSocket = window.WebSocket;
}

function report(name, got, want) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  console.log(`${ok ? "ok" : "FAIL"} ${name}: ${JSON.stringify(got)}${ok ? "" : " want " + JSON.stringify(want)}`);
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

eval(fs.readFileSync(process.argv[2], "utf8")); // eslint-disable-line no-eval

(async () => {
  if (mode === "websocket") {
    report("connects over wss", sockets.map((socket) => socket.url), ["wss://verdict.test/submissions/7/live"]);
    const socket = sockets[0];
    const send = (message) => socket.listeners.message({ data: JSON.stringify(message) });
    send({ type: "snapshot", state: { status: "running", tests_total: 2, tests_done: 1, compile_output: "",
      tests: [{ index: 0, name: "sample/1", verdict: "AC", time_ms: 12, memory_kb: 900, message: "" }] } });
    const first = rows.querySelector('tr[data-test-index="0"]');
    report("snapshot row", [first.querySelector(".test-name").textContent, first.querySelector(".test-verdict").textContent, first.querySelector(".test-time").textContent], ["sample/1", "AcceptedAC", "12 ms"]);
    report("rows in order", rows.children.map((row) => row.getAttribute("data-test-index")), ["0", "1"]);
    report("progress after snapshot", [progress.value, progress.max, root.querySelector("[data-progress-text]").textContent], [1, 2, "1 of 2 tests judged"]);
    report("status in words", root.querySelector("[data-verdict]").textContent, "Running");
    send({ type: "test", index: 1, name: "secret/1", verdict: "WA", time_ms: 8, memory_kb: 700, message: "<b>line 1</b>" });
    report("test event fills the pending row", [pendingRow.classList.contains("pending"), pendingRow.querySelector(".test-verdict").textContent, pendingRow.querySelector(".test-message").textContent], [false, "Wrong answerWA", "<b>line 1</b>"]);
    report("progress after test", [progress.value, root.querySelector("[data-progress-text]").textContent], [2, "2 of 2 tests judged"]);
    send("a string");
    send({ type: "unknown" });
    socket.listeners.message({ data: "{not json" });
    send({ type: "done" });
    await tick(); await tick();
    report("done reads the state once", fetched, [["/submissions/7/state", "application/json"]]);
    report("the counted tests' line follows the state", root.querySelector("[data-feedback-summary]").textContent, "Tests only counted: 1 of 3 passed.");
    socket.listeners.close({});
    await tick(); await tick();
    report("no polling once done", [fetched.length, timers.filter((ms) => ms === 1000).length], [1, 0]);
  } else if (mode === "rejudge") {
    const socket = sockets[0];
    const send = (message) => socket.listeners.message({ data: JSON.stringify(message) });
    const cells = (index) => {
      const row = rows.querySelector(`tr[data-test-index="${index}"]`);
      return [row.classList.contains("pending"), row.querySelector(".test-verdict").textContent, row.querySelector(".test-message").textContent];
    };
    send({ type: "snapshot", state: { status: "running", judging_id: 5, tests_total: 2, tests_done: 1,
      tests: [{ index: 0, name: "sample/1", verdict: "AC", time_ms: 1, memory_kb: 1, message: "" }] } });
    send({ type: "test", judging_id: 4, index: 1, name: "secret/1", verdict: "WA", time_ms: 2, memory_kb: 2, message: "old" });
    await tick(); await tick();
    report("an older judging's event is ignored", [cells(1)[0], fetched.length], [true, 0]);
    // A rejudge seen by the server: a new snapshot replaces what is shown.
    send({ type: "snapshot", state: { status: "running", judging_id: 6, tests_total: 2, tests_done: 1,
      tests: [{ index: 1, name: "secret/1", verdict: "TLE", time_ms: 3, memory_kb: 3, message: "" }] } });
    report("a repeated snapshot re-renders", [cells(0), cells(1), progress.value], [[true, "…", ""], [false, "Time limit exceededTLE", ""], 1]);
    send({ type: "test", judging_id: 5, index: 0, name: "sample/1", verdict: "AC", time_ms: 1, memory_kb: 1, message: "stale" });
    report("the superseded judging's event is ignored", cells(0), [true, "…", ""]);
    send({ type: "test", judging_id: 6, index: 0, name: "sample/1", verdict: "WA", time_ms: 1, memory_kb: 1, message: "m" });
    report("the shown judging's event is applied", cells(0), [false, "Wrong answerWA", "m"]);
    send({ type: "test", judging_id: 7, index: 0, name: "sample/1", verdict: "AC", time_ms: 1, memory_kb: 1, message: "" });
    send({ type: "test", judging_id: 7, index: 1, name: "secret/1", verdict: "AC", time_ms: 1, memory_kb: 1, message: "" });
    send({ type: "done", judging_id: 7 });
    await tick(); await tick(); await tick(); await tick();
    // The first read starts at once; the events during it ask for one more read, not three.
    report("a newer judging's events read the state instead", [cells(0)[1], fetched.length], ["not run", 2]);
  } else if (mode === "dropped") {
    sockets[0].listeners.close({});
    await tick(); await tick();
    report("polls after the socket drops", fetched, [["/submissions/7/state", "application/json"]]);
  } else if (mode === "silent") {
    // A proxy swallowed the upgrade: no message, no close. The handshake timer gives up.
    await tick(); await tick(); await tick();
    report("gives up a silent socket and polls", [sockets[0].closed, fetched], [1, [["/submissions/7/state", "application/json"]]]);
  } else {
    await tick(); await tick();
    report("polls without websockets", fetched, [["/submissions/7/state", "application/json"]]);
  }
  report("final verdict", [root.getAttribute("data-status"), root.querySelector("[data-verdict]").textContent], ["done", "Compile errorCE"]);
  report("compile output as text", [compile.hidden, compileOutput.textContent], [false, "main.c:1: error: <script>"]);
  report("after a compile error no row is left pending", [rows.querySelectorAll("tr[data-test-index].pending").length, rows.querySelectorAll("tr[data-test-index].not-run").length, rows.children.map((row) => row.querySelector(".test-verdict").textContent)], [0, 2, ["not run", "not run"]]);
})();
