// "Run" on a problem page: runs the editor's current code on a sample or on typed input
// through POST /api/v1/runs and shows the result. Nothing is submitted or stored.
(function () {
  "use strict";

  var root = document.querySelector("[data-run]");
  if (!root) {
    return;
  }
  var form = document.getElementById(root.getAttribute("data-run-form"));
  var choice = root.querySelector("[data-run-on]");
  var typed = root.querySelector("[data-run-input]");
  var button = root.querySelector("[data-run-button]");
  var result = root.querySelector("[data-run-result]");

  function field(name, text) {
    var element = result.querySelector("[data-run-" + name + "]");
    if (element) {
      element.textContent = text;
      var block = element.closest("[data-run-block]");
      if (block) {
        block.hidden = !text;
      }
    }
  }

  function showTyped() {
    typed.hidden = choice.value !== "";
  }

  function show(answer) {
    result.hidden = false;
    var verdict = answer.verdict || (answer.status === "done" ? "ran" : answer.status);
    var facts = [verdict];
    if (typeof answer.exit === "number") {
      facts.push("exit " + answer.exit);
    }
    if (typeof answer.time_ms === "number") {
      facts.push(answer.time_ms + " ms");
    }
    if (typeof answer.memory_kb === "number") {
      facts.push(answer.memory_kb + " KB");
    }
    field("summary", facts.join(" · "));
    field("diff", answer.diff ? answer.diff.summary : (answer.message || ""));
    field("stdout", answer.stdout + (answer.stdout_truncated ? "\n[cut at 64 KiB]" : ""));
    field("stderr", answer.stderr + (answer.stderr_truncated ? "\n[cut at 64 KiB]" : ""));
    field("expected", answer.expected || "");
    field("compile", answer.compile_output || "");
  }

  function refused(message) {
    result.hidden = false;
    ["diff", "stdout", "stderr", "expected", "compile"].forEach(function (name) {
      field(name, "");
    });
    field("summary", message);
  }

  function run() {
    var body = {
      problem: root.getAttribute("data-problem"),
      language: form.elements.language.value,
      source: form.elements.source.value
    };
    if (choice.value) {
      body.sample = choice.value;
    } else {
      body.input = typed.value;
    }
    button.disabled = true;
    field("summary", "Running…");
    result.hidden = false;
    fetch("/api/v1/runs", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": root.getAttribute("data-csrf")
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (response.ok) {
          show(answer);
        } else {
          refused(answer.message || ("The run was refused (" + response.status + ")."));
        }
      });
    }, function () {
      refused("The server could not be reached; try again.");
    }).then(function () {
      button.disabled = false;
    });
  }

  choice.addEventListener("change", showTyped);
  button.addEventListener("click", run);
  showTyped();
})();
