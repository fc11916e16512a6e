"""The founders' web widget in a real headless Chromium (Debian's, driven by
Playwright): the action server, the Rasa server and the web app are started as
`make run` starts them, each on a free port with its own SQLite files.

A founder opens the landing page with a program code, talks a segment through
(typing and clicking quick replies), saves the block, sees it as a card and
downloads it; the page is reloaded; the stores are read back. Then the coach on
another site (one <script> tag), a site it refuses, and a server restart.

UPDATE_SCREENSHOTS=1 also writes docs/widget.png and docs/canvas-card.png.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, List
from urllib.parse import urlparse

import pytest
import websockets
from playwright.sync_api import Browser, Page, expect

from bot.web.app import VENDOR_FIXES, WebSettings, landing_headers, vendored_file
from deploy.launchers import ROOT, free_port
from tests.conftest import rows
from tests.socketio_wire import sender_of
from tests.web_helpers import HeldConnection, SitePage, WebCoachServers

COHORT = "SPRING-24"
VENTURE = "Brewbox, we deliver fresh coffee beans to offices"
XSS = "<script>alert(1)</script>"
# Waits for the coach; its first answers after a start can take a while.
TIMEOUT_MS = 60_000
# The coach's messages, without rasa-webchat's typing dots (drawn as a message too).
COACH_MESSAGES = ".rw-message:not(.rw-typing-indication) .rw-response"
# Records whether rasa-webchat's typing dots ever showed, however briefly.
WATCH_TYPING = """
new MutationObserver(() => {
  if (document.querySelector('.rw-typing-indication')) window.rapportSawTyping = true;
}).observe(document, {childList: true, subtree: true});
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[WebCoachServers]:
    coach = WebCoachServers(tmp_path_factory.mktemp("web"))
    try:
        coach.start_actions()
        coach.start_rasa()
        coach.start_web()
        yield coach
    finally:
        coach.stop()


class Visit:
    """One founder's browser tab, with what it saw that it should not have."""

    def __init__(self, browser: Browser, tmp_path: Path):
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 820}, device_scale_factor=2, accept_downloads=True
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(WATCH_TYPING)
        self.page: Page = self.context.new_page()
        self.dialogs: List[str] = []
        self.errors: List[str] = []
        self.outside_requests: List[str] = []
        self.console: List[str] = []  # printed when a test fails (pytest shows captured output)
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        # Dialogs of any page of this tab's context, popups included.
        self.context.on("page", lambda page: page.on("dialog", self._dialog))
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", self._check_host)
        self.tmp_path = tmp_path

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _check_host(self, request) -> None:
        if urlparse(request.url).hostname not in ("127.0.0.1", "localhost", None):
            self.outside_requests.append(request.url)

    def coach_says(self, text: str):
        """Waits for a coach message containing `text`."""
        message = self.page.locator(".rw-response", has_text=text).last
        message.wait_for()
        return message

    def type(self, text: str) -> None:
        box = self.page.locator("textarea.rw-new-message")
        box.fill(text)
        box.press("Enter")
        expect(self.page.locator(".rw-client", has_text=text).last).to_be_visible()

    def coach_answers(self, text: str) -> None:
        """Types `text` and waits for the coach's answer, whatever it says."""
        before = self.page.locator(COACH_MESSAGES).count()
        self.type(text)
        self.page.wait_for_function(
            "([selector, n]) => document.querySelectorAll(selector).length > n", arg=[COACH_MESSAGES, before]
        )
        expect(self.page.locator(".rw-typing-indication")).to_have_count(0)

    def click(self, title: str) -> None:
        self.page.locator(".rw-reply", has_text=title).last.click()

    def session(self) -> str:
        """What the widget keeps: the session the Rasa server issued, `web:<id>.<proof>`."""
        return self.page.evaluate("JSON.parse(localStorage.getItem('chat_session')).session_id")

    def session_id(self) -> str:
        """The conversation's id (Rasa's sender id): the session without its proof."""
        return sender_of(self.session())

    def download(self, kind: str, within: str = ".rapport-card") -> Path:
        with self.page.expect_download() as info:
            self.page.locator(f"{within} [data-download={kind}]").last.click()
        path = self.tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        return path

    def close(self) -> None:
        # Shown by pytest when the test failed.
        print("browser console:", *self.console, sep="\n  ")
        transcript = (
            self.page.locator(".rw-client, .rw-response").all_inner_texts() if not self.page.is_closed() else []
        )
        print("chat:", *transcript, sep="\n  ")
        self.context.close()


@pytest.fixture
def visit(browser: Browser, tmp_path: Path) -> Iterator[Visit]:
    tab = Visit(browser, tmp_path)
    yield tab
    tab.close()


def user_messages(servers: WebCoachServers, sender_id: str) -> List[dict]:
    """The founder's messages as the tracker store keeps them (Rasa's user events)."""
    sql = "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'"
    return [json.loads(data) for (data,) in rows(servers.tracker_db, sql, sender_id)]


def screenshot(page_or_locator, name: str, tmp_path: Path, scale: str = "css") -> None:
    """Into the test's folder; with UPDATE_SCREENSHOTS=1 into docs/ too.
    scale="device": at the tab's device pixel ratio (2), for a sharp close-up."""
    path = tmp_path / name
    page_or_locator.screenshot(path=str(path), scale=scale)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copy(path, ROOT / "docs" / name)


def in_own_loop(coroutine):
    """Runs a coroutine on a thread of its own: Playwright's sync API holds this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def get(url: str, origin: str = "") -> urllib.request.addinfourl:
    request = urllib.request.Request(url, headers={"Origin": origin} if origin else {})
    return urllib.request.urlopen(request, timeout=10)


# ------------------------------------------------------------------ the web app


def test_the_web_app_serves_the_page_the_loader_and_the_vendored_widget(servers):
    page = get(servers.web_url + "/?cohort=" + COHORT).read().decode()
    assert "Customer Relationships" in page and 'data-cohort="SPRING-24"' in page
    assert "/widget.js" in page and f"{servers.web_url}/widget.js" in page, "the embed snippet names this host"
    hostile = get(servers.web_url + "/?cohort=%22%3E%3Cscript%3Ealert(1)%3C/script%3E").read().decode()
    assert "<script>alert(1)" not in hostile and 'data-cohort=""' in hostile, "a bad cohort code is dropped"

    policy = get(servers.web_url + "/").headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert f"ws://127.0.0.1:{servers.rasa_port}" in policy, "the widget may reach its Rasa server, nothing else"

    loader = get(servers.web_url + "/widget.js").read().decode()
    assert f'"rasaPort": {servers.rasa_port}' in loader
    assert json.load(get(servers.web_url + "/health")) == {"status": "ok"}
    for asset in ("/vendor/rasa-webchat.js", "/vendor/html-to-image.js"):
        body = get(servers.web_url + asset).read().decode()
        assert len(body) > 10_000 and "fonts.googleapis.com" not in body, asset

    served = get(servers.web_url + "/vendor/rasa-webchat.js").read().decode()
    for text, fixed in VENDOR_FIXES["/vendor/rasa-webchat.js"]:
        assert text not in served and fixed in served

    allowed = servers.origins()[-1]  # the partner site of WEB_ORIGINS
    assert get(servers.web_url + "/health", origin=allowed).headers["Access-Control-Allow-Origin"] == allowed
    assert "Access-Control-Allow-Origin" not in get(servers.web_url + "/health", origin="http://evil.example").headers


def test_a_vendored_file_whose_fix_no_longer_applies_stops_the_app(tmp_path):
    changed = tmp_path / "index.js"
    changed.write_text("// a later rasa-webchat, written differently", encoding="utf-8")
    with pytest.raises(RuntimeError, match="no longer applies"):
        vendored_file("/vendor/rasa-webchat.js", changed)


def test_the_landing_pages_policy_names_the_socket_the_widget_uses():
    class Reached:  # the parts of a Sanic request the policy reads
        scheme, host = "https", "coach.example:8443"

    behind_proxy = landing_headers(Reached(), WebSettings(socket_url="https://chat.example/"))
    assert "connect-src 'self' https://chat.example wss://chat.example;" in behind_proxy["Content-Security-Policy"]
    Reached.host = "[::1]:8000"
    direct = landing_headers(Reached(), WebSettings(rasa_port=5005))
    assert "connect-src 'self' https://[::1]:5005 wss://[::1]:5005;" in direct["Content-Security-Policy"]


# ------------------------------------------------------------------ a founder's conversation


def test_a_founder_talks_a_segment_through_saves_and_takes_the_card(servers, visit, tmp_path):
    page = visit.page
    page.goto(f"{servers.web_url}/?cohort={COHORT}")

    # The widget opens with the coach's greeting; the founder greets back, by typing.
    expect(visit.coach_says("Ready?")).to_contain_text("Customer Relationships")
    visit.type("Hi there!")
    visit.click("I'm ready")
    visit.coach_says("What's your venture called?")
    visit.type(VENTURE)
    visit.coach_says("First segment")
    visit.type("office managers who want fresh coffee without hassle")
    visit.coach_says("Roughly how many")
    visit.type("about 200 offices at 1,500 euros a year")
    visit.coach_says("How often do they buy")
    visit.click("Regularly (recurring)")
    visit.coach_says("expertise and personal touch")
    visit.click("Quick help when stuck")
    visit.coach_says("help each other")
    visit.click("Neither")
    visit.coach_says("Where do they meet your business")
    visit.type("email, website and phone")
    visit.coach_says("What should the relationship with them do first")
    screenshot(page, "widget.png", tmp_path)
    visit.click("Keep them")
    visit.coach_says("another customer segment")
    visit.click("No, that's all")

    # The recommendations are Markdown: bold and lists, drawn, not shown as ** and 1.
    advice = visit.coach_says("Segment 1: Office managers")
    expect(advice.locator("strong").first).to_have_text("Segment 1: Office managers")
    assert advice.locator("li").count() >= 3
    assert "**" not in advice.inner_text()
    visit.coach_says("Do these fit?")

    visit.click("Looks good")
    visit.coach_says("Shall I save this block?")
    visit.click("Save it")
    visit.coach_says("Saved as version 1")
    # The saved block's Markdown arrives whole, as one message, headings drawn.
    saved = visit.coach_says("Segment: Office managers")
    expect(saved.locator("h1")).to_have_text("Customer Relationships: Brewbox")
    expect(saved.locator("h2")).to_have_text("Segment: Office managers")

    # The finished block as a card of sticky notes.
    card = page.locator(".rapport-card")
    expect(card.locator(".rapport-card__venture")).to_have_text("Brewbox")
    expect(card.locator(".rapport-note--segment")).to_contain_text("Office managers")
    types = card.locator(".rapport-note--type .rapport-note__title").all_inner_texts()
    assert len(types) >= 2, types
    expect(card.locator(".rapport-card__meta")).to_contain_text("version 1")
    card.scroll_into_view_if_needed()
    screenshot(card, "canvas-card.png", tmp_path, scale="device")

    markdown = visit.download("markdown").read_text(encoding="utf-8")
    assert markdown.startswith("# Customer Relationships: Brewbox")
    assert "## Segment: Office managers" in markdown and all(f"### {name}" in markdown for name in types)
    png = visit.download("png")
    assert png.name == "brewbox-customer-relationships-v1.png"  # bot/coach/export.py names it
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000

    # A user's HTML is text, not markup: shown as typed, and nothing runs.
    visit.coach_answers(XSS)
    expect(page.locator(".rw-client", has_text=XSS).last).to_have_text(XSS)
    assert page.locator("#rapport-coach script").count() == 0

    # The session is the server's: web:<id>, signed. A reload continues the same
    # conversation: the same session, the history shown.
    signed = visit.session()
    assert re.fullmatch(r"web:[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", signed), signed
    session = visit.session_id()
    messages = page.locator(f".rw-client, {COACH_MESSAGES}")
    history = messages.all_text_contents()
    assert len(history) > 30
    page.reload()
    expect(messages).to_have_text(history)
    expect(page.locator(".rapport-card .rapport-card__venture")).to_have_text("Brewbox")
    expect(page.locator("#rapport-coach")).to_have_attribute("data-rapport-connection", "connected")
    assert visit.session() == signed
    shown = page.locator(".rw-response h1", has_text="Customer Relationships: Brewbox")
    before = shown.count()
    visit.type("show my canvas")
    expect(shown).to_have_count(before + 1)

    # The founder takes all their data with them: two downloads.
    visit.type("send me everything you have about me")
    visit.coach_says("everything I have stored about you")
    exported = json.loads(visit.download("json", within=".rapport-export").read_text(encoding="utf-8"))
    assert [(b["venture_name"], b["version"], b["status"]) for b in exported["blocks"]] == [("Brewbox", 1, "final")]
    assert exported["sender_id"] == session
    exported_markdown = visit.download("markdown", within=".rapport-export").read_text(encoding="utf-8")
    assert "# Customer Relationships: Brewbox" in exported_markdown
    proof = signed.split(".")[1]
    assert proof not in json.dumps(exported) + exported_markdown, "the proof is the browser's secret"
    assert proof not in servers.log("rasa") + servers.log("actions"), "nor is it logged"

    assert page.evaluate("window.rapportSawTyping === true"), "the typing dots showed before the coach's messages"
    assert visit.dialogs == [], "no script typed by a user ran"
    assert visit.errors == []
    assert visit.outside_requests == [], "everything comes from the coach's own servers, no CDN"
    refused = [line for line in visit.console if "Content Security Policy" in line]
    assert refused == [], "the landing page's policy lets the whole conversation and the card's downloads work"
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.injected") is None, "a script injected into the page does not run"

    # The stores: the final block on the founder, with the page's cohort; the
    # cohort on the tracker's messages.
    founders = rows(servers.canvas_db, "SELECT id, channel, cohort FROM founders WHERE sender_id = ?", session)
    assert [(channel, cohort) for _, channel, cohort in founders] == [("socketio", COHORT)]
    final = rows(
        servers.canvas_db,
        "SELECT b.id, b.version FROM block_versions b JOIN ventures v ON b.venture_id = v.id"
        " WHERE v.founder_id = ? AND b.status = 'final'",
        founders[0][0],
    )
    assert [version for _, version in final] == [1]
    saved = rows(
        servers.canvas_db,
        "SELECT s.name, c.name FROM segments s JOIN relationship_choices c"
        " ON c.segment_id = s.id WHERE s.version_id = ? ORDER BY c.position",
        final[0][0],
    )
    assert saved == [("Office managers", name) for name in types]
    messages = user_messages(servers, session)
    assert messages and all(m["metadata"].get("cohort") == COHORT for m in messages)
    assert all(m["input_channel"] == "socketio" for m in messages)
    # Each message carried the widget's own id (processed at most once), a new one each time.
    ids = [m["message_id"] for m in messages]
    assert all(i.startswith("w") for i in ids) and len(set(ids)) == len(ids)


def test_the_coachs_markdown_links_open_in_a_new_tab_and_scripts_never_run(servers, visit):
    """The coach's own messages have no links yet: this one is sent through
    Rasa's HTTP API (enabled in these tests) to the widget's live session."""
    page = visit.page
    page.goto(servers.web_url + "/")
    visit.coach_says("Ready?")
    message = (
        "**Further reading:** [the canvas](https://canvas.example/relationships) and "
        "[a trick](javascript:alert(1))\n\n- get\n- keep\n- grow\n\n<img src=x onerror=alert(2)>"
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{servers.rasa_port}/conversations/{visit.session_id()}/tracker/events"
        f"?output_channel=socketio&execute_side_effects=true&token={servers.api_token}",
        data=json.dumps([{"event": "bot", "text": message}]).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=30).close()

    shown = visit.coach_says("Further reading")
    expect(shown.locator("strong")).to_have_text("Further reading:")
    expect(shown.locator("li")).to_have_text(["get", "keep", "grow"])
    link = shown.locator("a", has_text="the canvas")
    expect(link).to_have_attribute("href", "https://canvas.example/relationships")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(shown).to_contain_text("<img src=x onerror=alert(2)>")  # HTML from a message is text too
    assert shown.locator("img").count() == 0
    trick = shown.locator("a", has_text="a trick")
    assert trick.evaluate("a => !a.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}))"), (
        "the widget cancels a click on a javascript: link"
    )
    assert visit.dialogs == [] and visit.errors == []


# ------------------------------------------------------------------ on other sites


def embed_page(servers: WebCoachServers, cohort: str) -> str:
    """What a site owner writes: the README's snippet, nothing else of the coach."""
    return (
        f"<!doctype html><html><head><title>Acme Accelerator</title></head><body>"
        f"<h1>Acme Accelerator</h1><p>Our founders' resources.</p>"
        f'<script src="{servers.web_url}/widget.js" data-cohort="{cohort}" async></script></body></html>'
    )


def starts_the_interview(visit: Visit) -> str:
    """The greeting, "I'm ready", the first question: the conversation's id."""
    visit.coach_says("Ready?")
    visit.click("I'm ready")
    visit.coach_says("What's your venture called?")
    return visit.session_id()


def test_one_script_tag_puts_the_coach_on_an_allowed_site(servers, visit):
    site = SitePage(servers.partner_port, embed_page(servers, "ACME-7"))
    try:
        visit.page.goto(site.url)
        visit.page.locator(".rw-launcher").click()
        session = starts_the_interview(visit)
    finally:
        site.close()
    messages = user_messages(servers, session)
    assert messages and all(m["metadata"].get("cohort") == "ACME-7" for m in messages)
    assert visit.dialogs == [] and visit.errors == [] and visit.outside_requests == []


def test_a_founder_who_opens_the_chat_before_it_connects_has_one_conversation(servers, visit):
    """The launcher pressed while the widget is still connecting (a slow network, a busy
    server): one socket, one session, the greeting and the answers in one conversation,
    and no reload. rasa-webchat 1.0.1 opened a second socket here (bot/web/app.py)."""
    site = SitePage(servers.partner_port, embed_page(servers, "ACME-7"))
    page = visit.page
    connection = HeldConnection(page)
    try:
        page.goto(site.url)
        connection.wait_until_tried()
        page.locator(".rw-launcher").click()
        expect(page.locator(".rw-conversation-container")).to_be_visible()
        page.evaluate("() => { window.openedBeforeConnecting = true; }")  # gone if the page reloads
        page.wait_for_timeout(500)  # time for a second socket to start, had the widget made one
        connection.release()
        session = starts_the_interview(visit)
    finally:
        site.close()
    confirmed = [line for line in visit.console if "session_confirm:" in line]
    assert len(confirmed) == 1, confirmed
    assert page.evaluate("() => window.openedBeforeConnecting") is True, "the page was reloaded"
    said = [message["text"] for message in user_messages(servers, session)]
    assert said == ["/greet", "/affirm"], said  # the greeting and "I'm ready", in one conversation
    assert visit.dialogs == [] and visit.errors == [] and visit.outside_requests == []


def test_a_site_not_in_web_origins_is_refused(servers, visit):
    stranger_port = free_port()
    assert f"http://localhost:{stranger_port}" not in servers.origins()
    site = SitePage(stranger_port, embed_page(servers, "STRANGER"))
    try:
        with visit.page.expect_console_message(lambda message: "blocked by CORS policy" in message.text):
            visit.page.goto(site.url)
        expect(visit.page.locator(".rapport-widget")).to_have_attribute("data-rapport-connection", "disconnected")
        visit.page.locator(".rw-launcher").click()
        expect(visit.page.locator(".rw-response")).to_have_count(0)
    finally:
        site.close()


class RawSocket:
    """socket.io spoken over a bare websocket, as any page's script can open one (no CORS applies)."""

    def __init__(self, connection):
        self.connection = connection

    @classmethod
    async def open(cls, port: int, origin: str) -> "RawSocket":
        connection = await websockets.connect(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", extra_headers={"Origin": origin}
        )
        assert (await connection.recv()).startswith("0"), "engine.io open"
        await connection.send("40")  # connect to the default namespace
        return cls(connection)

    async def receive(self) -> str:
        while True:
            packet = await asyncio.wait_for(self.connection.recv(), 60)
            if packet == "2":  # engine.io ping
                await self.connection.send("3")
            else:
                return packet

    async def emit(self, event: str, data) -> None:
        await self.connection.send("42" + json.dumps([event, data]))

    async def event(self, name: str):
        while True:
            packet = await self.receive()
            if packet.startswith("42") and json.loads(packet[2:])[0] == name:
                return json.loads(packet[2:])[1]


def test_the_channel_checks_the_origin_of_websockets_too(servers):
    """A page's script can open a websocket to the Rasa server without any CORS:
    the channel itself turns away origins not in WEB_ORIGINS. An allowed origin
    gets the coach's messages in the shapes rasa-webchat draws."""

    async def refused() -> str:
        socket = await RawSocket.open(servers.rasa_port, "http://evil.example")
        try:
            return await socket.receive()
        finally:
            await socket.connection.close()

    async def greeting() -> dict:
        socket = await RawSocket.open(servers.rasa_port, servers.origins()[-1])
        try:
            assert (await socket.receive()).startswith("40"), "connected"
            # A session the server did not issue is replaced by one it signs.
            await socket.emit("session_request", {"session_id": "websocket-check"})
            session = await socket.event("session_confirm")
            assert session.startswith("web:") and session != "websocket-check"
            issued.append(session)
            await socket.emit(
                "user_uttered", {"message": "/greet", "session_id": session, "customData": {"cohort": "WS-1"}}
            )
            return await socket.event("bot_uttered")
        finally:
            await socket.connection.close()

    issued: List[str] = []
    assert in_own_loop(refused()) == '44{"message":"origin not allowed"}'
    reply = in_own_loop(greeting())
    assert "Ready?" in reply["text"]
    assert [button["title"] for button in reply["quick_replies"]] == ["I'm ready", "What will I get?"]
    cohorts = [message["metadata"].get("cohort") for message in user_messages(servers, sender_of(issued[0]))]
    assert cohorts == ["WS-1"]


def test_after_delete_my_data_the_browser_keeps_no_copy_either(servers, visit):
    page = visit.page
    page.goto(servers.web_url + "/")
    visit.coach_says("Ready?")
    visit.click("I'm ready")
    visit.coach_says("What's your venture called?")
    visit.type("Secretbrew, we roast beans for hotels")
    visit.coach_says("First segment")
    old_session = visit.session_id()
    assert "Secretbrew" in page.evaluate("localStorage.getItem('chat_session')")

    visit.type("delete my data")
    visit.coach_says("Delete all your saved blocks")
    visit.click("Yes, delete everything")
    visit.coach_says("forgotten this conversation")
    # The widget drops its copy and starts afresh, in a new conversation.
    page.wait_for_function("() => !(localStorage.getItem('chat_session') || '').includes('Secretbrew')")
    page.wait_for_load_state("load")
    visit.coach_says("Ready?")
    expect(page.locator(".rw-client", has_text="Secretbrew")).to_have_count(0)
    # The new conversation's id, once the widget has written it.
    page.wait_for_function("() => (JSON.parse(localStorage.getItem('chat_session') || '{}')).session_id")
    assert visit.session_id() != old_session
    assert "Secretbrew" not in (page.evaluate("localStorage.getItem('chat_session')") or "")
    assert not rows(
        servers.tracker_db, "SELECT id FROM events WHERE sender_id = ? AND data LIKE '%Secretbrew%'", old_session
    )
    assert visit.errors == []


def test_a_session_saved_before_signed_sessions_starts_anew(servers, visit):
    """A browser that kept the widget's own uuid (before the server issued and signed
    sessions) gets a new signed session, and the old history is not shown beside it."""
    page = visit.page
    page.goto(servers.web_url + "/")
    visit.coach_says("Ready?")
    page.wait_for_function("() => (JSON.parse(localStorage.getItem('chat_session') || '{}')).session_id")
    page.evaluate(
        """() => {
          const kept = JSON.parse(localStorage.getItem('chat_session'));
          kept.session_id = '0123456789abcdef0123456789abcdef';
          kept.conversation = kept.conversation.map(m => Object.assign({}, m, {text: 'Oldventure secret plans'}));
          localStorage.setItem('chat_session', JSON.stringify(kept));
        }"""
    )
    page.reload()
    visit.coach_says("Ready?")
    page.wait_for_function(
        "() => /^web:/.test((JSON.parse(localStorage.getItem('chat_session') || '{}')).session_id || '')"
    )
    assert re.fullmatch(r"web:[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", visit.session())
    expect(page.locator(".rw-message", has_text="Oldventure")).to_have_count(0)
    visit.click("I'm ready")
    visit.coach_says("What's your venture called?")
    assert visit.errors == []


# ------------------------------------------------------------------ a server restart (last: it restarts Rasa)


def test_the_widget_reconnects_after_the_server_restarts(servers, visit):
    page = visit.page
    page.goto(servers.web_url + "/")
    visit.coach_says("Ready?")
    widget = page.locator("#rapport-coach")
    expect(widget).to_have_attribute("data-rapport-connection", "connected")

    servers.stop_rasa()
    expect(widget).to_have_attribute("data-rapport-connection", "disconnected")
    status = page.locator(".rapport-status[role=status]")  # what a screen reader is told
    expect(status).to_have_text("Reconnecting to the coach…")
    servers.start_rasa()
    expect(widget).to_have_attribute("data-rapport-connection", "connected", timeout=120_000)
    expect(status).to_have_text("Connected to the coach again.")

    visit.click("I'm ready")
    visit.coach_says("What's your venture called?")
    assert visit.errors == []
