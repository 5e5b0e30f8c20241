// Live verdicts on a submission page: a WebSocket brings a snapshot and then each event;
// without WebSockets (or when the socket fails) the page polls the JSON state every second.
// The server sends a fresh snapshot whenever it re-reads the state (a judging in another
// process, a rejudge); events of any judging but the latest snapshot's are ignored.
// A socket that brings nothing within HANDSHAKE_MS (a proxy that swallows the upgrade) is
// given up for polling too. Verdicts are shown in words beside their code, as the server
// renders them (service/submissions/wording.py).
// Everything the script needs is in data-* attributes; the CSP allows no inline script.
(function () {
  "use strict";

  var POLL_MS = 1000;
  var HANDSHAKE_MS = 4000;
  var WORDS = {
    AC: "Accepted", WA: "Wrong answer", TLE: "Time limit exceeded",
    MLE: "Memory limit exceeded", RE: "Run-time error", OLE: "Output limit exceeded",
    CE: "Compile error", JE: "Judge error"
  };

  var root = document.querySelector("[data-live-submission]");
  if (!root || root.getAttribute("data-status") === "done") {
    return;
  }
  var rows = root.querySelector("[data-test-rows]");
  var progress = root.querySelector("[data-progress]");
  var progressText = root.querySelector("[data-progress-text]");
  var finished = false;
  var polling = false;
  var judgingId = null; // the judging the page shows: the latest snapshot's
  var refreshing = false;
  var refreshAgain = false;

  function badge(className, text) {
    var span = document.createElement("span");
    span.className = "badge " + className;
    span.textContent = text;
    return span;
  }

  function verdictWords(code) {
    return WORDS[code] || code;
  }

  // The verdict in words, then its code as a badge: "Wrong answer on test 3" [WA].
  function verdictLabel(code, words) {
    var label = document.createElement("span");
    label.className = "verdict-label";
    var text = document.createElement("span");
    text.className = "verdict-words";
    text.textContent = words;
    label.appendChild(text);
    label.appendChild(badge("verdict-" + code, code));
    return label;
  }

  function notRunLabel() {
    var label = document.createElement("span");
    label.textContent = "not run";
    return label;
  }

  function firstFailure(tests) {
    var failed = null;
    tests.forEach(function (test) {
      if (test.verdict && test.verdict !== "AC" && (failed === null || test.index < failed)) {
        failed = test.index;
      }
    });
    return failed === null ? null : failed + 1;
  }

  function statusLabel(state, status, tests) {
    if (status === "done" && state.verdict) {
      var words = verdictWords(state.verdict);
      var failed = firstFailure(tests);
      if (failed !== null && ["AC", "CE", "JE"].indexOf(state.verdict) === -1) {
        words += " on test " + failed;
      }
      return verdictLabel(state.verdict, words);
    }
    var waiting = document.createElement("span");
    waiting.className = "verdict-words status-" + status;
    var ahead = Number(state.queue_ahead) || 0;
    waiting.textContent = status === "queued"
      ? "Waiting for a judge" + (ahead ? " (" + ahead + " ahead of you)" : "")
      : "Running";
    return waiting;
  }

  function setChild(element, child) {
    while (element.firstChild) {
      element.removeChild(element.firstChild);
    }
    if (child !== null) {
      element.appendChild(child);
    }
  }

  function rowFor(index) {
    var row = rows.querySelector('tr[data-test-index="' + index + '"]');
    if (row) {
      return row;
    }
    row = document.createElement("tr");
    row.setAttribute("data-test-index", String(index));
    ["test-index", "test-name", "test-verdict", "test-time", "test-memory", "test-message"]
      .forEach(function (name) {
        var cell = document.createElement("td");
        cell.className = name;
        row.appendChild(cell);
      });
    row.querySelector(".test-index").textContent = String(index + 1);
    // Keep the rows in test order even when they arrive out of order.
    var after = null;
    Array.prototype.forEach.call(rows.children, function (other) {
      if (after === null && Number(other.getAttribute("data-test-index")) > index) {
        after = other;
      }
    });
    rows.insertBefore(row, after);
    return row;
  }

  function showTest(test) {
    if (test === null || typeof test !== "object" || typeof test.index !== "number") {
      return;
    }
    var row = rowFor(test.index);
    row.classList.remove("pending");
    row.querySelector(".test-name").textContent = test.name || "";
    setChild(row.querySelector(".test-verdict"),
      test.verdict ? verdictLabel(test.verdict, verdictWords(test.verdict)) : null);
    row.querySelector(".test-time").textContent =
      typeof test.time_ms === "number" ? test.time_ms + " ms" : "";
    row.querySelector(".test-memory").textContent =
      typeof test.memory_kb === "number" ? test.memory_kb + " KB" : "";
    row.querySelector(".test-message").textContent = test.message || "";
  }

  function showProgress(done, total) {
    var max = Math.max(total, done, 1);
    progress.max = max;
    progress.value = done;
    progressText.textContent = done + " of " + Math.max(total, done) + " tests judged";
  }

  function countDone() {
    return rows.querySelectorAll("tr[data-test-index]:not(.pending)").length;
  }

  function showState(state) {
    if (!state || typeof state !== "object") {
      return;
    }
    if (typeof state.judging_id === "number") {
      judgingId = state.judging_id;
    }
    var total = Number(state.tests_total) || 0;
    var tests = Array.isArray(state.tests) ? state.tests : [];
    var status = state.status || "queued";
    var notRun = status === "done" && state.verdict === "CE";
    var known = {};
    tests.forEach(function (test) {
      known[test.index] = true;
      showTest(test);
    });
    // A rejudge starts over: rows not in the new state go back to pending.
    Array.prototype.forEach.call(rows.querySelectorAll("tr[data-test-index]"), function (row) {
      var index = Number(row.getAttribute("data-test-index"));
      if (!known[index]) {
        row.classList.toggle("pending", !notRun);
        row.classList.toggle("not-run", notRun);
        setChild(row.querySelector(".test-verdict"),
          notRun ? notRunLabel() : badge("status-queued", "…"));
        ["test-time", "test-memory", "test-message"].forEach(function (name) {
          row.querySelector("." + name).textContent = "";
        });
      }
    });
    for (var index = 0; index < total; index += 1) {
      if (!known[index]) {
        var added = rowFor(index);
        added.classList.toggle("pending", !notRun);
        if (notRun) {
          added.classList.add("not-run");
          setChild(added.querySelector(".test-verdict"), notRunLabel());
        }
      }
    }
    var done = typeof state.tests_done === "number" ? state.tests_done : tests.length;
    showProgress(done, total);
    if (notRun) {
      progressText.textContent = "No test ran: the program did not compile";
    }

    root.setAttribute("data-status", status);
    var verdict = root.querySelector("[data-verdict]");
    if (verdict) {
      setChild(verdict, statusLabel(state, status, tests));
    }
    var summary = root.querySelector("[data-judge-message]");
    if (summary) {
      summary.textContent = state.message || "";
      summary.hidden = !state.message;
    }
    var score = root.querySelector("[data-score]");
    if (score) {
      score.textContent = typeof state.score === "number"
        ? Math.round(state.score * 100) + "%" : "–";
    }
    var compile = root.querySelector("[data-compile]");
    var compileOutput = root.querySelector("[data-compile-output]");
    if (compile && compileOutput) {
      compileOutput.textContent = state.compile_output || "";
      compile.hidden = !state.compile_output;
    }
    var counted = root.querySelector("[data-feedback-summary]");
    if (counted && state.summary && typeof state.summary === "object") {
      // Tests the feedback policy only counts: never listed, so only this line changes.
      counted.textContent = "Tests only counted: " + state.summary.passed + " of " +
        state.summary.total + " passed" + (state.summary.done < state.summary.total
          ? " (" + state.summary.done + " judged so far)" : "") + ".";
    }
    if (status === "done") {
      finished = true;
    }
  }

  function fetchState() {
    return fetch(root.getAttribute("data-state-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store"
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("state request failed: " + response.status);
      }
      return response.json();
    }).then(showState);
  }

  function poll() {
    if (polling) {
      return;
    }
    polling = true;
    function again() {
      if (!finished) {
        window.setTimeout(tick, POLL_MS);
      }
    }
    function tick() {
      fetchState().then(again, again);
    }
    tick();
  }

  function refresh() {
    // Read the state once more; a request during a read reads again after it. On failure
    // fall back to polling.
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    refreshAgain = false;
    fetchState().then(function () {
      refreshing = false;
      if (refreshAgain) {
        refresh();
      }
    }, function () {
      refreshing = false;
      poll();
    });
  }

  function otherJudging(message) {
    // An event of a judging other than the shown one: a rejudge superseded one of the two.
    var id = message.judging_id;
    if (typeof id !== "number" || judgingId === null || id === judgingId) {
      return false;
    }
    if (id > judgingId) {
      refresh(); // a newer judging: show its state instead
    }
    return true;
  }

  function handle(message) {
    if (message === null || typeof message !== "object") {
      return;
    }
    if (message.type !== "snapshot" && otherJudging(message)) {
      return;
    }
    switch (message.type) {
      case "snapshot":
        showState(message.state);
        break;
      case "test":
        showTest(message.test && typeof message.test === "object" ? message.test : message);
        showProgress(countDone(), Number(progress.max) || 0);
        break;
      case "status":
      case "compile":
      case "done":
        // These carry less than the state: read it once.
        refresh();
        break;
      default:
        break;
    }
  }

  function connect() {
    if (!("WebSocket" in window)) {
      poll();
      return;
    }
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var socket;
    try {
      socket = new WebSocket(scheme + "//" + window.location.host + root.getAttribute("data-live-url"));
    } catch (error) {
      poll();
      return;
    }
    var heard = false;
    var closed = false;
    // A handshake nobody answers never fires "close": give up on the socket after a while.
    window.setTimeout(function () {
      if (!heard && !closed && !finished) {
        closed = true;
        socket.close();
        poll();
      }
    }, HANDSHAKE_MS);
    socket.addEventListener("message", function (event) {
      heard = true;
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handle(message);
    });
    socket.addEventListener("close", function () {
      closed = true;
      // Closed before the verdict (refused, network, server restart): fall back to polling.
      if (!finished) {
        poll();
      }
    });
  }

  connect();
})();
