/* 学习平台 — server-verified learning sessions on the reader page (C3, C13).

   The server issues the session, times it by its own clock and judges it; this script only
   reports what the reader is doing. It sends heartbeats while the item is visible
   (Page Visibility API) and, for video and audio, while the media plays, shows the progress,
   and finishes the session. No framework, no inline script (CSP script-src 'self').

   Contract with the reader page (docs/content.md, "Learning sessions"):

     <article data-learning-item="42"               required: the item id; the session starts
                                                    when the page loads
              data-learning-finish="auto"           optional: "auto" (default) finishes as soon
                                                    as the minimum time is verified; "manual"
                                                    keeps counting minutes until the reader
                                                    presses the finish button or leaves
              data-learning-api="/api/v1">          optional: the API base
       {% csrf_token %}                             required for the web session: the token is
                                                    read from this input, else from the
                                                    csrftoken cookie
       … the article body, or one <video>/<audio> (the first one inside is followed) …
       <div data-learning-progress></div>           optional: filled with a <progress> and a
                                                    text “已学习 0:35 / 1:00” unless it already
                                                    holds [data-learning-bar] (a <progress>)
                                                    and/or [data-learning-text]
       <button type="button" data-learning-finish-button disabled>完成学习</button>
                                                    optional: enabled once the minimum time is
                                                    verified; finishes the session
       <p data-learning-status role="status"></p>   optional: the outcome (“本次学习有效，获得
                                                    3 分。” or the reason); without it the
                                                    progress text shows it
     </article>
     <script src="{% static 'web/learning.js' %}" defer></script>

   The [data-learning-progress], [data-learning-finish-button] and [data-learning-status]
   elements are looked up inside the item element first, then in the whole page. The texts
   below (TEXTS) can be replaced through attributes on the item element, e.g. for English
   pages: data-text-progress ("已学习 {done} / {need}"), data-text-reached, data-text-paused,
   data-text-starting, data-text-network, data-text-finishing, data-text-valid ({n} = points),
   data-text-invalid. The server's own messages already follow the request's language. When
   the session is finished, the item element receives a bubbling "learning:finished" event
   whose detail is the finish answer.

   Why it finishes the way it does: navigator.sendBeacon cannot carry the CSRF header that the
   API's session authentication needs, so leaving the page finishes with fetch(keepalive) and
   only once the minimum time is reached (a session left earlier is simply superseded by the
   next one or expires). The visible count here mirrors the server's rules conservatively
   (at most one interval per beat, no beat sooner than half an interval, media credited by
   how far it played), so the server's verdict is never below what the reader was shown. */
(function () {
  "use strict";

  var TEXTS = {
    progress: "已学习 {done} / {need}",
    reached: "已学习 {done}，已达到有效学习时长",
    starting: "正在开始计时…",
    paused: "已暂停计时：页面不可见或未在播放",
    network: "网络异常，学习计时暂停，恢复后继续。",
    finishing: "正在提交学习记录…",
    valid: "本次学习有效，获得 {n} 分。",
    invalid: "本次学习无效，不计分。",
  };

  function csrfToken(root) {
    var input =
      root.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function clockText(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var m = Math.floor(s / 60);
    var rest = s % 60;
    return m + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return values[key] !== undefined ? String(values[key]) : all;
    });
  }

  function find(root, selector) {
    return root.querySelector(selector) || document.querySelector(selector);
  }

  function Session(root) {
    this.root = root;
    this.itemId = parseInt(root.getAttribute("data-learning-item"), 10);
    this.base = (root.getAttribute("data-learning-api") || "/api/v1").replace(/\/$/, "");
    this.manual = root.getAttribute("data-learning-finish") === "manual";
    this.media = root.querySelector("video, audio");
    this.texts = {};
    for (var key in TEXTS) {
      this.texts[key] = root.getAttribute("data-text-" + key) || TEXTS[key];
    }
    this.id = null;
    this.every = 15;
    this.minSeconds = 60;
    this.credited = 0; /* seconds the server has surely credited */
    this.lastBeat = 0; /* performance.now() of the instant credited up to */
    this.lastPosition = 0;
    this.active = false; /* visible (and playing): time is being learned */
    this.closed = false; /* finished, refused, or failed to start */
    this.finishing = false;
    this.busy = 0; /* heartbeats queued or on their way */
    this.finalTimer = null;
    this.ticker = null;
    this.chain = Promise.resolve();
    this.progress = find(root, "[data-learning-progress]");
    this.button = find(root, "[data-learning-finish-button]");
    this.status = find(root, "[data-learning-status]");
    this.bar = null;
    this.text = null;
  }

  Session.prototype.request = function (path, body, keepalive) {
    var init = {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: {
        "X-CSRFToken": csrfToken(this.root),
        "X-Requested-With": "XMLHttpRequest",
        Accept: "application/json",
      },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(this.base + path, init).then(function (response) {
      if (response.status === 204) return { status: 204, data: {} };
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { status: response.status, data: data };
        });
    });
  };

  /* ---- showing ------------------------------------------------------------------------- */

  Session.prototype.buildProgress = function () {
    if (!this.progress) return;
    this.bar = this.progress.querySelector("[data-learning-bar]");
    this.text = this.progress.querySelector("[data-learning-text]");
    if (!this.bar && !this.text) {
      this.bar = document.createElement("progress");
      this.bar.setAttribute("data-learning-bar", "");
      this.text = document.createElement("span");
      this.text.setAttribute("data-learning-text", "");
      this.progress.appendChild(this.bar);
      this.progress.appendChild(document.createTextNode(" "));
      this.progress.appendChild(this.text);
    }
  };

  Session.prototype.say = function (message, ok) {
    var target = this.status || this.text || this.progress;
    if (!target) return;
    target.textContent = message || "";
    target.classList.toggle("is-ok", ok === true);
    target.classList.toggle("is-error", ok === false);
  };

  Session.prototype.learnedNow = function () {
    /* What the reader sees: the credited time plus the running interval (at most one). */
    var running = this.active ? (performance.now() - this.lastBeat) / 1000 : 0;
    return this.credited + Math.max(0, Math.min(running, this.every));
  };

  Session.prototype.render = function () {
    if (this.closed) return;
    var done = this.learnedNow();
    var reached = this.credited >= this.minSeconds;
    if (this.bar) {
      this.bar.max = this.minSeconds;
      this.bar.value = Math.min(done, this.minSeconds);
    }
    var line = fill(reached ? this.texts.reached : this.texts.progress, {
      done: clockText(done),
      need: clockText(this.minSeconds),
    });
    if (!this.active && !reached) line += " · " + this.texts.paused;
    if (this.text) this.text.textContent = line;
    else if (this.progress) this.progress.textContent = line;
    if (this.button) this.button.disabled = !reached || this.finishing;
  };

  /* ---- beating ------------------------------------------------------------------------- */

  Session.prototype.position = function () {
    return this.media ? Math.max(0, this.media.currentTime || 0) : null;
  };

  Session.prototype.playing = function () {
    var m = this.media;
    return !m || (!m.paused && !m.ended && m.readyState > 2);
  };

  Session.prototype.shouldBeActive = function () {
    return document.visibilityState === "visible" && this.playing();
  };

  /* Queue one heartbeat; heartbeats go out one at a time, in order. */
  Session.prototype.send = function (visible, position) {
    var self = this;
    var body = { visible: visible };
    if (position !== null && position !== undefined) body.position = Math.round(position * 10) / 10;
    this.busy += 1;
    var sent = this.chain.then(function () {
      if (self.closed) return false;
      return self
        .request("/learning-sessions/" + self.id + "/heartbeats", body)
        .then(function (result) {
          if (result.status === 204) return true;
          self.stop(result.data.message || self.texts.network, false);
          return false;
        })
        .catch(function () {
          self.say(self.texts.network, false);
          return false;
        })
        .then(function (ok) {
          self.busy -= 1;
          return ok;
        });
    });
    this.chain = sent;
    return sent;
  };

  /* A beat for the time since the last one, if it is at least half an interval (the server
     does not credit faster beats). The local count mirrors what the server will credit, and
     is taken at once so that the next tick does not count the same time again; a beat that
     fails gives its credit back but keeps the clock (it may have reached the server). */
  Session.prototype.beat = function () {
    var self = this;
    var now = performance.now();
    var gap = (now - this.lastBeat) / 1000;
    if (gap < this.every / 2) return Promise.resolve(false);
    var position = this.position();
    var credit = Math.min(gap, this.every);
    if (this.media) credit = Math.min(credit, Math.max(0, position - this.lastPosition));
    credit = Math.floor(credit);
    /* At the rhythm the fraction of a second is carried, as on the server. */
    this.lastBeat = credit === Math.floor(gap) ? this.lastBeat + credit * 1000 : now;
    if (position !== null) this.lastPosition = position;
    this.credited += credit;
    return this.send(true, position).then(function (ok) {
      if (!ok) {
        self.credited -= credit;
        return false;
      }
      self.render();
      if (!self.manual && self.credited >= self.minSeconds) self.finish(false);
      return true;
    });
  };

  /* The time before now is not learning time (hidden, paused, sought): restart the clock. */
  Session.prototype.reset = function () {
    this.lastBeat = performance.now();
    this.lastPosition = this.position() || 0;
    return this.send(false, this.position());
  };

  Session.prototype.tick = function () {
    if (this.closed || this.finishing || this.id === null) return;
    if (this.active && !this.busy) {
      var gap = (performance.now() - this.lastBeat) / 1000;
      /* Near the minimum, beat a little after reaching it instead of waiting a whole
         interval, so the reader is told without delay. */
      var nearMinimum =
        this.credited < this.minSeconds &&
        this.credited + gap >= this.minSeconds + 1.5 &&
        gap >= this.every / 2 + 0.5;
      if (gap >= this.every || nearMinimum) this.beat();
    }
    this.render();
  };

  /* Visibility or playback changed: close the running interval, or open a new one. */
  Session.prototype.update = function () {
    if (this.closed || this.finishing || this.id === null) return;
    var should = this.shouldBeActive();
    if (should === this.active) return;
    this.active = should;
    if (should) {
      if (this.finalTimer !== null) {
        /* Resumed before the held last beat went out: the interval simply goes on (for media
           the server credits only what actually played). */
        window.clearTimeout(this.finalTimer);
        this.finalTimer = null;
      } else {
        this.reset();
      }
    } else {
      this.closeInterval();
    }
    this.render();
  };

  Session.prototype.closeInterval = function () {
    var self = this;
    var gap = (performance.now() - this.lastBeat) / 1000;
    if (gap >= this.every / 2) {
      this.beat();
    } else if (this.media && document.visibilityState === "visible") {
      /* Paused or ended soon after a beat: hold the last beat until the server will take it
         (the position does not move meanwhile, so nothing extra is credited). */
      this.finalTimer = window.setTimeout(
        function () {
          self.finalTimer = null;
          self.beat();
        },
        (this.every / 2 + 0.5 - gap) * 1000
      );
    }
  };

  /* ---- starting and finishing ---------------------------------------------------------- */

  Session.prototype.start = function () {
    var self = this;
    this.buildProgress();
    this.say(this.texts.starting);
    return this.request("/learning-sessions", { item_id: this.itemId })
      .then(function (result) {
        if (result.status !== 201) {
          self.stop(result.data.message || self.texts.network, false);
          return;
        }
        self.id = result.data.id;
        self.every = result.data.heartbeat_every || self.every;
        self.minSeconds = result.data.min_seconds || self.minSeconds;
        self.lastBeat = performance.now();
        self.lastPosition = self.position() || 0;
        self.active = self.shouldBeActive();
        if (self.status) self.say("");
        self.listen();
        self.render();
      })
      .catch(function () {
        self.stop(self.texts.network, false);
      });
  };

  Session.prototype.listen = function () {
    var self = this;
    var update = function () {
      self.update();
    };
    document.addEventListener("visibilitychange", update);
    if (this.media) {
      ["playing", "pause", "ended", "waiting", "stalled"].forEach(function (name) {
        self.media.addEventListener(name, update);
      });
      this.media.addEventListener("seeked", function () {
        if (self.active && !self.closed) self.reset();
      });
    }
    if (this.button) {
      this.button.addEventListener("click", function () {
        self.finish(true);
      });
    }
    window.addEventListener("pagehide", function () {
      /* Leaving: finish only a session that has reached the minimum (keepalive survives the
         page); an earlier one is left to be superseded or to expire. */
      if (!self.closed && self.credited >= self.minSeconds) self.finish(false, true);
    });
    this.ticker = window.setInterval(function () {
      self.tick();
    }, 1000);
  };

  Session.prototype.finish = function (withLastBeat, leaving) {
    var self = this;
    if (this.closed || this.finishing) return this.chain;
    this.finishing = true;
    if (withLastBeat && this.active) this.beat();
    if (this.button) this.button.disabled = true;
    if (!leaving) this.say(this.texts.finishing);
    var path = "/learning-sessions/" + this.id + "/finish";
    if (leaving) {
      this.request(path, undefined, true);
      this.stop();
      return this.chain;
    }
    this.chain = this.chain.then(function () {
      return self
        .request(path)
        .then(function (result) {
          var data = result.data || {};
          if (result.status !== 200) {
            self.finishing = false;
            self.say(data.message || self.texts.network, false);
            self.render();
            return;
          }
          var message =
            data.message ||
            (data.valid ? fill(self.texts.valid, { n: data.points_awarded || 0 }) : self.texts.invalid);
          self.stop(message, !!data.valid);
          self.root.dispatchEvent(
            new CustomEvent("learning:finished", { bubbles: true, detail: data })
          );
        })
        .catch(function () {
          self.finishing = false;
          self.say(self.texts.network, false);
        });
    });
    return this.chain;
  };

  Session.prototype.stop = function (message, ok) {
    this.closed = true;
    this.active = false;
    if (this.ticker) window.clearInterval(this.ticker);
    if (this.finalTimer !== null) window.clearTimeout(this.finalTimer);
    if (this.button) this.button.disabled = true;
    if (message !== undefined) this.say(message, ok);
  };

  function init() {
    var root = document.querySelector("[data-learning-item]");
    if (!root || !window.fetch || !window.performance) return;
    if (!(parseInt(root.getAttribute("data-learning-item"), 10) > 0)) return;
    new Session(root).start();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
