/* Rapport web widget loader. A site owner embeds the coach with one tag:
 *
 *   <script src="https://COACH-HOST/widget.js" data-cohort="SPRING-2025" async></script>
 *
 * Optional attributes: data-cohort (program code, stored with the founder's block),
 * data-target (CSS selector of an element to show the chat in, always open; without
 * it the chat is a launcher button at the bottom right), data-socket-url (the Rasa
 * server, when it is not on this host at the configured port), data-autofocus (with
 * data-target: the chat's input takes the focus when the page opens).
 * Everything loads from the host this file came from, never from a CDN. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.rapportWidgetLoading) return; // one coach per page
  window.rapportWidgetLoading = true;
  var config = {{ config|tojson }};
  var base = new URL(script.src, window.location.href);
  var origin = base.origin;
  var data = script.dataset;
  var socketUrl = data.socketUrl || config.socketUrl || (base.protocol + "//" + base.hostname + ":" + config.rasaPort);

  function load(url, done) {
    var tag = document.createElement("script");
    tag.src = url;
    tag.onload = done;
    tag.onerror = function () { console.error("Rapport widget: could not load " + url); };
    document.head.appendChild(tag);
  }

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = origin + "/static/rapport-widget.css";
  document.head.appendChild(css);

  load(origin + "/vendor/rasa-webchat.js", function () {
    load(origin + "/static/rapport-widget.js", function () {
      window.RapportWidget.mount({
        assetsUrl: origin,
        socketUrl: socketUrl,
        // As the web app checks ?cohort= on its own page: the canvas store keeps 64 characters.
        cohort: /^[\w .:\/-]{1,64}$/.test(data.cohort || "") ? data.cohort : "",
        target: data.target || "",
        // data-autofocus: the chat's input takes the focus once it is shown (the landing page).
        autofocus: "autofocus" in data
      });
    });
  });
})();
