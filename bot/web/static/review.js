// The review dashboard's one behaviour beyond htmx: a transcript opens on its
// latest turns (scrolled to the end) unless the address names a message.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var messages = document.querySelectorAll(".transcript .msg");
  if (messages.length && !window.location.hash && !/[?&]before=/.test(window.location.search)) {
    messages[messages.length - 1].scrollIntoView({ block: "end" });
  }
});
