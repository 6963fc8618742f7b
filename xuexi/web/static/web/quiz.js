/* 学习平台 — the answering page of a quiz (xuexi/quizzes/views.py, quizzes/attempt.html; C5).

   The server issues the questions, owns every clock and grades every answer; this script only
   asks it. The page works without it (one form per question, the verdict on the next page);
   with it the member answers question after question without a page load: each answer goes to
   the API (session + CSRF, like learning.js), the verdict, the correct answer and the
   explanation appear under the question, and the next question is drawn in place. It also
   counts down the deadlines the server set (a special paper's, a challenge question's) — the
   server's clock is the truth: the page corrects its own by the API's server_time — hands the
   paper in when its time is up, reports a challenge question whose timer ran out, and opens
   查看提示 and the challenge's 复活 in dialogs. No framework, no inline script (CSP
   script-src 'self'); text is only ever set as text.

   Contract with the page:

     <div data-quiz="<attempt id>" data-quiz-api="/api/v1" data-quiz-kind="daily"
          data-quiz-result="<result page>" data-quiz-hint-page="<hint page of question 0>"
          data-text-<name>="…">                    the texts below, in the page's language
       [data-quiz-timer] [data-deadline] [data-server-time] > [data-quiz-timer-text]
                                                    the paper's countdown (special papers)
       [data-quiz-progress] [data-quiz-bar]         "第 3 题 / 共 5 题" and its <progress>
       [data-quiz-clock] > [data-quiz-clock-text]   a challenge question's seconds (hidden
                                                    while no question is to be answered)
       form[data-quiz-form]                         the question: [data-quiz-question-id],
                                                    [data-quiz-type], [data-quiz-category],
                                                    [data-quiz-stem], [data-quiz-answer-area],
                                                    [data-quiz-actions] with [data-quiz-hint]
       [data-quiz-feedback]                         (drawn here after each answer)
       form[data-quiz-handin][data-unanswered]      提前交卷 / 结束挑战 (asks before leaving
                                                    questions unanswered)
       [data-quiz-status]                           errors, role="alert"
       dialog[data-quiz-hint-dialog]                [data-quiz-hint-text], [data-quiz-hint-source]
                                                    > [data-quiz-hint-item]
       dialog[data-quiz-revive-dialog]              [data-quiz-revive-answer], [data-quiz-revive],
                                                    [data-quiz-end-round]
     </div>
*/
(function () {
  "use strict";

  var TEXTS = {
    right: "回答正确",
    wrong: "回答错误",
    timeout: "时间到，本题按答错计",
    late: "超时作答，按答错计",
    "correct-answer": "正确答案：",
    "your-answer": "你的答案：",
    "no-answer": "未作答",
    explanation: "解析",
    next: "下一题",
    finish: "交卷查看成绩",
    finishing: "正在交卷…",
    "time-up": "答题时间已到，正在交卷…",
    choose: "请先选择答案。",
    fill: "请填写每一个空。",
    network: "网络异常，请稍后再试。",
    progress: "第 {n} 题 / 共 {total} 题",
    "challenge-progress": "第 {n} 题 · 已答对 {right} 题",
    blank: "第 {n} 空",
    "hint-empty": "本题暂无提示。",
    seconds: "{n} 秒",
    loading: "正在加载…",
    "confirm-finish": "还有 {n} 道题没有作答，确定交卷吗？",
    separator: "、",
  };
  var ICONS = {
    right:
      '<svg class="qz-icon" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="9" fill="currentColor"/><path d="M7.5 12.5l3 3 6-6.5" fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>',
    wrong:
      '<svg class="qz-icon" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="9" fill="currentColor"/><path d="M8.5 8.5l7 7M15.5 8.5l-7 7" fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/></svg>',
  };
  var URGENT_PAPER = 60; /* seconds left when the paper's timer turns red */
  var URGENT_QUESTION = 10;
  var CHALLENGE_PAUSE = 1500; /* ms the verdict on a right challenge answer stays alone */

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return values[key] !== undefined ? String(values[key]) : all;
    });
  }

  function clockText(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var rest = s % 60;
    var mm = (m < 10 ? "0" : "") + m + ":" + (rest < 10 ? "0" : "") + rest;
    return h ? h + ":" + mm : mm;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function Quiz(root) {
    this.root = root;
    this.id = root.getAttribute("data-quiz");
    this.base = (root.getAttribute("data-quiz-api") || "/api/v1").replace(/\/$/, "");
    this.kind = root.getAttribute("data-quiz-kind");
    this.resultUrl = root.getAttribute("data-quiz-result");
    this.hintPage = root.getAttribute("data-quiz-hint-page") || "";
    this.texts = {};
    for (var key in TEXTS) this.texts[key] = root.getAttribute("data-text-" + key) || TEXTS[key];
    this.form = root.querySelector("[data-quiz-form]");
    this.status = root.querySelector("[data-quiz-status]");
    this.progress = root.querySelector("[data-quiz-progress]");
    this.bar = root.querySelector("[data-quiz-bar]");
    this.handin = root.querySelector("[data-quiz-handin]");
    this.hintDialog = root.querySelector("[data-quiz-hint-dialog]");
    this.reviveDialog = root.querySelector("[data-quiz-revive-dialog]");
    this.paperTimer = root.querySelector("[data-quiz-timer]");
    this.clock = root.querySelector("[data-quiz-clock]");
    this.state = null;
    this.question = null; /* the question being answered (the API's shape) */
    this.offset = 0; /* the server's clock minus this one, in ms */
    this.busy = false;
    this.over = false; /* handed in or leaving for the result */
    this.ticker = null;
    var stamp = (this.paperTimer || this.clock || root).getAttribute("data-server-time");
    if (stamp) this.offset = Date.parse(stamp) - Date.now();
  }

  Quiz.prototype.csrf = function () {
    var input = this.root.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  };

  Quiz.prototype.request = function (method, path, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
    };
    if (method !== "GET") init.headers["X-CSRFToken"] = this.csrf();
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(this.base + path, init).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { status: response.status, ok: response.ok, data: data || {} };
        });
    });
  };

  Quiz.prototype.say = function (message) {
    if (this.status) this.status.textContent = message || "";
  };

  Quiz.prototype.now = function () {
    return Date.now() + this.offset;
  };

  /* ---- starting -------------------------------------------------------------------------- */

  Quiz.prototype.start = function () {
    var self = this;
    this.tick();
    this.ticker = window.setInterval(function () {
      self.tick();
    }, 250);
    this.bind();
    var asked = Date.now();
    return this.request("GET", "/quiz-attempts/" + this.id)
      .then(function (result) {
        if (!result.ok) return;
        var state = result.data;
        /* Half the round trip is the best guess of when the server read its clock. */
        self.offset = Date.parse(state.server_time) - (asked + (Date.now() - asked) / 2);
        self.state = state;
        if (state.state === "finished") {
          self.leave();
          return;
        }
        var shownId = self.form && parseInt(self.form.querySelector("[data-quiz-question-id]").value, 10);
        self.question = self.find(shownId);
        if (self.question && self.question.answered) self.question = null; /* a verdict page */
      })
      .catch(function () {
        /* the page still works as forms */
      });
  };

  Quiz.prototype.bind = function () {
    var self = this;
    if (this.form && !this.form.classList.contains("is-answered")) {
      this.form.addEventListener("submit", function (event) {
        if (!self.state || !self.question) return; /* not ready: the form posts as it is */
        event.preventDefault();
        self.submit();
      });
    }
    this.root.addEventListener("click", function (event) {
      var hint = event.target.closest("[data-quiz-hint]");
      if (hint && self.state && self.hintDialog && typeof self.hintDialog.showModal === "function") {
        event.preventDefault();
        self.showHint(hint);
        return;
      }
      var next = event.target.closest("[data-quiz-next-question]");
      if (next) {
        event.preventDefault();
        self.draw(self.find(parseInt(next.getAttribute("data-quiz-next-question"), 10)));
        return;
      }
      if (event.target.closest("[data-quiz-finish]")) {
        event.preventDefault();
        self.finish();
        return;
      }
      if (event.target.closest("[data-quiz-revive]")) {
        event.preventDefault();
        self.revive();
        return;
      }
      if (event.target.closest("[data-quiz-end-round]")) {
        event.preventDefault();
        if (self.reviveDialog && self.reviveDialog.open) self.reviveDialog.close();
        self.finish();
      }
    });
    if (this.handin) {
      this.handin.addEventListener("submit", function (event) {
        var left = self.unanswered();
        if (left > 0 && self.kind !== "challenge") {
          if (!window.confirm(fill(self.texts["confirm-finish"], { n: left }))) {
            event.preventDefault();
            return;
          }
        }
        self.over = true;
      });
    }
  };

  Quiz.prototype.find = function (questionId) {
    if (!this.state) return null;
    for (var i = 0; i < this.state.questions.length; i += 1) {
      if (this.state.questions[i].id === questionId) return this.state.questions[i];
    }
    return null;
  };

  Quiz.prototype.unanswered = function () {
    if (!this.state) return parseInt((this.handin && this.handin.getAttribute("data-unanswered")) || "0", 10);
    return this.state.questions.filter(function (q) {
      return !q.answered;
    }).length;
  };

  /* ---- answering ------------------------------------------------------------------------- */

  Quiz.prototype.given = function () {
    var question = this.question;
    if (question.type === "fill") {
      var parts = [];
      var inputs = this.form.querySelectorAll("input[name=answer]");
      for (var i = 0; i < inputs.length; i += 1) parts.push(inputs[i].value.trim());
      return parts.some(function (part) {
        return !part;
      })
        ? null
        : parts;
    }
    var chosen = [];
    this.form.querySelectorAll("input[name=answer]:checked").forEach(function (input) {
      chosen.push(input.value);
    });
    return chosen.length ? chosen : null;
  };

  Quiz.prototype.submit = function () {
    var self = this;
    if (this.busy || this.over) return;
    var answer = this.given();
    if (!answer) {
      this.say(this.question.type === "fill" ? this.texts.fill : this.texts.choose);
      return;
    }
    this.say("");
    this.busy = true;
    this.setBusy(true);
    var question = this.question;
    this.request("POST", "/quiz-attempts/" + this.id + "/answers", {
      question_id: question.id,
      answer: answer,
    })
      .then(function (result) {
        self.busy = false;
        self.setBusy(false);
        if (result.ok) {
          self.graded(question, answer, result.data);
        } else {
          self.refused(result);
        }
      })
      .catch(function () {
        self.busy = false;
        self.setBusy(false);
        self.say(self.texts.network);
      });
  };

  Quiz.prototype.setBusy = function (busy) {
    var button = this.form && this.form.querySelector("[data-quiz-submit]");
    if (button) button.disabled = busy;
    if (this.form) this.form.setAttribute("aria-busy", busy ? "true" : "false");
  };

  Quiz.prototype.refused = function (result) {
    var code = result.data.code;
    if (code === "time_up") {
      this.timeUp();
      return;
    }
    if (code === "attempt_finished" || code === "round_over" || code === "already_answered") {
      /* the state moved on elsewhere (another tab): the server's page tells where it stands */
      window.location.reload();
      return;
    }
    this.say(result.data.message || this.texts.network);
  };

  /* The verdict: recorded in the state, marked on the options, explained below. */
  Quiz.prototype.graded = function (question, answer, verdict) {
    question.answered = true;
    question.given = answer;
    question.correct = verdict.correct;
    question.late = verdict.late;
    question.correct_answer = verdict.correct_answer;
    question.explanation = verdict.explanation;
    this.state.correct_count = verdict.correct_count;
    this.state.answered_count = verdict.answered_count;
    if (verdict.next_question) {
      this.state.questions.push(verdict.next_question);
      this.state.question_count = verdict.next_question.position;
    }
    this.state.can_revive = verdict.can_revive;
    this.state.round_over = verdict.round_over;
    this.question = null;
    this.stopClock();
    this.mark(question);
    this.explain(question, verdict);
    this.showProgress(question.position);
    if (verdict.can_revive && this.reviveDialog && typeof this.reviveDialog.showModal === "function") {
      var shown = this.reviveDialog.querySelector("[data-quiz-revive-answer]");
      if (shown) this.fillParts(shown, question, verdict.correct_answer);
      this.reviveDialog.showModal();
    }
  };

  Quiz.prototype.mark = function (question) {
    var right = question.type === "fill" ? [] : question.correct_answer || [];
    var given = question.given || [];
    this.form.classList.add("is-answered");
    this.form.querySelectorAll("input[name=answer]").forEach(function (input) {
      input.disabled = true;
      var label = input.closest(".qz-option");
      if (!label) return;
      if (right.indexOf(input.value) !== -1) label.classList.add("is-correct");
      else if (given.indexOf(input.value) !== -1) label.classList.add("is-wrong");
    });
    var actions = this.form.querySelector("[data-quiz-actions]");
    if (actions) actions.hidden = true;
    if (this.handin) this.handin.hidden = true;
  };

  /* An answer as the page shows it: one unbroken <span> an option or blank, separated as
     the server separates them (quizzes/_answer_parts.html). Returns whether there was any. */
  Quiz.prototype.fillParts = function (target, question, answer) {
    while (target.firstChild) target.removeChild(target.firstChild);
    if (!answer || !answer.length) return false;
    var texts = {};
    question.options.forEach(function (option) {
      texts[option.key] = option.text;
    });
    var parts = answer.map(function (part) {
      if (question.type === "fill") return Array.isArray(part) ? part.join(" / ") : String(part);
      if (question.type === "true_false") return texts[part] || part;
      return texts[part] !== undefined ? part + ". " + texts[part] : part;
    });
    var separator = question.type === "fill" ? " ｜ " : this.texts.separator;
    parts.forEach(function (part, index) {
      if (index) target.appendChild(document.createTextNode(separator));
      target.appendChild(el("span", "qz-answer-part", part));
    });
    return true;
  };

  Quiz.prototype.explain = function (question, verdict) {
    this.clearFeedback();
    var box = el("section", "card qz-feedback " + (verdict.correct ? "is-right" : "is-wrong"));
    box.setAttribute("data-quiz-feedback", "");
    box.setAttribute("aria-live", "polite");
    var line = el("p", "qz-verdict");
    line.setAttribute("data-quiz-verdict", "");
    line.innerHTML = verdict.correct ? ICONS.right : ICONS.wrong; /* constant markup only */
    var words = this.texts.right;
    if (!verdict.correct) {
      var empty = !question.given || !question.given.length;
      words = verdict.late ? (empty ? this.texts.timeout : this.texts.late) : this.texts.wrong;
    }
    line.appendChild(document.createTextNode(words));
    box.appendChild(line);

    var lines = el("dl", "qz-answer-lines");
    var self = this;
    var add = function (label, answer, className) {
      var row = el("div", "qz-answer-line");
      row.appendChild(el("dt", "", label));
      var value = el("dd", className || "");
      if (!self.fillParts(value, question, answer)) value.textContent = self.texts["no-answer"];
      row.appendChild(value);
      lines.appendChild(row);
    };
    add(this.texts["correct-answer"], verdict.correct_answer, "qz-correct-text");
    if (!verdict.correct) add(this.texts["your-answer"], question.given);
    box.appendChild(lines);
    if (verdict.explanation) {
      var explain = el("div", "qz-explain");
      explain.appendChild(el("h3", "qz-explain-title", this.texts.explanation));
      explain.appendChild(el("p", "", verdict.explanation));
      box.appendChild(explain);
    }

    var next = el("div", "qz-next");
    var addButton = function (text, className, attribute, value) {
      var button = el("button", "btn btn-lg btn-block " + className, text);
      button.type = "button";
      button.setAttribute(attribute, value || "");
      next.appendChild(button);
    };
    var following = this.following(verdict);
    if (following) {
      addButton(this.texts.next, "btn-primary", "data-quiz-next-question", String(following.id));
    } else if (verdict.can_revive && this.reviveDialog) {
      var dialog = this.reviveDialog;
      addButton(dialog.querySelector("[data-quiz-revive]").textContent, "btn-primary", "data-quiz-revive");
      addButton(dialog.querySelector("[data-quiz-end-round]").textContent, "btn-outline", "data-quiz-end-round");
    } else {
      addButton(this.texts.finish, "btn-primary", "data-quiz-finish");
    }
    box.appendChild(next);
    this.form.parentNode.insertBefore(box, this.form.nextSibling);
    if (!verdict.can_revive) {
      next.firstChild.focus({ preventScroll: true });
      box.scrollIntoView({ block: "nearest", behavior: "auto" });
    }
    /* A challenge's next question was issued with the verdict and its timer already runs on
       the server: after a right answer the page moves on by itself (the button is quicker). */
    if (this.kind === "challenge" && following) {
      var self = this;
      window.setTimeout(function () {
        if (self.question === null && self.find(following.id) && !following.answered) {
          self.draw(following);
        }
      }, CHALLENGE_PAUSE);
    }
  };

  /* The question after this verdict: a challenge's next one, else the first unanswered. */
  Quiz.prototype.following = function (verdict) {
    if (this.kind === "challenge") return verdict.next_question || null;
    for (var i = 0; i < this.state.questions.length; i += 1) {
      if (!this.state.questions[i].answered) return this.state.questions[i];
    }
    return null;
  };

  Quiz.prototype.clearFeedback = function () {
    var old = this.root.querySelectorAll("[data-quiz-feedback]");
    Array.prototype.forEach.call(old, function (node) {
      node.parentNode.removeChild(node);
    });
  };

  /* ---- drawing a question ---------------------------------------------------------------- */

  Quiz.prototype.draw = function (question) {
    if (!question) return;
    this.question = question;
    this.clearFeedback();
    this.say("");
    var form = this.form;
    form.classList.remove("is-answered");
    form.querySelector("[data-quiz-question-id]").value = String(question.id);
    form.querySelector("[data-quiz-type]").textContent = question.type_label;
    form.querySelector("[data-quiz-category]").textContent = question.category;
    var stem = form.querySelector("[data-quiz-stem]");
    stem.textContent = question.stem;
    var area = form.querySelector("[data-quiz-answer-area]");
    while (area.firstChild) area.removeChild(area.firstChild);
    area.appendChild(question.type === "fill" ? this.blanks(question) : this.options(question));
    var actions = form.querySelector("[data-quiz-actions]");
    actions.hidden = false;
    var hint = actions.querySelector("[data-quiz-hint]");
    if (hint) {
      hint.hidden = !question.has_hint;
      hint.href = this.hintPage.replace(/\/0\/hint\/$/, "/" + question.id + "/hint/");
    }
    if (this.handin) this.handin.hidden = false;
    this.showProgress(question.position);
    this.startClock(question);
    stem.setAttribute("tabindex", "-1");
    stem.focus({ preventScroll: true });
    this.root.scrollIntoView({ block: "start", behavior: "auto" });
  };

  Quiz.prototype.options = function (question) {
    var fieldset = el("fieldset", "qz-options");
    fieldset.setAttribute("aria-labelledby", "qz-stem");
    var type = question.type === "multiple" ? "checkbox" : "radio";
    question.options.forEach(function (option) {
      var label = el("label", "qz-option");
      var input = el("input");
      input.type = type;
      input.name = "answer";
      input.value = option.key;
      if (type === "radio") input.required = true;
      label.appendChild(input);
      if (question.type !== "true_false") {
        var key = el("span", "qz-option-key", option.key);
        key.setAttribute("aria-hidden", "true");
        label.appendChild(key);
      }
      label.appendChild(el("span", "qz-option-text", option.text));
      fieldset.appendChild(label);
    });
    return fieldset;
  };

  Quiz.prototype.blanks = function (question) {
    var box = el("div", "qz-blanks");
    for (var n = 1; n <= question.blanks; n += 1) {
      var label = el("label", "qz-blank");
      label.appendChild(el("span", "qz-blank-label", fill(this.texts.blank, { n: n })));
      var input = el("input");
      input.type = "text";
      input.name = "answer";
      input.maxLength = 100;
      input.required = true;
      input.autocomplete = "off";
      input.setAttribute("autocapitalize", "off");
      input.spellcheck = false;
      label.appendChild(input);
      box.appendChild(label);
    }
    return box;
  };

  Quiz.prototype.showProgress = function (position) {
    if (!this.progress || !this.state) return;
    if (this.kind === "challenge") {
      this.progress.textContent = fill(this.texts["challenge-progress"], {
        n: position,
        right: this.state.correct_count,
      });
    } else {
      this.progress.textContent = fill(this.texts.progress, {
        n: position,
        total: this.state.question_count,
      });
    }
    if (this.bar) {
      this.bar.max = this.state.question_count;
      this.bar.value = this.state.answered_count;
    }
  };

  /* ---- clocks ---------------------------------------------------------------------------- */

  Quiz.prototype.startClock = function (question) {
    if (!this.clock || !question.deadline) return;
    this.clock.setAttribute("data-deadline", question.deadline);
    this.clock.hidden = false;
    this.clock.classList.remove("is-urgent");
    this.tick();
  };

  Quiz.prototype.stopClock = function () {
    if (this.clock) {
      this.clock.removeAttribute("data-deadline");
      this.clock.hidden = true;
    }
  };

  Quiz.prototype.tick = function () {
    if (this.over) return;
    var now = this.now();
    if (this.paperTimer) {
      var end = Date.parse(this.paperTimer.getAttribute("data-deadline"));
      var left = (end - now) / 1000;
      var text = this.paperTimer.querySelector("[data-quiz-timer-text]");
      if (text) text.textContent = clockText(left);
      this.paperTimer.classList.toggle("is-urgent", left <= URGENT_PAPER);
      if (left <= 0 && this.state) {
        this.timeUp();
        return;
      }
    }
    var due = this.clock && this.clock.getAttribute("data-deadline");
    if (due) {
      var seconds = (Date.parse(due) - now) / 1000;
      var clockTextNode = this.clock.querySelector("[data-quiz-clock-text]");
      if (clockTextNode) clockTextNode.textContent = String(Math.max(0, Math.ceil(seconds)));
      this.clock.setAttribute("aria-label", fill(this.texts.seconds, { n: Math.max(0, Math.ceil(seconds)) }));
      this.clock.classList.toggle("is-urgent", seconds <= URGENT_QUESTION);
      if (seconds <= 0 && this.question && !this.busy) this.timeout();
    }
  };

  /* A challenge question's timer ran out: the server records it wrong and says what follows. */
  Quiz.prototype.timeout = function () {
    var self = this;
    var question = this.question;
    this.busy = true;
    this.setBusy(true);
    this.stopClock();
    this.request("POST", "/quiz-attempts/" + this.id + "/timeout", { question_id: question.id })
      .then(function (result) {
        self.busy = false;
        self.setBusy(false);
        if (result.ok) self.graded(question, [], result.data);
        else self.refused(result);
      })
      .catch(function () {
        self.busy = false;
        self.say(self.texts.network);
      });
  };

  Quiz.prototype.timeUp = function () {
    if (this.over) return;
    this.say(this.texts["time-up"]);
    if (this.form) {
      this.form.querySelectorAll("input, button").forEach(function (node) {
        node.disabled = true;
      });
    }
    this.finish();
  };

  /* ---- hint, revive, finish -------------------------------------------------------------- */

  Quiz.prototype.showHint = function (link) {
    var self = this;
    var question = this.question;
    if (!question) {
      window.location.href = link.href;
      return;
    }
    var text = this.hintDialog.querySelector("[data-quiz-hint-text]");
    var item = this.hintDialog.querySelector("[data-quiz-hint-item]");
    var source = this.hintDialog.querySelector("[data-quiz-hint-source]");
    text.textContent = this.texts.loading;
    source.hidden = true;
    this.hintDialog.showModal();
    this.request("GET", "/quiz-attempts/" + this.id + "/questions/" + question.id + "/hint")
      .then(function (result) {
        if (!result.ok) {
          text.textContent = result.data.message || self.texts.network;
          return;
        }
        text.textContent = result.data.text || self.texts["hint-empty"];
        if (result.data.item) {
          item.textContent = result.data.item.title;
          item.href = result.data.item.url;
          source.hidden = false;
        }
      })
      .catch(function () {
        text.textContent = self.texts.network;
      });
  };

  Quiz.prototype.revive = function () {
    var self = this;
    if (this.busy) return;
    this.busy = true;
    this.request("POST", "/quiz-attempts/" + this.id + "/revive")
      .then(function (result) {
        self.busy = false;
        if (self.reviveDialog && self.reviveDialog.open) self.reviveDialog.close();
        if (!result.ok) {
          self.refused(result);
          return;
        }
        var next = result.data.next_question;
        self.state.questions.push(next);
        self.state.question_count = next.position;
        self.state.can_revive = false;
        self.draw(next);
      })
      .catch(function () {
        self.busy = false;
        self.say(self.texts.network);
      });
  };

  Quiz.prototype.finish = function () {
    var self = this;
    if (this.over) return;
    this.over = true;
    this.say(this.texts.finishing);
    this.root.querySelectorAll("[data-quiz-finish], [data-quiz-end-round]").forEach(function (b) {
      b.disabled = true;
    });
    this.request("POST", "/quiz-attempts/" + this.id + "/finish")
      .then(function (result) {
        if (result.ok || result.status === 404) {
          self.leave();
          return;
        }
        self.over = false;
        self.say(result.data.message || self.texts.network);
      })
      .catch(function () {
        self.over = false;
        self.say(self.texts.network);
      });
  };

  Quiz.prototype.leave = function () {
    this.over = true;
    if (this.ticker) window.clearInterval(this.ticker);
    window.location.href = this.resultUrl;
  };

  function init() {
    var root = document.querySelector("[data-quiz]");
    if (!root || !window.fetch || !Element.prototype.closest) return;
    new Quiz(root).start();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
