/* Rapport's web widget: rasa-webchat (vendored from npm) set up for the coach,
 * plus the card that shows the finished Customer Relationships block as sticky
 * notes, with Markdown and PNG downloads. /widget.js loads this file and calls
 * RapportWidget.mount(). Founder text only ever reaches the page as textContent. */
(function () {
  "use strict";

  // rasa-webchat's UMD bundle carries its own React and does not export it. A
  // custom message component must return a React element; a plain host element
  // is just this object, the same as React.createElement("div", {ref}) makes.
  var REACT_ELEMENT = typeof Symbol === "function" && Symbol.for ? Symbol.for("react.element") : 0xeac7;

  function reactHost(type, props, ref) {
    return { $$typeof: REACT_ELEMENT, type: type, key: null, ref: ref, props: props, _owner: null };
  }

  // --- DOM helpers ---------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }

  function label(id) {
    var words = String(id || "").replace(/[_-]+/g, " ").trim();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function download(filename, href) {
    var link = document.createElement("a");
    link.href = href;
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  var GOALS = { acquire: "Acquire new customers", keep: "Keep them", grow: "Grow them" };
  var ORIGINS = { added: "added by you", edited: "your change" };

  // --- the card --------------------------------------------------------------------

  function renderCard(host, message, assetsUrl) {
    var block = message.block || {};
    var card = el("article", "rapport-card");
    card.setAttribute("aria-label", "Customer Relationships block");

    var head = el("header", "rapport-card__head");
    head.appendChild(el("div", "rapport-card__kicker", "Business Model Canvas · Customer Relationships"));
    head.appendChild(el("h3", "rapport-card__venture", block.venture_name || "My venture"));
    if (block.venture_offer) head.appendChild(el("p", "rapport-card__offer", block.venture_offer));
    var about = [block.status === "final" ? "Final" : "Draft"];
    if (block.version) about.push("version " + block.version);
    if (block.created_at) {
      about.push("saved " + new Date(block.created_at).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }));
    }
    head.appendChild(el("div", "rapport-card__meta", about.join(" · ")));
    card.appendChild(head);

    var board = el("div", "rapport-card__board");
    (block.segments || []).forEach(function (segment, index) {
      var profile = segment.profile || {};
      var lane = el("section", "rapport-lane");
      lane.setAttribute("data-segment", profile.name || "");

      var who = el("div", "rapport-note rapport-note--segment");
      who.appendChild(el("small", "rapport-note__tag", "Segment " + (index + 1)));
      who.appendChild(el("strong", "rapport-note__title", profile.name || "Unnamed segment"));
      if (profile.needs) who.appendChild(el("span", "rapport-note__text", profile.needs));
      lane.appendChild(who);

      var notes = el("div", "rapport-lane__types");
      (segment.choices || []).forEach(function (choice) {
        var note = el("div", "rapport-note rapport-note--type");
        note.setAttribute("data-type-id", choice.type_id || "");
        note.appendChild(el("strong", "rapport-note__title", choice.name || label(choice.type_id)));
        if (choice.reasons && choice.reasons.length) {
          note.appendChild(el("span", "rapport-note__text", choice.reasons[0]));
        }
        if (ORIGINS[choice.origin]) note.appendChild(el("small", "rapport-note__tag", ORIGINS[choice.origin]));
        notes.appendChild(note);
      });
      lane.appendChild(notes);

      var facts = el("div", "rapport-lane__facts");
      if (profile.touchpoints && profile.touchpoints.length) {
        facts.appendChild(el("span", "rapport-chip", "Meets you: " + profile.touchpoints.map(label).join(", ")));
      }
      if (GOALS[profile.goal]) facts.appendChild(el("span", "rapport-chip", "First: " + GOALS[profile.goal]));
      if (facts.childNodes.length) lane.appendChild(facts);
      board.appendChild(lane);
    });
    card.appendChild(board);

    var name = message.file_name || "customer-relationships";  // made by the coach (bot/coach/export.py)
    var actions = el("footer", "rapport-card__actions");
    var markdown = el("button", "rapport-button", "Download Markdown");
    markdown.type = "button";
    markdown.setAttribute("data-download", "markdown");
    markdown.addEventListener("click", function () {
      var url = URL.createObjectURL(new Blob([message.markdown || ""], { type: "text/markdown;charset=utf-8" }));
      download(name + ".md", url);
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    });
    var png = el("button", "rapport-button", "Download PNG");
    png.type = "button";
    png.setAttribute("data-download", "png");
    png.addEventListener("click", function () {
      png.disabled = true;
      withHtmlToImage(assetsUrl, function (htmlToImage) {
        card.classList.add("rapport-card--picture"); // the picture without its buttons
        htmlToImage.toPng(card, {
          pixelRatio: 2,
          skipFonts: true, // system fonts only: nothing to fetch from the host page
          backgroundColor: "#ffffff"
        }).then(function (dataUrl) {
          download(name + ".png", dataUrl);
        }).catch(function (error) {
          console.error("Rapport widget: the PNG could not be made", error);
        }).then(function () {
          card.classList.remove("rapport-card--picture");
          png.disabled = false;
        });
      });
    });
    actions.appendChild(markdown);
    actions.appendChild(png);
    card.appendChild(actions);
    host.appendChild(card);

    // Lets the page that embeds the coach react to a finished block.
    window.dispatchEvent(new CustomEvent("rapport:block", { detail: block }));
  }

  // html-to-image is only needed for the PNG: loaded on the first click.
  var htmlToImageWaiting = null;
  function withHtmlToImage(assetsUrl, done) {
    if (window.htmlToImage) return done(window.htmlToImage);
    if (htmlToImageWaiting) return htmlToImageWaiting.push(done);
    htmlToImageWaiting = [done];
    var tag = document.createElement("script");
    tag.src = assetsUrl + "/vendor/html-to-image.js";
    tag.onload = function () {
      var waiting = htmlToImageWaiting;
      htmlToImageWaiting = null;
      waiting.forEach(function (callback) { callback(window.htmlToImage); });
    };
    document.head.appendChild(tag);
  }

  // --- the founder's data export: one download button per file ------------------

  function renderDataExport(host, message) {
    var box = el("div", "rapport-export");
    box.setAttribute("aria-label", "Your data");
    (message.files || []).forEach(function (file) {
      var kind = /json/.test(file.mimetype || "") ? "JSON" : "Markdown";
      var button = el("button", "rapport-button", "Download " + kind);
      button.type = "button";
      button.setAttribute("data-download", kind.toLowerCase());
      button.addEventListener("click", function () {
        var url = URL.createObjectURL(new Blob([file.content || ""], { type: (file.mimetype || "text/plain") + ";charset=utf-8" }));
        download(String(file.filename || "rapport-my-data").replace(/[\\/]/g, "-"), url);
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      });
      box.appendChild(button);
    });
    host.appendChild(box);
  }

  // --- after "delete my data": the browser's copy of the conversation goes too -----

  var SESSION_KEY = "chat_session"; // where rasa-webchat keeps the conversation (params.storage)

  function forgetInThisBrowser(host) {
    function drop() {
      try { window.localStorage.removeItem(SESSION_KEY); window.sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* storage off */ }
    }
    drop();
    // rasa-webchat writes its history back on every change: drop it again on the way out.
    window.addEventListener("beforeunload", drop);
    host.appendChild(el("p", "rapport-export", "This browser's copy of the conversation is cleared too. Starting afresh…"));
    // A new page load starts a new, empty conversation.
    setTimeout(function () { window.location.reload(); }, 2500);
  }

  // --- the session: issued and signed by the Rasa server ------------------------------

  // The server gives each new conversation "web:<id>.<proof>" (bot/plugins/channels/identity.py);
  // rasa-webchat keeps it as its session_id and sends it back with every request. The
  // proof is this browser's secret: it leaves the browser only towards the Rasa server.
  var SIGNED_SESSION = /^web:[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

  function storedSession() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(SESSION_KEY) || "null");
      return stored && typeof stored.session_id === "string" ? stored.session_id : null;
    } catch (e) { return null; }
  }

  // A conversation kept from before signed sessions (or anything else unsigned) cannot be
  // continued: the server would start a new one, so the old history is not shown beside it.
  function dropUnsignedSession() {
    var session = storedSession();
    if (session !== null && !SIGNED_SESSION.test(session)) {
      try { window.localStorage.removeItem(SESSION_KEY); } catch (e) { /* storage off */ }
    }
  }

  // The server confirmed another session than the one kept (its proof no longer checks
  // out, e.g. a new WIDGET_SECRET): what this browser shows belongs to a conversation the
  // server will not continue, so it starts afresh, as after a delete.
  function onSessionConfirm(root) {
    return function (confirmed) {
      var session = confirmed && confirmed.session_id ? confirmed.session_id : confirmed;
      var kept = storedSession();
      if (kept && session && kept !== session) {
        try { window.localStorage.removeItem(SESSION_KEY); } catch (e) { /* storage off */ }
        root.setAttribute("data-rapport-session", "renewed");
        setTimeout(function () { window.location.reload(); }, 500);
      }
    };
  }

  var CUSTOM_MESSAGES = { canvas_block: renderCard, data_export: renderDataExport, data_deleted: forgetInThisBrowser };

  function customMessageComponent(assetsUrl) {
    // rasa-webchat renders a custom message with the message's keys as props.
    return function CustomMessage(props) {
      var custom = props && props.custom;
      var render = custom && Object.prototype.hasOwnProperty.call(CUSTOM_MESSAGES, custom.type) && CUSTOM_MESSAGES[custom.type];
      if (!render) return null;
      return reactHost("div", { className: "rapport-card-host" }, function (host) {
        // React re-renders the message list often: draw the message once per element.
        if (host && !host.getAttribute("data-drawn")) {
          host.setAttribute("data-drawn", "1");
          render(host, custom, assetsUrl);
        }
      });
    };
  }

  // --- message ids -----------------------------------------------------------------

  // rasa-webchat sends the same customData object with every message. Its message_id
  // is read when socket.io serialises the message, so each message gets its own id:
  // the coach processes an id at most once per conversation (bot/plugins/patches/message_ids.py),
  // so a message delivered twice is answered twice with the same replies, stored once.
  var messageCount = 0;
  function newMessageId() {
    messageCount += 1;
    var random = window.crypto && window.crypto.getRandomValues
      ? Array.prototype.map.call(window.crypto.getRandomValues(new Uint32Array(2)), function (n) { return n.toString(36); }).join("")
      : Math.random().toString(36).slice(2);
    return "w" + Date.now().toString(36) + "-" + messageCount + "-" + random;
  }

  function withMessageIds(data) {
    Object.defineProperty(data, "message_id", { enumerable: true, get: newMessageId });
    return data;
  }

  // --- accessibility: what rasa-webchat leaves out ------------------------------------
  // Names for its icon buttons and its input, the message list as a live log that
  // a keyboard can scroll, quick replies a keyboard can press, and focus that goes
  // somewhere sensible when the chat opens, closes or a quick reply disappears.
  // Re-applied whenever rasa-webchat (React) draws new elements.

  var NAMES = {
    ".rw-send": "Send",
    ".rw-close-button": "Close the chat",
    ".rw-new-message": "Your answer to the coach"
  };

  function inputOf(root) {
    return root.querySelector("textarea.rw-new-message");
  }

  function focusSoon(find) {
    // rasa-webchat redraws right after the event: focus what is there once it has.
    setTimeout(function () {
      var target = find();
      if (target && target.isConnected) target.focus({ preventScroll: false });
    }, 0);
  }

  function describeWidget(root) {
    Object.keys(NAMES).forEach(function (selector) {
      root.querySelectorAll(selector).forEach(function (node) {
        if (!node.getAttribute("aria-label")) node.setAttribute("aria-label", NAMES[selector]);
      });
    });
    var launcher = root.querySelector(".rw-launcher");
    if (launcher) {
      var open = Boolean(root.querySelector(".rw-chat-open"));
      launcher.setAttribute("aria-label", open ? "Close the chat with the coach" : "Chat with Rapport, your coach");
      launcher.setAttribute("aria-expanded", open ? "true" : "false");
    }
    var fullScreen = Boolean(root.querySelector(".rw-full-screen"));
    root.querySelectorAll(".rw-toggle-fullscreen-button").forEach(function (toggle) {
      toggle.setAttribute("aria-label", fullScreen ? "Leave full screen" : "Full screen");
    });
    // rasa-webchat's title is an h4 under a page's h1: one level below it.
    root.querySelectorAll("h4.rw-title").forEach(function (title) { title.setAttribute("aria-level", "2"); });
    root.querySelectorAll(".rw-messages-container").forEach(function (list) {
      if (list.getAttribute("role") === "log") return;
      // A polite live region: screen readers read each new message once it is drawn.
      list.setAttribute("role", "log");
      list.setAttribute("aria-live", "polite");
      list.setAttribute("aria-relevant", "additions");
      list.setAttribute("aria-label", "Conversation with the coach");
      list.tabIndex = 0; // it scrolls: a keyboard must reach it
    });
    // The typing dots say nothing; the message that follows them does.
    root.querySelectorAll(".rw-typing-indication").forEach(function (dots) {
      dots.setAttribute("aria-hidden", "true");
    });
    root.querySelectorAll(".rw-reply:not(a)").forEach(function (reply) {
      if (reply.getAttribute("role") === "button") return;
      reply.setAttribute("role", "button");
      reply.tabIndex = 0;
    });
  }

  function makeAccessible(root, options) {
    var focusedOnce = false;
    var lastFocused = null;
    // The chat was opened and its input should take the focus: the input comes only once
    // the widget is connected, which can be after the opening (a slow network, a busy server).
    var inputWanted = false;
    root.addEventListener("focusin", function (event) { lastFocused = event.target; });
    function update() {
      describeWidget(root);
      var input = inputOf(root);
      var lost = !document.activeElement || document.activeElement === document.body;
      // The landing page: the founder can type at once (once, and only if nothing else has focus).
      if (options.autofocus && !focusedOnce && input) {
        focusedOnce = true;
        if (lost) input.focus();
      }
      // rasa-webchat redraws: the element that had the focus may be gone (a quick reply
      // once chosen, the input redrawn when the connection comes). The input takes it.
      if (lastFocused && !lastFocused.isConnected && lost && input) input.focus();
      if (inputWanted && input && !input.disabled) {
        var active = document.activeElement;
        var unmoved = lost || (active && active.classList.contains("rw-launcher"));
        if (active === input || !unmoved) inputWanted = false; // there, or the founder went elsewhere
        else input.focus();
      }
    }
    // New elements, and class changes (open, full screen) that redraw nothing.
    new MutationObserver(update).observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
    update();

    // Floating chat: Escape closes it. Full screen (a phone), Tab stays inside the chat,
    // as the page behind it cannot be seen.
    root.addEventListener("keydown", function (event) {
      var chat = root.querySelector(".rw-chat-open .rw-conversation-container");
      if (!chat || root.classList.contains("rapport-widget--embedded")) return;
      if (event.key === "Escape") {
        var close = Array.prototype.filter.call(root.querySelectorAll(".rw-close-button, .rw-launcher"), function (button) {
          return button.offsetParent !== null;
        })[0];
        if (close) { event.preventDefault(); close.click(); }
        return;
      }
      var box = chat.getBoundingClientRect();
      if (event.key !== "Tab" || box.width < window.innerWidth || box.height < window.innerHeight) return;
      var stops = Array.prototype.filter.call(
        chat.querySelectorAll("button:not([disabled]), textarea, a[href], [tabindex='0']"),
        function (node) { return node.offsetParent !== null; }
      );
      if (!stops.length) return;
      var first = stops[0], last = stops[stops.length - 1];
      if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
    });

    // Enter or Space on a quick reply chooses it, as a click does; the replies then go,
    // so focus goes back to the input rather than to the top of the page.
    root.addEventListener("keydown", function (event) {
      var reply = event.target.closest && event.target.closest(".rw-reply[role=button]");
      if (!reply || (event.key !== "Enter" && event.key !== " ")) return;
      event.preventDefault();
      reply.click();
      focusSoon(function () {
        var active = document.activeElement;
        return !active || active === document.body || !root.contains(active) ? inputOf(root) : null;
      });
    });

    return {
      onChatOpen: function () { inputWanted = true; focusSoon(function () { return inputOf(root); }); },
      onChatClose: function () {
        inputWanted = false;
        focusSoon(function () { return root.querySelector(".rw-launcher"); });
      }
    };
  }

  // --- mounting --------------------------------------------------------------------

  function mount(options) {
    var target = options.target ? document.querySelector(options.target) : null;
    if (options.target && !target) console.warn("Rapport widget: no element matches " + options.target);
    // Without a target the chat is a launcher button, fixed at the bottom right.
    var root = target || document.body.appendChild(el("div", "rapport-widget--floating"));
    root.classList.add("rapport-widget");
    if (target) root.classList.add("rapport-widget--embedded");
    else {
      // A landmark of its own on another site's page.
      root.setAttribute("role", "region");
      root.setAttribute("aria-label", "Chat with Rapport, your coach");
    }

    // The connection's state, for the styles (a "reconnecting" note) and for tests,
    // and said to screen readers when it is lost and when it comes back.
    var status = el("p", "rapport-status");
    status.setAttribute("role", "status");
    root.insertAdjacentElement("afterend", status);
    function connection(state) {
      return function () {
        var was = root.getAttribute("data-rapport-connection");
        root.setAttribute("data-rapport-connection", state);
        if (state === "disconnected" && was !== "disconnected") status.textContent = "Reconnecting to the coach…";
        if (state === "connected" && was === "disconnected") status.textContent = "Connected to the coach again.";
      };
    }
    // Links in the coach's messages go to http(s) and mail only, never javascript:.
    root.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest(".rw-conversation-container a[href]");
      if (link && !/^(https?:|mailto:)/i.test(link.getAttribute("href"))) event.preventDefault();
    }, true);

    dropUnsignedSession();
    var access = makeAccessible(root, { autofocus: Boolean(options.autofocus) });

    window.WebChat.default({
      socketUrl: options.socketUrl,
      socketPath: "/socket.io/",
      // Sent with every message; Rasa keeps it as the message's metadata.
      customData: withMessageIds(options.cohort ? { cohort: options.cohort } : {}),
      initPayload: "/greet",
      title: "Rapport",
      subtitle: "Your Customer Relationships coach",
      inputTextFieldHint: "Type your answer…",
      connectingText: "Connecting to the coach…",
      embedded: Boolean(target),
      showFullScreenButton: !target,
      // On a small screen (rasa-webchat: up to 800 px) the open chat fills the screen,
      // with its close button in the header.
      showCloseButton: !target,
      onWidgetEvent: access,
      hideWhenNotConnected: false,
      withRules: false,
      params: { storage: "local" }, // the conversation survives a reload
      // The typing dots show this long before each coach message.
      customMessageDelay: function (text) { return Math.min(1200, 300 + text.length * 2); },
      customComponent: customMessageComponent(options.assetsUrl),
      mainColor: "#243b63",
      userBackgroundColor: "#243b63",
      userTextColor: "#ffffff",
      assistBackgoundColor: "#f0f2f7", // sic: rasa-webchat's prop name
      assistTextColor: "#1d2433",
      onSocketEvent: {
        connect: connection("connected"),
        disconnect: connection("disconnected"),
        connect_error: connection("disconnected"), // socket.io-client goes on trying by itself
        session_confirm: onSessionConfirm(root)
      }
    }, root);
  }

  window.RapportWidget = { mount: mount };
})();
