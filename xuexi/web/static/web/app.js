/* 学习平台 — page behaviour without a framework. The CSP allows only this file: no inline
   scripts, no inline handlers. Everything here is progressive: pages work without it, except
   the "获取验证码" button, which needs it to ask the server for a code. */
(function () {
  "use strict";

  var PHONE_RE = /^1[3-9]\d{9}$/;

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* ---- 获取验证码 ------------------------------------------------------------------------ */

  function storageKey(button) {
    return "xuexi:sms-until:" + button.getAttribute("data-sms-purpose");
  }

  function remember(button, seconds) {
    try {
      sessionStorage.setItem(storageKey(button), String(Date.now() + seconds * 1000));
    } catch (e) {
      /* private mode: the countdown simply does not survive a reload */
    }
  }

  function remembered(button) {
    try {
      var until = parseInt(sessionStorage.getItem(storageKey(button)) || "0", 10);
      return Math.ceil((until - Date.now()) / 1000);
    } catch (e) {
      return 0;
    }
  }

  function countDown(button, seconds) {
    var label = button.getAttribute("data-label");
    var template = button.getAttribute("data-text-wait") || "{n}";
    var left = Math.max(1, Math.ceil(seconds));
    button.disabled = true;
    function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = template.replace("{n}", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  function showStatus(button, message, ok) {
    var status = document.getElementById(button.getAttribute("data-sms-status"));
    if (!status) return;
    status.textContent = message || "";
    status.classList.toggle("is-ok", !!ok);
    status.classList.toggle("is-error", !ok);
  }

  function requestCode(button) {
    var form = button.closest("form");
    var phoneInput = form && form.querySelector("input[name=phone]");
    var phone = phoneInput ? phoneInput.value.replace(/\s+/g, "") : "";
    if (!PHONE_RE.test(phone)) {
      showStatus(button, button.getAttribute("data-text-phone"), false);
      if (phoneInput) phoneInput.focus();
      return;
    }
    var label = button.getAttribute("data-label");
    button.disabled = true;
    button.textContent = button.getAttribute("data-text-sending") || label;

    var body = new URLSearchParams();
    body.set("phone", phone);
    body.set("purpose", button.getAttribute("data-sms-purpose"));

    fetch(button.getAttribute("data-sms-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken(form),
        "X-Requested-With": "XMLHttpRequest",
        Accept: "application/json",
      },
      body: body,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            return { status: response.status, data: data };
          });
      })
      .then(function (result) {
        var data = result.data || {};
        var wait = data.resend_after || data.retry_after || 0;
        showStatus(button, data.message || button.getAttribute("data-text-network"), !!data.ok);
        if (wait > 0) {
          remember(button, wait);
          countDown(button, wait);
        } else {
          button.disabled = false;
          button.textContent = label;
        }
        if (data.ok) {
          var code = form.querySelector("input[name=code]");
          if (code) code.focus();
        }
      })
      .catch(function () {
        showStatus(button, button.getAttribute("data-text-network"), false);
        button.disabled = false;
        button.textContent = label;
      });
  }

  function initSmsButtons() {
    var buttons = document.querySelectorAll("[data-sms-button]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.setAttribute("data-label", button.textContent.trim());
      var left = remembered(button);
      if (left > 0) countDown(button, left);
      button.addEventListener("click", function () {
        requestCode(button);
      });
    });
  }

  /* ---- Dismissible banners, auto-submitting filters ---------------------------------------- */

  function initDismiss() {
    document.addEventListener("click", function (event) {
      var close = event.target.closest("[data-dismiss]");
      if (!close) return;
      var alert = close.closest("[data-alert]");
      if (alert) alert.remove();
    });
  }

  function initAutosubmit() {
    var selects = document.querySelectorAll("select[data-autosubmit]");
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener("change", function () {
        if (select.form) select.form.submit();
      });
    });
  }

  /* ---- Picture captcha: tap the image for a new one -------------------------------------- */

  function initCaptcha() {
    var boxes = document.querySelectorAll("[data-captcha]");
    Array.prototype.forEach.call(boxes, function (box) {
      var image = box.querySelector("img.captcha");
      var key = box.querySelector("input[type=hidden]");
      if (!image || !key) return;
      image.setAttribute("role", "button");
      image.setAttribute("tabindex", "0");
      function refresh() {
        fetch(box.getAttribute("data-captcha-refresh"), {
          headers: { "X-Requested-With": "XMLHttpRequest" },
          credentials: "same-origin"
        })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            image.src = data.image_url;
            key.value = data.key;
          });
      }
      image.addEventListener("click", refresh);
      image.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          refresh();
        }
      });
    });
  }

  /* ---- Console: the organisation tree, loaded one level at a time ------------------------ */

  function getHtml(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest", Accept: "text/html" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text();
    });
  }

  function initTree() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-tree-toggle]");
      if (!button) return;
      var node = button.closest(".tree-node");
      var list = node && node.querySelector(":scope > .tree-list");
      if (button.getAttribute("aria-busy") === "true") return;
      if (button.getAttribute("aria-expanded") === "true") {
        if (list) list.hidden = true;
        button.setAttribute("aria-expanded", "false");
        return;
      }
      if (list) {
        list.hidden = false;
        button.setAttribute("aria-expanded", "true");
        return;
      }
      button.setAttribute("aria-busy", "true");
      button.classList.remove("is-error");
      getHtml(button.getAttribute("data-url"))
        .then(function (html) {
          node.insertAdjacentHTML("beforeend", html);
          button.setAttribute("aria-expanded", "true");
        })
        .catch(function () {
          button.classList.add("is-error");
        })
        .then(function () {
          button.removeAttribute("aria-busy");
        });
    });
  }

  function initTreeSearch() {
    var forms = document.querySelectorAll("[data-tree-search]");
    Array.prototype.forEach.call(forms, function (form) {
      var input = form.querySelector("input[name=q]");
      var box = form.parentNode.querySelector("[data-tree-results]");
      if (!input || !box) return;
      var timer = null;
      var asked = "";
      function search() {
        var q = input.value.trim();
        if (q === asked) return;
        asked = q;
        if (!q) {
          box.hidden = true;
          box.innerHTML = "";
          return;
        }
        var url = form.getAttribute("action") + "?partial=1&q=" + encodeURIComponent(q);
        getHtml(url)
          .then(function (html) {
            if (asked !== q) return; /* a newer search is on its way */
            box.innerHTML = html;
            box.hidden = false;
          })
          .catch(function () {
            form.submit();
          });
      }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        window.clearTimeout(timer);
        search();
      });
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(search, 300);
      });
    });
  }

  function initTreePanel() {
    /* On phones the tree starts folded so that the page's content comes first. */
    var panel = document.querySelector("[data-tree-panel]");
    if (panel && window.matchMedia("(max-width: 1099.98px)").matches) panel.open = false;
  }

  /* ---- Console: forms in a dialog (the links still work as pages without this) ----------- */

  function initDialogs() {
    var dialog = document.querySelector("[data-dialog-box]");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var content = dialog.querySelector("[data-dialog-content]");
    var opener = null;

    function withDialogFlag(url) {
      return url + (url.indexOf("?") === -1 ? "?" : "&") + "dialog=1";
    }

    function show(html) {
      content.innerHTML = html;
      var heading = content.querySelector(".dialog-title");
      if (heading) {
        heading.id = "dialog-title";
        dialog.setAttribute("aria-labelledby", "dialog-title");
      }
      if (!dialog.open) dialog.showModal();
      var field =
        content.querySelector(".has-error input, .has-error select, .has-error textarea") ||
        content.querySelector("form.form input:not([type=hidden]), form.form select, textarea");
      if (field) field.focus();
      else {
        var submit = content.querySelector("button[type=submit]");
        if (submit) submit.focus();
      }
    }

    function load(url) {
      return getHtml(withDialogFlag(url)).then(show);
    }

    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-dialog]");
      if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
        event.preventDefault();
        opener = link;
        load(link.href).catch(function () {
          window.location.href = link.href;
        });
        return;
      }
      var close = event.target.closest("[data-dialog-close]");
      if (close && dialog.open && dialog.contains(close)) {
        event.preventDefault();
        dialog.close();
      }
    });

    /* A search inside the dialog (GET) refreshes the dialog instead of leaving the page. */
    content.addEventListener("submit", function (event) {
      var form = event.target;
      if ((form.getAttribute("method") || "get").toLowerCase() !== "get") return;
      event.preventDefault();
      var query = new URLSearchParams(new FormData(form)).toString();
      load(form.getAttribute("action") + "?" + query).catch(function () {
        form.submit();
      });
    });

    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close(); /* a click on the backdrop */
    });
    dialog.addEventListener("close", function () {
      content.innerHTML = "";
      if (opener) opener.focus();
      opener = null;
    });
  }

  function initPrint() {
    document.addEventListener("click", function (event) {
      if (event.target.closest("[data-print]")) window.print();
    });
  }

  // On a phone the console menu is one strip that scrolls sideways: bring the current page's
  // item into view (only the strip scrolls, never the page).
  function initConsoleNav() {
    var nav = document.querySelector(".console-nav");
    var current = nav && nav.querySelector("[aria-current='page']");
    if (!current || nav.scrollWidth <= nav.clientWidth) return;
    var offset = current.getBoundingClientRect().left - nav.getBoundingClientRect().left;
    nav.scrollLeft = Math.max(0, nav.scrollLeft + offset - (nav.clientWidth - current.offsetWidth) / 2);
  }

  function init() {
    initConsoleNav();
    initCaptcha();
    initSmsButtons();
    initDismiss();
    initAutosubmit();
    initTree();
    initTreeSearch();
    initTreePanel();
    initDialogs();
    initPrint();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
