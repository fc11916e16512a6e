"""Every founder and coordinator can use Rapport on a phone, by keyboard and with a
screen reader (WCAG 2.2 AA). In Debian's Chromium (Playwright), against the real
action server, Rasa server and web app:

- axe-core (npm, widget/node_modules; injected here by the test, never served by
  the app) runs on every page in a desktop and a phone viewport, and any
  violation of impact serious or critical fails;
- the landing page never scrolls sideways from 320 px up, shows the chat first on
  a phone with its input focused, and wraps its code;
- the widget on another site opens full screen on a phone with a visible close,
  keeps the page's scroll position and gives the focus back;
- a founder talks a segment through to a saved block by keyboard alone, in the
  phone viewport, and downloads the card;
- a coordinator filters, opens a transcript, tags, notes and exports by keyboard.

UPDATE_SCREENSHOTS=1 also writes docs/landing-phone.png and docs/widget-phone.png.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.error
import urllib.request
from typing import Callable, Dict, Iterator, List, Optional

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from deploy.launchers import ROOT, free_port
from tests.conftest import SAVE_A_BLOCK, rows, save_a_block
from tests.socketio_wire import sender_of
from tests.test_web_widget import screenshot
from tests.web_helpers import REVIEW_ADMIN, HeldConnection, SitePage, WebCoachServers, add_user, send_sign_in_form

AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
# What fails a page: axe-core's two highest impacts.
FAILING = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 820}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
COHORT = "SPRING-26"
CORA = ("cora", "cora's password 1")  # a coordinator of SPRING-26
TIMEOUT_MS = 60_000
COACH_MESSAGES = ".rw-message:not(.rw-typing-indication) .rw-response"

# The founder's side of a conversation, by what the coach asks rather than its exact
# words (they change as the coach improves): a quick reply to choose when one of
# these matches, in this order, else a typed answer for the prompt's topic.
REPLIES = [
    r"^I'm ready",
    r"regular|recurring",
    r"quick help",
    r"^neither",
    r"^keep",
    r"that's all|^no\b",
    r"looks good",
    r"save",
]
ANSWERS = [
    (r"venture|called", "Brewbox, we deliver fresh coffee beans to offices"),
    (r"how many|how much", "about 200 offices at 1,500 euros a year"),
    (r"where do they meet|touchpoint|channel", "email, website and phone"),
    (r"segment", "office managers who want fresh coffee without hassle"),
]


# ------------------------------------------------------------------ servers and pages


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[WebCoachServers]:
    """The three servers, a founder with a saved block and one without (over REST),
    and a coordinator of their cohort (added with the command line)."""
    coach = WebCoachServers(tmp_path_factory.mktemp("access"))
    try:
        coach.start_actions()
        coach.start_rasa()
        coach.start_web()
        save_a_block(coach, "ada", {"cohort": COHORT})
        for text in SAVE_A_BLOCK[:3]:
            coach.say("kim", text.replace("Brewbox", "Kimchi Club"), {"cohort": COHORT})
        add_user(coach, *CORA, "--cohort", COHORT)
        yield coach
    finally:
        coach.stop()


def other_site(servers: WebCoachServers, paragraphs: int = 60) -> str:
    """A partner's page built for phones (a viewport tag), long enough to scroll, with the README's snippet."""
    text = "".join(f"<p>Resource {i}: how our founders find their first customers.</p>" for i in range(paragraphs))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme Accelerator</title>'
        f"</head><body><main><h1>Acme Accelerator</h1>{text}</main>"
        f'<script src="{servers.web_url}/widget.js" data-cohort="ACME-7" async></script></body></html>'
    )


@pytest.fixture(scope="module")
def partner(servers) -> Iterator[SitePage]:
    site = SitePage(servers.partner_port, other_site(servers))
    yield site
    site.close()


class Tab:
    """A browser tab in a viewport, recording what went wrong on its pages."""

    def __init__(self, browser: Browser, viewport: Dict[str, int]):
        phone = viewport["width"] < 800
        self.context: BrowserContext = browser.new_context(
            viewport=viewport, is_mobile=phone, has_touch=phone, accept_downloads=True
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.errors: List[str] = []
        self.console: List[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))

    def close(self) -> None:
        print("browser console:", *self.console, sep="\n  ")  # shown when a test fails
        self.context.close()


@pytest.fixture
def tab_in(browser: Browser) -> Iterator[Callable[[Dict[str, int]], Tab]]:
    tabs: List[Tab] = []

    def open_tab(viewport: Dict[str, int]) -> Tab:
        tabs.append(Tab(browser, viewport))
        return tabs[-1]

    yield open_tab
    for tab in tabs:
        tab.close()


def axe_violations(page: Page) -> List[dict]:
    """axe-core's full default rule set on the page as it is now; injected through the
    DevTools protocol, so the page's Content-Security-Policy stays as it is."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """() => axe.run(document).then(result => result.violations.map(v => ({
             id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\\s+/g, ' '))})))"""
    )


def assert_accessible(page: Page, where: str) -> None:
    found = [v for v in axe_violations(page) if v["impact"] in FAILING]
    report = [f"{v['impact']} {v['id']} ({v['help']}): {len(v['nodes'])} x, e.g. {v['nodes'][:3]}" for v in found]
    assert not found, f"axe-core on {where}:\n" + "\n".join(report)


def wait_for_coach(page: Page, messages_before: int = 0) -> None:
    """Until the coach's next message is drawn and its typing dots are gone."""
    page.wait_for_function(
        "([selector, n]) => document.querySelectorAll(selector).length > n", arg=[COACH_MESSAGES, messages_before]
    )
    expect(page.locator(".rw-typing-indication")).to_have_count(0)


# The coach's turn is over when nothing has been drawn in the conversation for a while
# (a turn is several messages, each after its typing dots).
WATCH_DRAWING = """() => {
  window.rapportDrawnAt = Date.now();
  new MutationObserver(() => { window.rapportDrawnAt = Date.now(); })
    .observe(document.querySelector('.rw-messages-container'), {childList: true, subtree: true});
}"""
TURN_OVER = "() => !document.querySelector('.rw-typing-indication') && Date.now() - window.rapportDrawnAt > 2000"


def sign_in(page: Page, servers: WebCoachServers, user=REVIEW_ADMIN) -> None:
    page.goto(servers.web_url + "/review/login")
    send_sign_in_form(page, user)
    expect(page).to_have_url(re.compile(r"/review/conversations"))


# ------------------------------------------------------------------ axe-core on every page


def landing(page: Page, servers: WebCoachServers) -> None:
    page.goto(f"{servers.web_url}/?cohort={COHORT}")
    wait_for_coach(page)
    expect(page.locator(".rw-reply").first).to_be_visible()


def widget_on_another_site(page: Page, servers: WebCoachServers) -> None:
    page.goto(f"http://localhost:{servers.partner_port}/")
    page.locator(".rw-launcher").click()
    wait_for_coach(page)


def review(path: str) -> Callable[[Page, WebCoachServers], None]:
    def visit(page: Page, servers: WebCoachServers) -> None:
        page.goto(servers.web_url + path)
        expect(page.locator("main h1")).to_be_visible()

    return visit


def charts(page: Page, servers: WebCoachServers) -> None:
    page.goto(f"{servers.web_url}/review/charts?cohort={COHORT}")
    page.wait_for_function("() => window.Chart && Chart.getChart('funnel')")


PAGES = {
    "landing": landing,
    "widget on another site": widget_on_another_site,
    "sign-in": review("/review/login"),
    "list": review("/review/conversations"),
    "search": review("/review/search?q=banks"),
    "transcript": review("/review/conversation?sender=ada"),
    "charts": charts,
    "users": review("/review/users"),
    "cards": review(f"/review/cards?cohort={COHORT}"),
    "inbox": review("/review/inbox"),
    "inbox, corrected": review("/review/inbox?view=done"),
}
SIGNED_OUT = ("landing", "widget on another site", "sign-in")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_nothing_serious_on_any_page(servers, partner, tab_in, name, viewport):
    tab = tab_in(VIEWPORTS[viewport])
    if name not in SIGNED_OUT:
        sign_in(tab.page, servers)  # the admin: every page, users included
    PAGES[name](tab.page, servers)
    assert_accessible(tab.page, f"{name} ({viewport})")
    width = tab.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name} ({viewport}) scrolls sideways: {width}"
    assert tab.errors == []


def test_the_axe_check_fails_on_what_the_issue_found(tab_in):
    """The check itself can fail: a button without a name (critical) and grey text
    on white (serious), as the widget and the transcript had them."""
    tab = tab_in(PHONE)
    tab.page.set_content(
        '<!doctype html><html lang="en"><head><title>Check</title></head><body><main><h1>Check</h1>'
        '<button type="button"><svg width="20" height="20"></svg></button>'
        '<p style="color:#aab4c0; background:#fff">a time stamp</p></main></body></html>'
    )
    with pytest.raises(AssertionError) as failed:
        assert_accessible(tab.page, "a page with the issue's faults")
    assert "critical button-name" in str(failed.value) and "serious color-contrast" in str(failed.value)


def test_the_chart_pages_numbers_are_text_too(servers, tab_in):
    tab = tab_in(DESKTOP)
    sign_in(tab.page, servers)
    charts(tab.page, servers)
    funnel = tab.page.locator("#funnel")
    expect(funnel).to_have_attribute("role", "img")
    expect(funnel).to_have_attribute("aria-label", re.compile(r"^Funnel, as a bar chart: .*\d"))
    table = tab.page.locator("section.chart", has=funnel).locator("table")
    expect(table.locator("caption")).to_have_text("Funnel")
    expect(table.locator("th")).to_have_text(["Stage reached", "Count"])
    assert table.locator("tbody tr").count() >= 2


# ------------------------------------------------------------------ the landing page on a phone


@pytest.mark.parametrize("width", [320, 390, 768])
def test_the_landing_page_never_scrolls_sideways_and_puts_the_chat_first(servers, tab_in, tmp_path, width):
    tab = tab_in({"width": width, "height": {320: 568, 390: PHONE["height"]}.get(width, 1024)})
    page = tab.page
    landing(page, servers)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    code = page.locator(".embed pre")
    assert code.evaluate("pre => pre.scrollWidth <= pre.clientWidth"), "the embed code wraps inside its box"
    # The chat is above the introduction, and its input, focused, is on screen.
    assert page.locator(".chat").bounding_box()["y"] < page.locator(".intro").bounding_box()["y"]
    expect(page.locator("textarea.rw-new-message")).to_be_focused()
    expect(page.locator("textarea.rw-new-message")).to_be_in_viewport()
    if width == 390:
        screenshot(page, "landing-phone.png", tmp_path)


def test_the_input_takes_the_focus_only_if_nobody_moved_it(servers, tab_in):
    """data-autofocus on another site's page: a Tab to the page's own link before the
    widget is drawn wins over it."""
    html = (
        '<!doctype html><html lang="en"><head><title>Acme</title></head><body><main><h1>Acme</h1>'
        '<p><a href="#programme">Our programme</a></p><div id="coach" style="height:600px"></div></main>'
        f'<script src="{servers.web_url}/widget.js" data-target="#coach" data-autofocus async></script></body></html>'
    )
    site = SitePage(free_port(), html)
    tab = tab_in(DESKTOP)
    page = tab.page
    try:
        held: List = []  # rasa-webchat's script, held back until the visitor has pressed Tab
        page.route(re.compile(r"/vendor/rasa-webchat\.js$"), lambda route: held.append(route))
        page.goto(site.url, wait_until="domcontentloaded")
        while not held:
            page.wait_for_timeout(100)
        page.keyboard.press("Tab")
        expect(page.locator("a", has_text="Our programme")).to_be_focused()
        held[0].continue_()
        page.wait_for_selector("textarea.rw-new-message")
        page.wait_for_timeout(500)  # the widget's first draws
        expect(page.locator("a", has_text="Our programme")).to_be_focused()
    finally:
        site.close()


# ------------------------------------------------------------------ the widget on another site, on a phone


def test_on_a_phone_the_widget_opens_full_screen_closes_and_keeps_the_page_where_it_was(
    servers, partner, tab_in, tmp_path
):
    tab = tab_in(PHONE)
    page = tab.page
    page.goto(partner.url)
    launcher = page.locator(".rw-launcher")
    expect(launcher).to_have_attribute("aria-label", re.compile("Rapport"))
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.evaluate("() => window.scrollTo(0, 600)")
    scrolled = page.evaluate("() => window.scrollY")
    assert scrolled > 300, "the partner's page scrolls"

    launcher.focus()
    page.keyboard.press("Enter")
    wait_for_coach(page)
    chat = page.locator(".rw-conversation-container")
    box = chat.bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, PHONE["width"], PHONE["height"]), box
    close = page.locator(".rw-close-button")
    expect(close).to_be_visible()
    expect(close).to_have_accessible_name("Close the chat")
    expect(page.locator("textarea.rw-new-message")).to_be_focused()
    screenshot(page, "widget-phone.png", tmp_path)

    # Full screen, Tab goes round inside the chat and never to the page hidden behind it.
    for _ in range(12):
        page.keyboard.press("Tab")
        assert chat.evaluate("(chat) => chat.contains(document.activeElement)"), "the focus left the open chat"

    # Closed by keyboard (the close button; Escape too): the page is where it was, the focus on the launcher.
    close.focus()
    page.keyboard.press("Enter")
    expect(chat).to_have_count(0)
    expect(launcher).to_be_focused()
    assert page.evaluate("() => window.scrollY") == scrolled
    page.keyboard.press("Enter")
    expect(page.locator("textarea.rw-new-message")).to_be_focused()
    page.keyboard.press("Escape")
    expect(chat).to_have_count(0)
    expect(launcher).to_be_focused()
    assert page.evaluate("() => window.scrollY") == scrolled
    assert tab.errors == []


def test_on_a_desktop_the_floating_chat_goes_full_screen_and_closes_by_keyboard(servers, partner, tab_in):
    tab = tab_in(DESKTOP)
    page = tab.page
    page.goto(partner.url)
    launcher = page.locator(".rw-launcher")
    launcher.focus()
    page.keyboard.press("Enter")
    wait_for_coach(page)
    expect(page.locator("textarea.rw-new-message")).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(launcher).to_have_accessible_name("Close the chat with the coach")
    toggle = page.locator(".rw-toggle-fullscreen-button")
    expect(toggle).to_have_accessible_name("Full screen")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_accessible_name("Leave full screen")
    box = page.locator(".rw-conversation-container").bounding_box()
    assert (box["width"], box["height"]) == (DESKTOP["width"], DESKTOP["height"]), box
    page.keyboard.press("Escape")
    expect(page.locator(".rw-conversation-container")).to_have_count(0)
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert tab.errors == []


# ------------------------------------------------------------------ a founder, by keyboard, on a phone


def focus_by_tab(page: Page, matches: str, arg=None, backwards: bool = False, limit: int = 40) -> None:
    """Presses Tab (or Shift+Tab) until the focused element satisfies `matches`, a JS
    function of it; fails after `limit` presses. What a keyboard user does."""
    for _ in range(limit):
        if page.evaluate(
            f"([arg]) => {{ const el = document.activeElement; return Boolean(({matches})(el, arg)); }}", [arg]
        ):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{limit} presses of {'Shift+' if backwards else ''}Tab never reached {matches} ({arg})")


def focus_ring(page: Page) -> str:
    """How the focused element shows its focus: its outline, or its bar's frame for the input."""
    return page.evaluate(
        """() => { const el = document.activeElement, style = getComputedStyle(el);
                   if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) return 'outline';
                   const bar = el.closest('.rw-sender');
                   return bar && getComputedStyle(bar).boxShadow !== 'none' ? 'frame' : 'none'; }"""
    )


def reply_titles(page: Page) -> List[str]:
    return page.locator(".rw-reply").all_inner_texts()


def choose(replies: List[str]) -> Optional[str]:
    for pattern in REPLIES:
        for title in replies:
            if re.search(pattern, title, re.I):
                return title
    return None


def answer_for(prompt: str) -> str:
    for pattern, text in ANSWERS:
        if re.search(pattern, prompt, re.I):
            return text
    raise AssertionError(f"no typed answer for the coach's prompt: {prompt!r}")


def test_a_founder_talks_to_a_saved_block_by_keyboard_on_a_phone(servers, tab_in, tmp_path):
    tab = tab_in(PHONE)
    page = tab.page
    landing(page, servers)
    box = page.locator("textarea.rw-new-message")
    expect(box).to_be_focused()
    assert focus_ring(page) == "frame"
    log = page.locator(".rw-messages-container")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")
    page.evaluate(WATCH_DRAWING)
    page.wait_for_function(TURN_OVER, polling=250)

    chosen: List[str] = []
    for _turn in range(30):
        if page.locator(".rapport-card").count():
            break
        before = page.locator(COACH_MESSAGES).count()
        replies = reply_titles(page)
        title = choose(replies)
        if title:
            # From the input, Shift+Tab goes back to the quick replies, just above it.
            focus_by_tab(page, "(el, t) => el.matches('.rw-reply') && el.textContent.trim() === t", title, True)
            expect(page.locator(".rw-reply:focus")).to_have_attribute("role", "button")
            assert focus_ring(page) == "outline", "a focused quick reply shows its focus"
            page.keyboard.press("Enter")
            chosen.append(title)
            expect(page.locator(".rw-client", has_text=title).last).to_be_visible()
            expect(box).to_be_focused()  # the replies went; the focus is back in the input
        else:
            prompt = page.locator(COACH_MESSAGES).last.inner_text()
            expect(box).to_be_focused()
            page.keyboard.type(answer_for(prompt))
            page.keyboard.press("Enter")
        wait_for_coach(page, before)
        page.wait_for_function(TURN_OVER, polling=250)
    else:
        raise AssertionError(f"no saved block after 30 turns; chose {chosen}")

    card = page.locator(".rapport-card")
    expect(card.locator(".rapport-card__venture")).to_have_text("Brewbox")
    assert any(re.search("save", t, re.I) for t in chosen), chosen
    assert_accessible(page, "the landing page with the saved card (phone)")

    # The card's downloads, by keyboard: Shift+Tab back from the input to each button, Enter.
    expect(box).to_be_focused()
    focus_by_tab(page, "(el) => el.matches('.rapport-card [data-download=markdown]')", backwards=True)
    assert focus_ring(page) == "outline"
    with page.expect_download() as markdown:
        page.keyboard.press("Enter")
    path = tmp_path / "card.md"
    markdown.value.save_as(path)
    assert path.read_text(encoding="utf-8").startswith("# Customer Relationships: Brewbox")
    page.keyboard.press("Tab")
    expect(page.locator(".rapport-card [data-download=png]")).to_be_focused()
    with page.expect_download() as png:
        page.keyboard.press("Enter")
    picture = tmp_path / "card.png"
    png.value.save_as(picture)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The block is in the canvas store, with the page's cohort.
    # The widget keeps the server's signed session, web:<id>.<proof>; the conversation is the id.
    session = sender_of(page.evaluate("JSON.parse(localStorage.getItem('chat_session')).session_id"))
    founders = rows(servers.canvas_db, "SELECT id, cohort FROM founders WHERE sender_id = ?", session)
    assert [cohort for _, cohort in founders] == [COHORT]
    final = rows(
        servers.canvas_db,
        "SELECT b.version FROM block_versions b JOIN ventures v ON b.venture_id = v.id"
        " WHERE v.founder_id = ? AND b.status = 'final'",
        founders[0][0],
    )
    assert final == [(1,)]
    assert tab.errors == []


# ------------------------------------------------------------------ a coordinator, by keyboard


def test_a_coordinator_reviews_by_keyboard(servers, tab_in, tmp_path):
    tab = tab_in(DESKTOP)
    page = tab.page
    page.goto(servers.web_url + "/review/conversations")
    expect(page).to_have_url(re.compile(r"/review/login"))
    expect(page.locator("input[name=username]")).to_be_focused()  # autofocus
    page.keyboard.type(CORA[0])
    page.keyboard.press("Tab")
    page.keyboard.type(CORA[1])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/review/conversations$"))

    # The first Tab offers to skip the navigation.
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    expect(page.locator("a.skip")).to_be_in_viewport()

    # Filter: saved blocks only (ArrowDown on the select; htmx swaps the results).
    table = page.locator("table.list tbody")
    expect(table).to_contain_text("Kimchi Club")
    focus_by_tab(page, "(el) => el.matches('select[name=saved]')")
    assert focus_ring(page) == "outline"
    page.keyboard.press("ArrowDown")
    expect(page).to_have_url(re.compile(r"saved=yes"))
    expect(table).not_to_contain_text("Kimchi Club")
    expect(page.locator("select[name=saved]")).to_be_focused()  # the focus stayed where it was
    expect(page.locator("#status")).to_have_text(re.compile(r"Conversations, \d+ shown"))

    # Open a transcript: Tab to its link, Enter.
    focus_by_tab(page, """(el) => el.matches("table.list a[href$='sender=ada']")""")
    assert focus_ring(page) == "outline"
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Brewbox")

    # The transcript is long: a link at its top goes to the review panel.
    focus_by_tab(page, "(el) => el.matches('a[href=\"#review-panel\"]')")
    page.keyboard.press("Enter")
    expect(page.locator("#review-panel")).to_be_focused()

    # Tag it: type, Enter; the panel is redrawn and the focus is back in the tag's field.
    focus_by_tab(page, "(el) => el.matches('input[name=tag]')", limit=10)
    page.keyboard.type("Keyboard check")
    page.keyboard.press("Enter")
    expect(page.locator("#review-panel .tags")).to_contain_text("keyboard check")
    expect(page.locator("input[name=tag]")).to_be_focused()
    expect(page.locator("#status")).to_have_text("Tag added")

    # A note: Tab to the note's field, type, Tab to its button, Enter.
    focus_by_tab(page, "(el) => el.matches('textarea[name=text]')")
    page.keyboard.type("Reviewed without a mouse.")
    page.keyboard.press("Tab")
    expect(page.locator("button", has_text="Add note")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".notes")).to_contain_text("Reviewed without a mouse.")
    expect(page.locator("textarea[name=text]")).to_be_focused()
    expect(page.locator("#status")).to_have_text("Note added")

    # Export her cohorts: on the list, Tab to CSV, Enter.
    page.goto(servers.web_url + "/review/conversations")
    focus_by_tab(page, "(el) => el.matches('a[download]') && el.textContent === 'CSV'")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    path = tmp_path / "export.csv"
    download.value.save_as(path)
    exported = {r["founder"]: r for r in csv.DictReader(io.StringIO(path.read_text()))}
    assert "keyboard check" in exported["ada"]["tags"]
    assert tab.errors == []


def test_axe_core_is_a_test_tool_not_part_of_the_product(servers):
    """Pinned in widget/package.json as a dev dependency; no page or route of the app serves it."""
    package = json.loads((ROOT / "widget" / "package.json").read_text())
    assert (
        package["devDependencies"]["axe-core"]
        == json.loads((ROOT / "widget" / "node_modules" / "axe-core" / "package.json").read_text())["version"]
    )
    assert "axe-core" not in package["dependencies"]
    for path in (ROOT / "bot" / "web").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".html", ".js"):
            assert not re.search(r"axe[-.]", path.read_text(encoding="utf-8"), re.I), path
    for url in ("/vendor/axe-core.js", "/vendor/axe.min.js", "/static/axe.min.js"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(servers.web_url + url, timeout=10)
        assert refused.value.code == 404, url


def test_a_chat_opened_before_it_connects_gives_its_input_the_focus_once_connected(servers, partner, tab_in):
    """A keyboard user opens the chat while the widget is still connecting: the input,
    which comes with the connection, takes the focus then."""
    tab = tab_in(DESKTOP)
    page = tab.page
    connection = HeldConnection(page)
    page.goto(partner.url)
    connection.wait_until_tried()
    page.locator(".rw-launcher").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".rw-conversation-container")).to_be_visible()
    page.wait_for_timeout(500)  # the opening's own focus has come and gone
    connection.release()
    wait_for_coach(page)
    expect(page.locator("textarea.rw-new-message")).to_be_focused()
    assert tab.errors == []
