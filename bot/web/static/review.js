// The review dashboard's behaviour beyond htmx.
(function () {
  "use strict";

  // A transcript opens on its latest turns (scrolled to the end) unless the address names a message.
  document.addEventListener("DOMContentLoaded", function () {
    var messages = document.querySelectorAll(".transcript .msg");
    if (messages.length && !window.location.hash && !/[?&]before=/.test(window.location.search)) {
      messages[messages.length - 1].scrollIntoView({ block: "end" });
    }
  });

  // Keyboard and screen readers: htmx replaces the part of the page a form changed
  // (the review panel, a flag, the list's results). The focus would fall back to the
  // top of the page: it goes to the same control in the new part instead, and the
  // change is announced in the page's status line.
  var pending = null;

  function key(form) {
    var marker = form && form.querySelector("input[name=event_id], input[name=remove]");
    return form ? form.getAttribute("action") + (marker ? "|" + marker.name + "=" + marker.value : "") : "";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    var active = document.activeElement;
    pending = {
      form: key(form),
      action: form ? form.getAttribute("action") : "",
      name: active && active.name ? active.name : "",
      button: active && active.tagName === "BUTTON",
      done: form ? form.getAttribute("data-done") || "" : ""
    };
  });

  document.addEventListener("htmx:afterSettle", function () {
    var was = pending;
    pending = null;
    if (!was) return;
    var status = document.getElementById("status");
    var results = document.querySelector("#results [aria-label]");
    var said = was.done || (was.action === "/review/conversations" && results ? results.getAttribute("aria-label") : "");
    if (status && said) status.textContent = said;
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var forms = Array.prototype.filter.call(document.querySelectorAll("form[action]"), function (form) {
      return key(form) === was.form;
    });
    if (!forms.length) {
      forms = Array.prototype.filter.call(document.querySelectorAll("form[action]"), function (form) {
        return form.getAttribute("action") === was.action && !form.querySelector("input[name=remove]");
      });
    }
    var form = forms[0];
    var target = form && ((was.name && form.querySelector("[name='" + was.name + "']:not([type=hidden])")) ||
      form.querySelector("input:not([type=hidden]), textarea, select, button"));
    if (was.button && form && !target) target = form.querySelector("button");
    if (target) target.focus();
  });
})();
