/* 学习平台 — the reader's enhancements (xuexi/content/views.py). No framework, no inline script
   (CSP script-src 'self'); every page works without this file:

   - 加载更多 ([data-more-link] inside [data-feed-block]): fetches the next page with the header
     X-Reader-Fragment: 1 and appends its cards to the block's [data-feed] list; the link is a
     plain link to the next page otherwise.
   - 收藏 / 订阅 forms ([data-reader-toggle]): posted with Accept: application/json; the answer
     {"active", "message", "count"?} flips the button (aria-pressed, its [data-toggle-label] from
     data-on-label / data-off-label, the hidden [data-toggle-action] input) and says the message.
     (Answers also carry "points": what the action paid.)
   - 分享 ([data-reader-share]): the answer {"url", "qr", "message"} fills [data-share-panel];
     [data-copy] copies the link.
   - Search-as-you-type ([data-suggest-url]): 250 ms after the last keystroke, asks the JSON
     endpoint for titles and shows them as a listbox (arrow keys, Enter, Escape); the titles'
     HTML is rebuilt from text and <mark> only.
   - The tab strip ([data-tab-strip]) scrolls its active tab into view on phones.
   - The top bar's 今日 chip adds what the page earned: the actions' "points", and the
     "points_awarded" of learning.js's "learning:finished" event.

   Whenever an answer is not what is expected (a session that expired, a network error), the
   form is submitted or the link followed the ordinary way. */
(function () {
  "use strict";

  /* The page's language: base.html gives the translated texts as data-text-* attributes of
     this script's own tag; the Chinese below is the fallback. */
  var script = document.currentScript;
  function text(name, fallback) {
    return (script && script.getAttribute("data-text-" + name)) || fallback;
  }
  var TEXTS = {
    loading: text("loading", "正在加载…"),
    failed: text("failed", "操作没有完成，请稍后再试。"),
    copied: text("copied", "已复制链接"),
    copyFailed: text("copy-failed", "无法自动复制，请长按链接手动复制。"),
  };

  /* ---- a status toast ------------------------------------------------------------------ */

  var toast = null;
  var toastTimer = null;

  function say(message, isError) {
    if (!message) return;
    if (!toast) {
      toast = document.createElement("div");
      toast.className = "rd-toast";
      toast.setAttribute("role", "status");
      toast.setAttribute("aria-live", "polite");
      document.body.appendChild(toast);
    }
    toast.textContent = message;
    toast.classList.toggle("is-error", !!isError);
    toast.classList.add("is-shown");
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () {
      toast.classList.remove("is-shown");
    }, 2600);
  }

  function postJSON(form) {
    /* getAttribute, not form.action: the toggles carry an input named "action", which
       shadows the form's own property */
    return fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.redirected || type.indexOf("application/json") === -1) {
        /* signed out meanwhile, or a CSRF page: let the browser show it */
        throw new Error("unexpected");
      }
      return response.json().then(function (data) {
        return { ok: response.ok, data: data || {} };
      });
    });
  }

  /* ---- 收藏 / 订阅 ------------------------------------------------------------------------ */

  function setToggle(form, active) {
    var button = form.querySelector("button[type=submit]");
    var action = form.querySelector("[data-toggle-action]");
    var label = form.querySelector("[data-toggle-label]");
    if (action) action.value = active ? "remove" : "add";
    if (button) {
      button.classList.toggle("is-on", active);
      button.setAttribute("aria-pressed", active ? "true" : "false");
      if (label) {
        label.textContent = button.getAttribute(active ? "data-on-label" : "data-off-label");
      }
    }
  }

  function showCount(form, count) {
    var holder = form.closest(".rd-account, .rd-account-head");
    var target = holder && holder.querySelector("[data-subscriber-count]");
    if (!target || count === undefined) return;
    var template = target.getAttribute("data-text-count") || "{n} 人订阅";
    target.textContent = template.replace("{n}", String(count));
  }

  function onToggle(form, event) {
    if (!window.fetch || !window.FormData) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    form.setAttribute("aria-busy", "true");
    postJSON(form)
      .then(function (result) {
        if (!result.ok) {
          say(result.data.message || TEXTS.failed, true);
          return;
        }
        setToggle(form, !!result.data.active);
        showCount(form, result.data.count);
        addPoints(result.data.points);
        say(result.data.message);
      })
      .catch(function () {
        form.removeAttribute("aria-busy");
        form.submit();
      })
      .then(function () {
        form.removeAttribute("aria-busy");
      });
  }

  /* ---- 分享 ------------------------------------------------------------------------------ */

  function onShare(form, event) {
    var panel = document.querySelector("[data-share-panel]");
    if (!window.fetch || !window.FormData || !panel) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    form.setAttribute("aria-busy", "true");
    postJSON(form)
      .then(function (result) {
        if (!result.ok) {
          say(result.data.message || TEXTS.failed, true);
          return;
        }
        var url = panel.querySelector("[data-share-url]");
        var qr = panel.querySelector("[data-share-qr]");
        if (url) url.value = result.data.url;
        if (qr && result.data.qr) {
          qr.src = result.data.qr;
          qr.hidden = false;
        }
        panel.hidden = false;
        addPoints(result.data.points);
        if (url) {
          url.focus();
          url.select();
        }
        say(result.data.message);
      })
      .catch(function () {
        form.removeAttribute("aria-busy");
        form.submit();
      })
      .then(function () {
        form.removeAttribute("aria-busy");
      });
  }

  function copy(button) {
    var panel = button.closest("[data-share-panel]") || document;
    var input = panel.querySelector("[data-share-url]");
    if (!input || !input.value) return;
    var done = function () {
      say(TEXTS.copied);
    };
    var fallback = function () {
      input.focus();
      input.select();
      try {
        if (document.execCommand("copy")) {
          done();
          return;
        }
      } catch (e) {
        /* not allowed: ask the reader to copy it */
      }
      say(TEXTS.copyFailed, true);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, fallback);
    } else {
      fallback();
    }
  }

  /* ---- 加载更多 -------------------------------------------------------------------------- */

  function loadMore(link, event) {
    var block = link.closest("[data-feed-block]");
    var list = block && block.querySelector("[data-feed]");
    if (!window.fetch || !window.DOMParser || !list) return;
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    var label = link.textContent;
    var hadFocus = document.activeElement === link;
    link.setAttribute("aria-busy", "true");
    link.textContent = link.getAttribute("data-text-loading") || TEXTS.loading;
    fetch(link.href, { credentials: "same-origin", headers: { "X-Reader-Fragment": "1" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("unexpected");
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var incoming = doc.querySelector("[data-feed]");
        var first = null;
        while (incoming && incoming.firstElementChild) {
          var node = document.adoptNode(incoming.firstElementChild);
          if (!first) first = node;
          list.appendChild(node);
        }
        var more = doc.querySelector("[data-more]");
        var current = block.querySelector("[data-more]");
        if (current && more) current.parentNode.replaceChild(document.adoptNode(more), current);
        else if (current) current.parentNode.removeChild(current);
        var target = first && first.querySelector("a");
        if (hadFocus && target) target.focus();
      })
      .catch(function () {
        link.textContent = label;
        link.removeAttribute("aria-busy");
        window.location.href = link.href;
      });
  }

  /* ---- search-as-you-type ---------------------------------------------------------------- */

  var SEARCH_ICON =
    '<svg class="rd-icon" viewBox="0 0 24 24" aria-hidden="true"><circle cx="10.5" cy="10.5" r="6.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M15.5 15.5l5 5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';

  /* The title as text and <mark> elements only, whatever the string holds. */
  function markedTitle(html) {
    var span = document.createElement("span");
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    Array.prototype.forEach.call(doc.body.childNodes, function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        span.appendChild(mark);
      } else {
        span.appendChild(document.createTextNode(node.textContent));
      }
    });
    return span;
  }

  function Suggest(input) {
    this.input = input;
    this.url = input.getAttribute("data-suggest-url");
    this.form = input.form;
    this.list = this.form.querySelector("[data-suggest-list]");
    this.status = this.form.querySelector("[data-suggest-status]");
    this.timer = null;
    this.sequence = 0;
    this.asked = null;
    this.active = -1;
    this.items = [];
    var self = this;
    input.addEventListener("input", function () {
      window.clearTimeout(self.timer);
      self.timer = window.setTimeout(function () {
        self.ask();
      }, 250);
    });
    input.addEventListener("keydown", function (event) {
      self.key(event);
    });
    input.addEventListener("focus", function () {
      if (self.items.length && input.value.trim() === self.asked) self.open();
    });
    input.addEventListener("blur", function () {
      window.setTimeout(function () {
        self.close();
      }, 150);
    });
  }

  Suggest.prototype.ask = function () {
    var self = this;
    var query = this.input.value.trim();
    if (!query) {
      this.asked = null;
      this.render([]);
      return;
    }
    if (query === this.asked) return;
    var mine = ++this.sequence;
    fetch(this.url + "?q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data || {} };
        });
      })
      .then(function (result) {
        if (mine !== self.sequence) return;
        if (!result.ok) {
          self.error(result.data.message);
          return;
        }
        self.asked = query;
        self.error("");
        self.render(result.data.suggestions || []);
      })
      .catch(function () {
        if (mine === self.sequence) self.error(self.status.getAttribute("data-text-error"));
      });
  };

  Suggest.prototype.error = function (message) {
    this.status.textContent = message || "";
    this.status.classList.toggle("is-error", !!message);
    if (message) this.render([]);
  };

  Suggest.prototype.render = function (suggestions) {
    var self = this;
    this.list.textContent = "";
    this.items = [];
    this.active = -1;
    suggestions.forEach(function (one, index) {
      var item = document.createElement("li");
      item.id = "rd-suggest-" + index;
      item.className = "rd-suggest-item";
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.setAttribute("data-url", one.url);
      item.innerHTML = SEARCH_ICON;
      item.appendChild(markedTitle(one.title_html || ""));
      item.addEventListener("mousedown", function (event) {
        event.preventDefault(); /* keep the focus in the input */
      });
      item.addEventListener("click", function () {
        window.location.href = one.url;
      });
      self.list.appendChild(item);
      self.items.push(item);
    });
    if (this.items.length) {
      var count = this.status.getAttribute("data-text-count") || "{n}";
      if (!this.status.classList.contains("is-error")) {
        this.status.textContent = count.replace("{n}", String(this.items.length));
      }
      this.open();
    } else {
      this.close();
    }
  };

  Suggest.prototype.open = function () {
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  Suggest.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.select(-1);
  };

  Suggest.prototype.select = function (index) {
    this.items.forEach(function (item, i) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    this.active = index;
    if (index >= 0) {
      this.input.setAttribute("aria-activedescendant", this.items[index].id);
      this.items[index].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  Suggest.prototype.key = function (event) {
    var open = !this.list.hidden && this.items.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!this.items.length) return;
      event.preventDefault();
      if (!open) this.open();
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = this.active + step;
      if (next < -1) next = this.items.length - 1;
      if (next >= this.items.length) next = -1;
      this.select(next);
    } else if (event.key === "Enter" && open && this.active >= 0) {
      event.preventDefault();
      window.location.href = this.items[this.active].getAttribute("data-url");
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      this.close();
    }
  };

  /* ---- the tab strip ---------------------------------------------------------------------- */

  function centreActiveTab(strip) {
    var active = strip.querySelector(".is-active");
    if (!active || strip.scrollWidth <= strip.clientWidth) return;
    var left = active.offsetLeft - strip.offsetLeft - (strip.clientWidth - active.offsetWidth) / 2;
    strip.scrollLeft = Math.max(0, left);
  }

  /* ---- learning sessions ----------------------------------------------------------------- */

  /* The top bar's 今日 x/y chip follows what this page earned. */
  function addPoints(value) {
    var points = parseInt(value, 10) || 0;
    var chip = document.querySelector(".points-chip-value");
    var match = chip && chip.textContent.trim().match(/^(\d+)\/(\d+)$/);
    if (points > 0 && match) {
      var max = parseInt(match[2], 10);
      chip.textContent = Math.min(parseInt(match[1], 10) + points, max) + "/" + max;
    }
  }

  function onLearningFinished(event) {
    var bar = document.querySelector(".rd-learn");
    if (bar) bar.classList.add("is-finished");
    addPoints((event.detail || {}).points_awarded);
  }

  /* ---- wiring ---------------------------------------------------------------------------- */

  function init() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      if (form.hasAttribute("data-reader-toggle")) onToggle(form, event);
      else if (form.hasAttribute("data-reader-share")) onShare(form, event);
    });
    document.addEventListener("click", function (event) {
      var target = event.target instanceof Element ? event.target : null;
      if (!target) return;
      var more = target.closest("[data-more-link]");
      if (more) {
        loadMore(more, event);
        return;
      }
      var copyButton = target.closest("[data-copy]");
      if (copyButton) copy(copyButton);
    });
    document.addEventListener("learning:finished", onLearningFinished);
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
      button.hidden = false;
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-tab-strip]"), centreActiveTab);
    var input = document.querySelector("[data-suggest-url]");
    if (input && input.form && window.fetch && window.DOMParser) new Suggest(input);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
