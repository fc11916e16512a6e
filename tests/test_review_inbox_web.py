"""The inbox page for real: the web app alone (python -m bot.web, as `make run`
starts it) over a tracker written by hand (deploy/review_events.py), used over
HTTP by an admin, coordinators of two cohorts and a mentor, and in Chromium: the
roles, cohort scoping (another cohort's group is a 404), the CSRF and origin
checks, bad input, and correcting, undoing and editing a group on the page."""

from __future__ import annotations

import json
import re
import sqlite3
import time

import pytest
import requests
from playwright.sync_api import expect

from bot.coach.store import CanvasStore
from deploy import review_events as ev
from tests.conftest import ledgerly_block
from tests.slack_fake import TOKEN, FakeSlack
from tests.test_review_web import csrf_of
from tests.test_review_web import signed_in as signed_in_for_json
from tests.test_web_widget import screenshot
from tests.web_helpers import REVIEW_ADMIN, WebCoachServers, add_user, send_sign_in_form

CORA = ("cora", "cora's password 1")  # coordinator of SPRING
FRED = ("fred", "fred's password 1")  # coordinator of FALL
MO = ("mo", "mo's password 12")  # mentor of SPRING, in Slack
MIA = ("mia", "mia's password 12")  # mentor of SPRING, in Slack, who turned the DM off
OTTO = ("otto", "otto's password 1")  # mentor of FALL, in Slack
ORIGIN = "https://review.example.org"
COACH_MARKDOWN = "**Segment 1: Big banks**\n1. *Advisory* <script>alert(1)</script> [x](javascript:alert(1))"
QUESTION = "what blunders do founders make with their clients"


@pytest.fixture(scope="module")
def slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def servers(tmp_path_factory, slack):
    servers = WebCoachServers(tmp_path_factory.mktemp("inbox-web"))
    # The web app tells mentors in Slack of saved blocks (bot/review/notify.py), here through the fake.
    servers.env.update({"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url, "REVIEW_ORIGIN": ORIGIN})
    ev.create_tracker(servers.tracker_db)
    rows = []
    for i, (sender, cohort, text) in enumerate(
        [
            ("s1", "SPRING", QUESTION + "?"),
            ("s2", "SPRING", QUESTION.upper()),
            ("s3", "SPRING", "we sell to <b>banks</b>, mostly b2b"),
            ("f1", "FALL", "our clients want it cheap"),
        ]
    ):
        rows += [
            ev.slot(sender, 1000.0 + i, "session_started_metadata", {"cohort": cohort}),
            ev.user(sender, 1001.0 + i, text, "nlu_fallback", 0.3, cohort, ranking=[("ask_advice", 0.25)]),
            ev.bot(sender, 1002.0 + i, COACH_MARKDOWN),
        ]
    ev.insert(servers.tracker_db, rows)
    try:
        servers.start_web()  # makes the review database and the first admin
        add_user(servers, *CORA, "--cohort", "SPRING")
        add_user(servers, *FRED, "--cohort", "FALL")
        add_user(servers, *MO, "--role", "mentor", "--cohort", "SPRING", "--slack-user", "U0MO")
        add_user(servers, *MIA, "--role", "mentor", "--cohort", "SPRING", "--slack-user", "U0MIA")
        add_user(servers, *OTTO, "--role", "mentor", "--cohort", "FALL", "--slack-user", "U0OTTO")
        with sqlite3.connect(servers.review_db) as conn:  # as her switch on App Home does
            conn.execute("UPDATE review_users SET slack_notify = 0 WHERE username = 'mia'")
        yield servers
    finally:
        servers.stop()


def signed_in(servers, user) -> requests.Session:
    """Signed in as the dashboard's tests sign in, and ready for the inbox's JSON posts
    (its CSRF token and the dashboard's Origin on every request)."""
    session = signed_in_for_json(servers, user)
    session.headers.update({"Origin": servers.web_url, "X-CSRF-Token": csrf_of(session, servers)})
    return session


def groups(session, servers, view=""):
    answer = session.get(servers.web_url + "/review/inbox" + (f"?view={view}" if view else ""))
    assert answer.status_code == 200, answer.text
    return {g["key"]: g for g in answer.json()["groups"]}


def post(session, servers, action, **form):
    return session.post(servers.web_url + f"/review/inbox/{action}", data=form, allow_redirects=False)


KEY = "what blunders do founders make with their clients"


def test_each_coordinator_sees_their_cohorts_groups_and_another_cohorts_is_a_404(servers):
    cora, fred = signed_in(servers, CORA), signed_in(servers, FRED)
    mine = groups(cora, servers)
    assert set(mine) == {KEY, "we sell to b banks b mostly b2b"}
    assert mine[KEY]["count"] == 2 and mine[KEY]["runner_ups"] == [["ask_advice", 0.25]]
    assert {m["sender_id"] for m in mine[KEY]["messages"]} == {"s1", "s2"}
    assert set(groups(fred, servers)) == {"our clients want it cheap"}
    for action, form in [
        ("correct", {"intent": "inform"}),
        ("ignore", {}),
        ("undo", {}),
        ("text", {"text": "x"}),
    ]:
        answer = post(cora, servers, action, key="our clients want it cheap", **form)
        assert answer.status_code == 404, (action, answer.text)
    assert "our clients want it cheap" in groups(fred, servers)
    assert len(groups(signed_in(servers, REVIEW_ADMIN), servers)) == 3


def test_mentors_read_the_inbox_and_may_not_correct_it(servers):
    mo = signed_in(servers, MO)
    assert KEY in groups(mo, servers)
    page = mo.get(servers.web_url + "/review/inbox", headers={"Accept": "text/html"}).text
    assert "Mentors read the inbox" in page and "/review/inbox/correct" not in page
    for action, form in [("correct", {"intent": "ask_advice"}), ("ignore", {}), ("undo", {}), ("text", {"text": "x"})]:
        assert post(mo, servers, action, key=KEY, **form).status_code == 403
    assert KEY in groups(mo, servers)
    # nor save a conversation as a test; another cohort's is a 404
    assert mo.post(servers.web_url + "/review/conversation/test-story", data={"sender": "s1"}).status_code == 403
    fred = signed_in(servers, FRED)
    assert fred.post(servers.web_url + "/review/conversation/test-story", data={"sender": "s1"}).status_code == 404


def test_a_correction_needs_the_csrf_token_the_origin_and_a_domain_intent(servers):
    cora = signed_in(servers, CORA)
    token = cora.headers.pop("X-CSRF-Token")
    assert post(cora, servers, "correct", key=KEY, intent="ask_advice").status_code == 403
    cora.headers["X-CSRF-Token"] = token
    cora.headers["Origin"] = "http://evil.example"
    assert post(cora, servers, "correct", key=KEY, intent="ask_advice").status_code == 403
    cora.headers["Origin"] = servers.web_url
    assert post(cora, servers, "correct", key=KEY, intent="no_such_intent").status_code == 400
    assert post(cora, servers, "correct", key=KEY, intent="").status_code == 400
    # entities only for the answers, and only words of the message
    assert (
        post(cora, servers, "correct", key=KEY, intent="greet", entity_1="market", value_1="clients").status_code == 400
    )
    wrong_words = post(cora, servers, "correct", key=KEY, intent="inform", entity_1="market", value_1="banks")
    assert wrong_words.status_code == 400
    assert post(cora, servers, "correct", key="x" * 5000, intent="inform").status_code == 404
    assert KEY in groups(cora, servers)


def test_a_reviewer_corrects_a_group_in_chromium_and_undoes_it(servers, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    try:
        page.goto(servers.web_url + "/review/inbox")
        send_sign_in_form(page, CORA)
        expect(page).to_have_url(re.compile(r"/review/inbox$"))
        group = page.locator("li.group", has_text="we sell to <b>banks</b>")  # founder text stays text
        expect(group).to_be_visible()
        page.locator("li.group details.where").first.click()
        screenshot(page, "review-inbox.png", tmp_path)  # UPDATE_SCREENSHOTS=1: into docs/
        group.get_by_label("Right intent").fill("inform")
        group.locator("summary", has_text="Mark entities").click()
        group.get_by_label("Entity 1").select_option("market")
        group.get_by_label("its words in the message").first.fill("B2B")
        group.get_by_role("button", name="Label all 1").click()
        expect(page.locator("p.notice")).to_have_text("The group is labelled.")
        expect(page.locator("li.group", has_text="we sell to")).to_have_count(0)
        page.get_by_role("link", name="Corrected").click()
        done = page.locator("li.group", has_text="we sell to")
        expect(done).to_contain_text("Labelled inform")
        expect(done).to_contain_text("market")
        expect(done).to_contain_text("by cora")
        done.get_by_label("Text to export").fill("we sell to banks, mostly b2b")
        done.get_by_role("button", name="Save text").click()
        expect(page.locator("p.notice")).to_have_text("The correction's text is changed.")
        expect(page.locator("h2.group-text", has_text="we sell to banks, mostly b2b")).to_be_visible()
        page.get_by_role("button", name=re.compile("Undo the correction")).click()
        expect(page.locator("p.notice")).to_contain_text("back in the inbox")
        page.get_by_role("link", name="To review").click()
        expect(page.locator("li.group", has_text="we sell to <b>banks</b>")).to_be_visible()
        # the group of two: one click labels both
        page.locator("li.group", has_text=QUESTION).get_by_label("Right intent").fill("ask_advice")
        page.get_by_role("button", name="Label all 2").click()
        expect(page.locator("p.notice")).to_have_text("The group is labelled.")
    finally:
        context.close()
    cora = signed_in(servers, CORA)
    done = groups(cora, servers, "done")
    assert done[KEY]["corrected_intent"] == "ask_advice" and len(done[KEY]["messages"]) == 2
    assert done[KEY]["corrected_by"] == "cora"
    assert post(cora, servers, "undo", key=KEY).json() == {"ok": True, "messages": 2}


def test_the_transcript_renders_the_coachs_markdown_sanitised_and_the_founders_text_as_text(servers):
    cora = signed_in(servers, CORA)
    page = cora.get(servers.web_url + "/review/conversation?sender=s3", headers={"Accept": "text/html"})
    assert page.status_code == 200
    coach = page.text.split('class="text md">', 1)[1].split("</div>", 1)[0]
    assert "<strong>Segment 1: Big banks</strong>" in coach and "<li><em>Advisory</em>" in coach
    assert "<script" not in coach and 'href="javascript' not in coach
    assert "&lt;script&gt;" in coach  # shown, never run
    assert "we sell to &lt;b&gt;banks&lt;/b&gt;" in page.text  # the founder's text stays text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_cohorts_mentors_in_slack_get_a_dm_when_a_founder_saves_a_block(servers, slack):
    store = CanvasStore(f"sqlite:///{servers.canvas_db}")
    try:
        store.save_block("rest", "saver", ledgerly_block(venture="Brewbox"), cohort="SPRING")
    finally:
        store.close()
    now = time.time()
    ev.insert(servers.tracker_db, ev.conversation("saver", now - 200, "SPRING", saved=True))
    ev.insert(servers.tracker_db, ev.conversation("saved-long-ago", 1000.0, "SPRING", saved=True))
    mark = slack.mark()
    cora = signed_in(servers, CORA)
    cora.get(servers.web_url + "/review/conversations")  # the read model catches up on a request
    (dm,) = slack.wait_for(lambda: slack.calls_since(mark, "chat.postMessage"), "the mentor's DM")
    assert dm.args["channel"] == "U0MO"
    assert "Brewbox (SPRING) saved their Customer Relationships block" in dm.args["text"]
    blocks = json.dumps(dm.args["blocks"])
    assert "Customer Relationships: Brewbox" in blocks  # the card, as the Slack app shows it
    assert f"{ORIGIN}/review/conversation?sender=saver" in blocks
    # once: not again at the next update, nor for Mia (turned off), Otto (FALL) or a save of long ago
    time.sleep(1.5)
    cora.get(servers.web_url + "/review/conversations")
    time.sleep(1.5)
    assert [c.args["channel"] for c in slack.calls_since(mark, "chat.postMessage")] == ["U0MO"]
