/* notifica portal: comfort only. Every page works without this file; the server checks
   everything again. No inline script anywhere (CSP script-src 'self').

   1. Live check of the upload code, mirroring notifica.portal._codes.diagnose_code and
      feedback exactly (tests/portal/test_browser.py compares the two on many inputs).
      The alphabet and check arithmetic come from the page (data-otp-rules), derived
      server-side from notifica.protocol; nothing about the OTP is hard-coded here.
   2. The onset-date warning (more than 14 days ago) and the future-date message.
   3. The countdown of an authorised code's life.
   4. Focus moves to an error summary or notice when a page opens with one. */
(function () {
  "use strict";

  function format(template, params) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  function normalise(rules, text) {
    var out = "";
    Array.from(text).forEach(function (ch) {
      if (rules.ignore.indexOf(ch) >= 0) { return; }
      out += (ch >= "a" && ch <= "z") ? ch.toUpperCase() : ch;
    });
    return out;
  }

  function symbolIndex(rules, ch) {
    return ch.length === 1 ? rules.alphabet.indexOf(ch) : -1;
  }

  function checkCharacter(rules, firstNine) {
    var sum = rules.base;
    Array.from(firstNine).forEach(function (ch, i) {
      sum += (i % 2 === 0 ? rules.odd : rules.even)[symbolIndex(rules, ch)];
    });
    return rules.alphabet[sum % rules.alphabet.length];
  }

  function isValid(rules, chars) {
    if (chars.length !== rules.length) { return false; }
    for (var i = 0; i < chars.length; i += 1) {
      if (symbolIndex(rules, chars[i]) < 0) { return false; }
    }
    return checkCharacter(rules, chars.slice(0, -1).join("")) === chars[chars.length - 1];
  }

  function fixes(rules, chars) {
    var found = [];
    chars.forEach(function (ch, i) {
      if (i + 1 < chars.length && chars[i + 1] !== ch) {
        var swapped = chars.slice();
        swapped[i] = chars[i + 1];
        swapped[i + 1] = ch;
        if (isValid(rules, swapped)) {
          found.push({ kind: "swap", position: i + 1, replacement: null });
        }
      }
      Array.from(rules.lookalikes[ch] || "").forEach(function (other) {
        var replaced = chars.slice();
        replaced[i] = other;
        if (isValid(rules, replaced)) {
          found.push({ kind: "lookalike", position: i + 1, replacement: other });
        }
      });
    });
    return found.length <= rules.maxSuggestions ? found : [];
  }

  function result(code, status, length, extra) {
    var out = {
      code: code, status: status, length: length, positions: [],
      character: null, expected: null, suggestions: []
    };
    Object.keys(extra || {}).forEach(function (k) { out[k] = extra[k]; });
    return out;
  }

  function diagnose(rules, text) {
    var raw = Array.from(text);
    if (raw.length > rules.maxInput) { return result("", "too_long", raw.length); }
    var code = normalise(rules, text);
    var chars = Array.from(code);
    var forbidden = [];
    chars.forEach(function (ch, i) { if (symbolIndex(rules, ch) < 0) { forbidden.push(i + 1); } });
    if (forbidden.length) {
      var hints = forbidden.filter(function (p) {
        return Object.prototype.hasOwnProperty.call(rules.lookalikes, chars[p - 1]);
      }).map(function (p) {
        return { kind: "lookalike", position: p, replacement: rules.lookalikes[chars[p - 1]][0] };
      });
      return result(code, "forbidden", chars.length, {
        positions: forbidden, character: chars[forbidden[0] - 1],
        suggestions: hints.slice(0, rules.maxSuggestions)
      });
    }
    if (chars.length !== rules.length) {
      var status = chars.length === 0 ? "empty" : chars.length < rules.length ? "incomplete" : "too_long";
      return result(code, status, chars.length);
    }
    var expected = checkCharacter(rules, chars.slice(0, -1).join(""));
    if (chars[chars.length - 1] !== expected) {
      return result(code, "check", chars.length, {
        positions: [rules.length], character: chars[chars.length - 1], expected: expected,
        suggestions: fixes(rules, chars)
      });
    }
    return result(code, "ok", chars.length);
  }

  function feedback(d, messages, live) {
    var t = function (key, params) { return format(messages[key], params || {}); };
    var chars = Array.from(d.code);
    if (d.status === "empty") { return live ? [] : [t("code.empty")]; }
    if (d.status === "incomplete" && live) { return [t("code.typing", { count: d.length })]; }
    if (d.status === "incomplete" || d.status === "too_long") {
      return [t("code.wrong_length", { count: d.length })];
    }
    if (d.status === "ok") { return [t("code.ok")]; }
    var lines = [];
    if (d.status === "forbidden") {
      lines.push(d.positions.length === 1
        ? t("code.forbidden", { character: d.character, position: d.positions[0] })
        : t("code.forbidden_many", { positions: d.positions.join(", ") }));
    } else {
      lines.push(t("code.check"));
    }
    d.suggestions.forEach(function (s) {
      if (s.kind === "swap") {
        lines.push(t("code.suggest_swap", {
          position: s.position, next: s.position + 1,
          first: chars[s.position - 1], second: chars[s.position]
        }));
      } else {
        lines.push(t("code.suggest_lookalike", {
          position: s.position, character: chars[s.position - 1], replacement: s.replacement
        }));
      }
    });
    if (d.status === "forbidden") {
      lines.push(t("code.alphabet"));
    } else if (!d.suggestions.length) {
      lines.push(t("code.check_unknown"));
    }
    return lines;
  }

  function flagged(d) {
    if (d.status === "forbidden") { return d.positions.slice(); }
    if (d.status !== "check") { return []; }
    var marked = [];
    d.suggestions.forEach(function (s) {
      marked.push(s.position);
      if (s.kind === "swap") { marked.push(s.position + 1); }
    });
    return marked.length ? marked : d.positions.slice();
  }

  function showCode(input) {
    var rules = JSON.parse(input.getAttribute("data-otp-rules"));
    var box = document.getElementById(input.getAttribute("data-otp-feedback"));
    var messages = JSON.parse(box.getAttribute("data-otp-messages"));
    var d = diagnose(rules, input.value);
    var marks = flagged(d);
    box.textContent = "";
    box.classList.toggle("is-ok", d.status === "ok");
    box.classList.toggle("is-bad", ["forbidden", "check", "too_long"].indexOf(d.status) >= 0);
    if (d.code) {
      var cells = document.createElement("div");
      cells.className = "code-cells";
      cells.setAttribute("aria-hidden", "true");
      Array.from(d.code).forEach(function (ch, i) {
        var cell = document.createElement("span");
        cell.className = marks.indexOf(i + 1) >= 0 ? "cell cell-flagged" : "cell";
        cell.textContent = ch;
        cells.appendChild(cell);
      });
      box.appendChild(cells);
    }
    var list = document.createElement("ul");
    list.className = "code-lines";
    feedback(d, messages, true).forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function watchOnset(input) {
    var block = document.getElementById(input.getAttribute("data-confirm"));
    var live = document.getElementById(input.getAttribute("data-live"));
    var warnBefore = input.getAttribute("data-warn-before");
    var update = function () {
      var value = input.value;  /* YYYY-MM-DD or "" : ISO strings compare as dates */
      var checkbox = block.querySelector("input[type=checkbox]");
      var old = value !== "" && value < warnBefore;
      block.hidden = !(old || (checkbox && checkbox.checked && value !== ""));
      live.textContent = value !== "" && value > input.max ? live.getAttribute("data-msg-future") : "";
    };
    input.addEventListener("input", update);
    input.addEventListener("change", update);
  }

  function countdown(timer) {
    var total = parseInt(timer.getAttribute("data-remaining-s"), 10);
    var bar = document.getElementById(timer.getAttribute("data-progress"));
    var start = performance.now();
    var tick = function () {
      var left = Math.max(0, total - Math.floor((performance.now() - start) / 1000));
      if (left > 0) {
        timer.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      } else {
        timer.textContent = timer.getAttribute("data-msg-expired");
        timer.classList.add("timer-expired");
      }
      if (bar) { bar.value = left; }
      if (left > 0) { window.setTimeout(tick, 250); }
    };
    if (total > 0) { tick(); }
  }

  function start() {
    document.querySelectorAll("input[data-otp-rules]").forEach(function (input) {
      input.addEventListener("input", function () { showCode(input); });
    });
    document.querySelectorAll("input[data-onset]").forEach(watchOnset);
    document.querySelectorAll("[data-countdown]").forEach(countdown);
    var first = document.querySelector("[data-focus-on-load]");
    if (first) { first.focus(); }
  }

  window.notificaPortal = { diagnose: diagnose, feedback: feedback, flagged: flagged, normalise: normalise };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
