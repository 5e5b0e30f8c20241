// Drive service/static/run.js on a tiny fake DOM with a fake fetch; print one line per check.
// Run by tests/runs/test_run_button.py: `node run_harness.js path/to/run.js`.
"use strict";
const fs = require("fs");

class Element {
  constructor(attrs = {}, parent = null) {
    this.attrs = attrs;
    this.parent = parent;
    this.children = [];
    this.hidden = false;
    this.disabled = false;
    this.value = "";
    this.textContent = "";
    this.listeners = {};
    if (parent) parent.children.push(this);
  }
  getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; }
  addEventListener(kind, handler) { this.listeners[kind] = handler; }
  fire(kind) { this.listeners[kind](); }
  all() { return [this, ...this.children.flatMap((child) => child.all())]; }
  querySelector(selector) {
    const name = selector.slice(1, -1);
    return this.all().slice(1).find((element) => name in element.attrs) || null;
  }
  closest(selector) {
    const name = selector.slice(1, -1);
    for (let element = this; element; element = element.parent) {
      if (name in element.attrs) return element;
    }
    return null;
  }
}

const body = new Element();
const form = new Element({ id: "submit-form" }, body);
form.elements = { language: { value: "python3" }, source: { value: "print(input())" } };
const root = new Element(
  { "data-run": "", "data-run-form": "submit-form", "data-problem": "hello", "data-csrf": "tok" },
  body,
);
const choice = new Element({ "data-run-on": "" }, root);
choice.value = "1";
const typed = new Element({ "data-run-input": "" }, root);
const button = new Element({ "data-run-button": "" }, root);
const result = new Element({ "data-run-result": "" }, root);
result.hidden = true;
const fields = {};
for (const name of ["summary", "diff", "stdout", "stderr", "expected", "compile"]) {
  const block = name === "summary" ? result : new Element({ "data-run-block": "" }, result);
  fields[name] = new Element({ ["data-run-" + name]: "" }, block);
}

const sent = [];
let answer = null;
global.document = {
  querySelector: (selector) => body.querySelector(selector),
  getElementById: (id) => body.all().find((element) => element.attrs.id === id) || null,
};
global.fetch = (url, options) => {
  sent.push({ url, options });
  return Promise.resolve({ ok: answer.status === 200, status: answer.status, json: () => Promise.resolve(answer.body) });
};

function check(what, ok) {
  console.log((ok ? "ok " : "FAIL ") + what);
}

eval(fs.readFileSync(process.argv[2], "utf8"));
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

(async () => {
  check("typed input hidden while a sample is chosen", typed.hidden === true);
  answer = { status: 200, body: {
    status: "done", verdict: "WA", exit: 0, time_ms: 12, memory_kb: 900, stdout: "hello\n",
    stderr: "", stdout_truncated: false, stderr_truncated: false, expected: "Hello\n",
    compile_output: "", message: "", diff: { token: 1, summary: "Token 1 differs" } } };
  button.fire("click");
  await settle(); await settle();
  const request = JSON.parse(sent[0].options.body);
  check("sends the sample, the code and the CSRF header",
    request.sample === "1" && request.source === "print(input())" && !("input" in request)
    && sent[0].options.headers["X-CSRF-Token"] === "tok");
  check("shows verdict, time and the diff",
    fields.summary.textContent === "WA · exit 0 · 12 ms · 900 KB"
    && fields.diff.textContent === "Token 1 differs" && !result.hidden);
  check("shows output beside the expected answer",
    fields.stdout.textContent === "hello\n" && fields.expected.textContent === "Hello\n"
    && fields.stderr.parent.hidden === true);
  choice.value = "";
  choice.fire("change");
  typed.value = "42\n";
  check("typed input shown for my own input", typed.hidden === false);
  answer = { status: 429, body: { error: "run_in_progress", message: "wait for it" } };
  button.fire("click");
  await settle(); await settle();
  const second = JSON.parse(sent[1].options.body);
  check("sends the typed input", second.input === "42\n" && !("sample" in second));
  check("shows a refusal's message and enables the button again",
    fields.summary.textContent === "wait for it" && fields.stdout.textContent === ""
    && button.disabled === false);
})();
