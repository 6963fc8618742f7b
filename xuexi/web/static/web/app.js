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

  function init() {
    initCaptcha();
    initSmsButtons();
    initDismiss();
    initAutosubmit();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
