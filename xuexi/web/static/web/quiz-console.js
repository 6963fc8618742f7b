/* 学习平台 — the quiz console's small helps (题库, 专项答题, 每周答题). Loaded only by those
   pages; everything works without it (CSP: no inline scripts, this file only).

   - The options editor shows four option rows and the filled ones, with 添加选项 for more.
   - A single-choice question keeps one 正确 box ticked.
   - A button with data-confirm asks before it submits (删除). */
(function () {
  "use strict";

  var SHOWN_AT_LEAST = 4;

  function questionType(form) {
    var checked = form.querySelector("input[name=type]:checked");
    return checked ? checked.value : form.getAttribute("data-question-type");
  }

  function initOptions(form) {
    var part = form.querySelector("[data-bank-options]");
    if (!part) return;
    var rows = Array.prototype.slice.call(part.querySelectorAll("[data-bank-option]"));
    var lastFilled = -1;
    rows.forEach(function (row, index) {
      var text = row.querySelector("input[type=text], input:not([type])");
      var box = row.querySelector("input[type=checkbox]");
      if ((text && text.value.trim()) || (box && box.checked) || row.querySelector(".field-error")) {
        lastFilled = index;
      }
    });
    var visible = Math.max(SHOWN_AT_LEAST, lastFilled + 1);
    rows.forEach(function (row, index) {
      row.hidden = index >= visible;
    });
    if (visible >= rows.length) return;
    var add = document.createElement("button");
    add.type = "button";
    add.className = "btn btn-outline btn-sm bank-option-add";
    add.textContent = part.getAttribute("data-text-add") || "+";
    add.addEventListener("click", function () {
      var next = rows.filter(function (row) {
        return row.hidden;
      })[0];
      if (!next) return;
      next.hidden = false;
      var input = next.querySelector("input[type=text], input:not([type])");
      if (input) input.focus();
      if (!rows.some(function (row) { return row.hidden; })) add.remove();
    });
    part.querySelector(".bank-options").insertAdjacentElement("afterend", add);
  }

  function initSingleChoice(form) {
    form.addEventListener("change", function (event) {
      var box = event.target;
      if (box.name !== "correct" || !box.checked || questionType(form) !== "single") return;
      form.querySelectorAll("input[name=correct]").forEach(function (other) {
        if (other !== box) other.checked = false;
      });
    });
  }

  function initConfirm() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-confirm]");
      if (button && !window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  }

  function init() {
    document.querySelectorAll("[data-bank-form]").forEach(function (form) {
      initOptions(form);
      initSingleChoice(form);
    });
    initConfirm();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
