"""The review dashboard for real: the action server, the Rasa server and the web
app started as `make run` starts them, with Slack on (its Web API at the fake of
tests/slack_fake.py); founders talk to the coach over REST, through the widget in
Chromium and in a Slack DM; coordinators then use /review over HTTP and in
Chromium (Debian's, through Playwright), and an admin makes a Slack user a mentor.

UPDATE_SCREENSHOTS=1 also writes docs/review-list.png, docs/review-transcript.png
and docs/review-charts.png.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3
import subprocess
import time
import urllib.parse
from typing import Dict

import pytest
import requests
from playwright.sync_api import expect

from deploy.launchers import ROOT, VENV_BIN, running_coach
from tests.conftest import SAVE_A_BLOCK, rows, save_a_block, sqlite_locked
from tests.slack_fake import TEAM, SlackUser
from tests.test_slack_app import MENTOR, STRANGER, SlackCoachServers, fake, talk_to_saved_block  # noqa: F401
from tests.test_web_widget import Visit, screenshot
from tests.web_helpers import REVIEW_ADMIN, WebCoachServers, add_user, send_sign_in_form

SPRING, FALL = "SPRING-26", "FALL-26"
CORA = ("cora", "cora's password 1")  # coordinator of SPRING-26
SLACK_FOUNDER = "U0SAM"  # coaches in a Slack DM: cohort FALL-26 (SLACK_DEFAULT_COHORT)
XSS = "<script>alert(1)</script>"
# Every route of the dashboard (bot/web/review/, one module per page), with the method; checked below.
ROUTES = [
    ("GET", "/review/"),
    ("GET", "/review/conversations"),
    ("GET", "/review/search?q=banks"),
    ("GET", "/review/conversation?sender=ada"),
    ("GET", "/review/conversation.md?sender=ada"),
    ("POST", "/review/conversation/reviewed"),
    ("POST", "/review/conversation/tags"),
    ("POST", "/review/conversation/notes"),
    ("POST", "/review/conversation/flag"),
    ("POST", "/review/conversation/test-story"),
    ("POST", "/review/conversation/cohort"),
    ("GET", "/review/charts"),
    ("GET", "/review/export.csv"),
    ("GET", "/review/export.json"),
    ("GET", "/review/cards"),
    ("GET", "/review/users"),
    ("POST", "/review/users"),
    ("POST", "/review/logout"),
    ("GET", "/review/inbox"),
    ("POST", "/review/inbox/correct"),
    ("POST", "/review/inbox/ignore"),
    ("POST", "/review/inbox/undo"),
    ("POST", "/review/inbox/text"),
]


class SlackWebCoachServers(SlackCoachServers, WebCoachServers):
    """The web app's servers (tests/web_helpers.py) with Slack on as tests/test_slack_app.py
    turns it on, but: DMs are of cohort FALL-26, and SLACK_MENTORS makes MENTOR a mentor of SPRING-26."""

    def rasa_env(self):
        return {**super().rasa_env(), "SLACK_DEFAULT_COHORT": FALL, "SLACK_MENTORS": f"{MENTOR}:{SPRING}"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory, fake):
    workdir = tmp_path_factory.mktemp("web")
    with running_coach(workdir, SlackWebCoachServers(workdir, fake)) as coach:
        coach.start_web()  # stopped with the others
        yield coach


@pytest.fixture(scope="module")
def founders(servers, browser, fake, tmp_path_factory) -> Dict[str, str]:
    """Real conversations: over REST (a saved block, an unfinished one, a hostile
    one), one through the widget and one in a Slack DM (a saved block, signed
    requests through the fake Slack); a coordinator added with the command line."""
    save_a_block(servers, "ada", {"cohort": SPRING})
    # "zxqv wpkj" scores under every intent's threshold (nlu_fallback), with or without a retrain;
    # the XSS text sat on the threshold and tipped over with new training examples (issue 19)
    for text in ["hi", XSS, "zxqv wpkj"]:
        servers.say("eve", text, {"cohort": SPRING})
    for text in ["hi", "yes, let's go", "Fallco, we sell autumn leaves to zebra farms"]:
        servers.say("bob", text, {"cohort": FALL})
    for text in SAVE_A_BLOCK[:7]:  # stops when asked about expertise and personal touch
        servers.say("kim", text.replace("Brewbox", "Kimchi Club"), {"cohort": SPRING})
    for text in ["hello", "asdf ghjk", "yes", "Leafy, plants for offices", "hmm"]:
        servers.say("lee", text, {"cohort": SPRING})
    visit = Visit(browser, tmp_path_factory.mktemp("widget"))
    try:
        visit.page.goto(f"{servers.web_url}/?cohort={SPRING}")
        visit.coach_says("Ready?")
        visit.type("Hi there!")
        visit.click("I'm ready")
        visit.coach_says("What's your venture called?")
        visit.type("Widgetco, we make widgets for bakeries")
        visit.coach_says("First segment")
        widget_sender = visit.session_id()
    finally:
        visit.close()
    talk_to_saved_block(SlackUser(servers.webhook, fake), fake, SLACK_FOUNDER, "Slackbrew")
    add_user(servers, *CORA, "--cohort", SPRING)
    return {
        "ada": "ada",
        "eve": "eve",
        "bob": "bob",
        "kim": "kim",
        "lee": "lee",
        "widget": widget_sender,
        "slack": f"slack:{TEAM}:{SLACK_FOUNDER}",
    }


def signed_in(servers, user=CORA) -> requests.Session:
    session = requests.Session()
    page = session.get(servers.web_url + "/review/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        servers.web_url + "/review/login",
        allow_redirects=False,
        data={"username": user[0], "password": user[1], "csrf_token": token},
        headers={"Origin": servers.web_url},
    )
    assert answer.status_code == 303, answer.text
    session.headers["Accept"] = "application/json"
    return session


def csrf_of(session: requests.Session, servers) -> str:
    page = session.get(servers.web_url + "/review/conversations", headers={"Accept": "text/html"})
    return re.search(r'"X-CSRF-Token": "([^"]+)"', page.text.replace("&#34;", '"')).group(1)


# --- what the dashboard read from the real bot ---------------------------------------------------


def test_the_list_shows_every_channels_conversations_as_the_bot_wrote_them(servers, founders):
    admin = signed_in(servers, REVIEW_ADMIN)
    rows = {r["sender_id"]: r for r in admin.get(servers.web_url + "/review/conversations").json()["conversations"]}
    assert set(founders.values()) <= set(rows)
    ada, widget, bob, eve = (rows[founders[k]] for k in ("ada", "widget", "bob", "eve"))
    assert (ada["cohort"], ada["channel"], ada["venture"], ada["saved"], ada["turns"]) == (
        SPRING,
        "rest",
        "Brewbox",
        True,
        len(SAVE_A_BLOCK),
    )
    assert ada["recommended"] and ada["segments"] == 1 and ada["stage"] == "saved"
    assert " b2b-few:dedicated_personal_assistance " in ada["choices"]
    assert (widget["cohort"], widget["channel"], widget["saved"]) == (SPRING, "socketio", False)
    assert widget["venture"].startswith("Widgetco") and widget["last_question"] == "segment_who"
    assert bob["cohort"] == FALL and eve["fallbacks"] >= 1 and eve["low_confidence"] >= 1
    keys = [(r["last_active_at"], r["sender_id"]) for r in rows.values()]
    assert keys == sorted(keys, reverse=True), "newest first"


def test_a_slack_dm_is_listed_with_channel_slack_and_the_default_cohort_and_its_transcript_opens(servers, founders):
    admin = signed_in(servers, REVIEW_ADMIN)
    rows = {
        r["sender_id"]: r
        for r in admin.get(servers.web_url + "/review/conversations", params={"channel": "slack"}).json()[
            "conversations"
        ]
    }
    assert set(rows) == {founders["slack"]}
    sam = rows[founders["slack"]]
    assert (sam["cohort"], sam["channel"], sam["venture"], sam["saved"]) == (FALL, "slack", "Slackbrew", True)
    page = admin.get(
        servers.web_url + "/review/conversation", params={"sender": founders["slack"]}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 200
    assert "yes, save it" in page.text and "Saved block" in page.text and "Slackbrew" in page.text
    # Cora coordinates SPRING-26 only: the FALL-26 Slack founder is not hers.
    assert (
        signed_in(servers)
        .get(servers.web_url + "/review/conversation", params={"sender": founders["slack"]})
        .status_code
        == 404
    )


def test_the_transcript_shows_intents_steps_the_saved_block_and_the_rules_that_fired(servers, founders):
    # The coach records its recommendations' rules in the bot event's metadata (bot.coach.presentation).
    advice = [
        json.loads(data)["metadata"]["advice"]
        for (data,) in sqlite3.connect(servers.tracker_db).execute(
            "SELECT data FROM events WHERE sender_id = 'ada' AND type_name = 'bot' AND data LIKE '%\"advice\"%'"
        )
    ]
    rule = advice[0]["recommendations"][0]["rules"][0]
    page = (
        signed_in(servers)
        .get(servers.web_url + "/review/conversation?sender=ada", headers={"Accept": "text/html"})
        .text
    )
    assert "intent <code>affirm</code>" in page and "steps: actions, slots, sessions" in page
    assert f"Why: the rules that fired for {advice[0]['segment_name']}" in page
    assert f"<code>{rule['id']}</code> {html.escape(rule['because'])}" in page
    assert "Saved block" in page and "final version 1" in page and "Dedicated personal assistance" in page
    markdown = signed_in(servers).get(servers.web_url + "/review/conversation.md?sender=ada").text
    assert markdown.startswith("# Conversation: Brewbox") and "> yes, save it" in markdown
    assert f"`{rule['id']}`" in markdown


# --- refusals ----------------------------------------------------------------------------------


def test_the_route_list_of_this_test_is_every_route_of_the_dashboard():
    source = "".join(path.read_text() for path in sorted((ROOT / "bot" / "web" / "review").glob("*.py")))
    declared = {(m.upper(), "/review" + p) for m, p in re.findall(r'@bp\.(get|post)\("([^"]*)"\)', source)}
    sign_in = {("GET", "/review/login"), ("POST", "/review/login")}  # open to all, by design
    assert declared == {(m, r.split("?")[0]) for m, r in ROUTES} | sign_in


@pytest.mark.parametrize("method, route", ROUTES)
def test_every_route_is_refused_without_a_session(servers, founders, method, route):
    url = servers.web_url + route
    script = requests.request(method, url, allow_redirects=False, headers={"Origin": servers.web_url})
    assert script.status_code == 401 and script.json() == {"error": "sign in first"}
    forged = requests.request(
        method,
        url,
        allow_redirects=False,
        cookies={"rapport_review": "forged.cookie.value"},
        headers={"Origin": servers.web_url},
    )
    assert forged.status_code == 401
    if method == "GET":
        browser = requests.get(url, allow_redirects=False, headers={"Accept": "text/html"})
        assert browser.status_code == 303 and browser.headers["Location"].startswith("/review/login?next=")


def test_a_coordinator_gets_404_for_another_cohorts_transcript_search_chart_and_export(servers, founders):
    cora = signed_in(servers)
    for route in [
        "/review/conversation?sender=bob",
        "/review/conversation.md?sender=bob",
        f"/review/search?q=zebra&cohort={FALL}",
        f"/review/charts?cohort={FALL}",
        f"/review/export.csv?cohort={FALL}",
        f"/review/export.json?cohort={FALL}",
        f"/review/cards?cohort={FALL}",
        f"/review/conversations?cohort={FALL}",
        "/review/users",
        "/review/conversation?sender=nobody-at-all",
    ]:
        assert cora.get(servers.web_url + route).status_code == 404, route
    assert cora.get(servers.web_url + "/review/search?q=zebra").json() == {"hits": []}
    listed = cora.get(servers.web_url + "/review/conversations").json()["conversations"]
    assert {r["cohort"] for r in listed} == {SPRING}
    exported = list(csv.DictReader(io.StringIO(cora.get(servers.web_url + "/review/export.csv").text)))
    assert {r["cohort"] for r in exported} == {SPRING} and "bob" not in {r["founder"] for r in exported}
    token = csrf_of(cora, servers)
    tagged = cora.post(
        servers.web_url + "/review/conversation/tags",
        data={"sender": "bob", "tag": "x"},
        headers={"Origin": servers.web_url, "X-CSRF-Token": token},
    )
    assert tagged.status_code == 404


def test_a_post_needs_the_csrf_token_and_the_dashboards_origin(servers, founders):
    cora = signed_in(servers)
    token = csrf_of(cora, servers)
    url = servers.web_url + "/review/conversation/tags"
    for headers, data in [
        ({"Origin": servers.web_url}, {}),
        ({"Origin": servers.web_url}, {"csrf_token": "wrong"}),
        ({"Origin": "http://evil.example"}, {"csrf_token": token}),
        ({}, {"csrf_token": token}),
    ]:
        answer = cora.post(
            url, data={"sender": "ada", "tag": "priority", **data}, headers=headers, allow_redirects=False
        )
        assert answer.status_code == 403, (headers, data)
    ok = cora.post(
        url,
        data={"sender": "ada", "tag": "priority", "csrf_token": token},
        headers={"Origin": servers.web_url},
        allow_redirects=False,
    )
    assert ok.status_code == 303
    assert "priority" in cora.get(servers.web_url + "/review/conversations?tag=priority").text
    other = signed_in(servers)  # another session's token does not work for this one
    assert (
        other.post(
            url, data={"sender": "ada", "tag": "x", "csrf_token": token}, headers={"Origin": servers.web_url}
        ).status_code
        == 403
    )
    login = requests.post(
        servers.web_url + "/review/login",
        data={"username": CORA[0], "password": CORA[1]},
        headers={"Origin": servers.web_url},
        allow_redirects=False,
    )
    assert login.status_code == 403, "a sign-in from elsewhere (no login token) is refused"


def test_logging_out_kills_the_cookie_even_for_a_kept_copy(servers, founders):
    cora = signed_in(servers)
    kept = dict(cora.cookies)
    cookie = [c for c in cora.cookies if c.name == "rapport_review"][0]
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/review"
    token = csrf_of(cora, servers)
    assert (
        cora.post(
            servers.web_url + "/review/logout",
            data={"csrf_token": token},
            headers={"Origin": servers.web_url},
            allow_redirects=False,
        ).status_code
        == 303
    )
    again = requests.get(servers.web_url + "/review/conversations", cookies=kept)
    assert again.status_code == 401


def test_five_failed_sign_ins_give_429(servers, founders):
    add_user(servers, "dora", "dora's password", "--cohort", SPRING)
    session = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(servers.web_url + "/review/login").text)[1]

    def attempt(password):
        answer = session.post(
            servers.web_url + "/review/login",
            allow_redirects=False,
            data={"username": "dora", "password": password, "csrf_token": token},
            headers={"Origin": servers.web_url},
        )
        assert answer.status_code != 429 or answer.headers["Retry-After"] == "900"
        return answer.status_code

    assert [attempt(f"wrong {n}") for n in range(5)] == [401] * 5
    assert attempt("dora's password") == 429
    assert signed_in(servers) is not None, "other users still sign in"


def test_the_cohorts_blocks_as_json_and_as_printable_cards(servers, founders):
    cora = signed_in(servers)
    exported = json.loads(cora.get(servers.web_url + f"/review/export.json?cohort={SPRING}").text)
    ada = [r for r in exported if r["founder"] == "ada"][0]
    assert ada["block"]["venture_name"] == "Brewbox" and ada["block"]["segments"][0]["profile"]["name"] == "Big banks"
    assert all(r["block"] is None for r in exported if r["founder"] != "ada")
    cards = cora.get(servers.web_url + f"/review/cards?cohort={SPRING}", headers={"Accept": "text/html"}).text
    assert cards.count('class="canvas-card"') == 1 and "Brewbox" in cards and "Dedicated personal assistance" in cards


def test_while_the_rasa_server_writes_the_tracker_the_list_and_a_transcript_answer(servers, founders):
    """The tracker store writes ahead (WAL): a reader never waits for the Rasa server's
    write lock, not even a delete's."""
    admin = signed_in(servers, REVIEW_ADMIN)
    with sqlite_locked(servers.tracker_db):  # e.g. the Rasa server deleting a founder's events
        time.sleep(1.1)  # past the read model's once-a-second check
        listed = admin.get(servers.web_url + "/review/conversations")
        assert listed.status_code == 200 and "ada" in {r["sender_id"] for r in listed.json()["conversations"]}
        transcript = admin.get(servers.web_url + "/review/conversation?sender=ada")
        assert transcript.status_code == 200, transcript.text
    assert admin.get(servers.web_url + "/review/conversation?sender=ada").status_code == 200


def test_bad_input_gets_a_clear_answer(servers, founders):
    cora = signed_in(servers)
    token = csrf_of(cora, servers)
    post = {"headers": {"Origin": servers.web_url, "X-CSRF-Token": token}}
    for route, problem in [
        ("/review/conversations?after=garbage", "page link"),
        ("/review/conversations?turns_min=many", "turns_min"),
        ("/review/conversations?started_from=yesterday", "started_from"),
        ("/review/conversations?reached=everything", "reached"),
    ]:
        answer = cora.get(servers.web_url + route)
        assert answer.status_code == 400 and problem in answer.json()["error"], route
    assert cora.get(servers.web_url + "/review/search", params={"q": "x " * 2000}).json() == {"hits": []}
    assert cora.get(servers.web_url + "/review/search", params={"q": "x" * 100_000}).status_code in (400, 413, 414)
    assert cora.get(servers.web_url + "/review/search", params={"q": '"* NEAR( OR'}).status_code == 200
    assert cora.get(servers.web_url + "/review/conversation?sender=ada&before=abc").status_code == 200
    assert cora.get(servers.web_url + "/review/conversation").status_code == 404
    for route, data in [
        ("/review/conversation/notes", {"sender": "ada", "text": "   "}),
        ("/review/conversation/notes", {"sender": "ada", "text": "x" * 5001}),
        ("/review/conversation/tags", {"sender": "ada", "tag": "<b>bold</b>"}),
        ("/review/conversation/flag", {"sender": "ada", "event_id": "one"}),
    ]:
        assert cora.post(servers.web_url + route, data=data, **post).status_code == 400, data


def test_a_session_outlives_a_restart_of_the_web_app(servers, founders):
    cora = signed_in(servers)
    from deploy.launchers import stop_process

    stop_process(servers.web)
    servers.start_web()
    assert cora.get(servers.web_url + "/review/conversations").status_code == 200


def test_the_dashboard_sends_a_strict_content_security_policy(servers, founders):
    page = signed_in(servers).get(servers.web_url + "/review/conversations", headers={"Accept": "text/html"})
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


def test_an_admin_adds_a_coordinator_in_the_dashboard(servers, founders):
    admin = signed_in(servers, REVIEW_ADMIN)
    token = csrf_of(admin, servers)
    added = admin.post(
        servers.web_url + "/review/users",
        allow_redirects=False,
        headers={"Origin": servers.web_url},
        data={
            "csrf_token": token,
            "action": "add",
            "username": "finn",
            "password": "finn's password",
            "role": "coordinator",
            "cohorts": FALL,
        },
    )
    assert added.status_code == 303
    finn = signed_in(servers, ("finn", "finn's password"))
    assert {r["cohort"] for r in finn.get(servers.web_url + "/review/conversations").json()["conversations"]} == {FALL}
    bad = admin.post(
        servers.web_url + "/review/users",
        headers={"Origin": servers.web_url},
        data={
            "csrf_token": token,
            "action": "add",
            "username": "gus",
            "password": "short",
            "role": "coordinator",
            "cohorts": FALL,
        },
    )
    assert bad.status_code == 400 and "at least 10" in bad.text


def test_an_admin_makes_a_slack_user_a_mentor_of_a_cohort_and_the_slack_app_follows(servers, founders, fake):
    slack = SlackUser(servers.webhook, fake)

    def canvas(user: str, text: str) -> str:
        answer = slack.command(user, text)
        assert answer.status == 200 and answer.json()["response_type"] == "ephemeral"
        return answer.json()["text"]

    # Before: SLACK_MENTORS alone makes MENTOR a mentor of SPRING-26.
    assert "block: Brewbox" in canvas(MENTOR, "Brewbox") and "No founder in your cohorts" in canvas(MENTOR, "Slackbrew")

    admin = signed_in(servers, REVIEW_ADMIN)
    token = csrf_of(admin, servers)
    mia = {
        "action": "add",
        "username": "mia",
        "password": "mia's password",
        "role": "mentor",
        "cohorts": FALL,
        "slack_user": MENTOR,
    }
    forged = admin.post(
        servers.web_url + "/review/users", allow_redirects=False, data=mia, headers={"Origin": servers.web_url}
    )
    assert forged.status_code == 403 and "block: Brewbox" in canvas(MENTOR, "Brewbox")
    bad = admin.post(
        servers.web_url + "/review/users",
        headers={"Origin": servers.web_url},
        data={**mia, "csrf_token": token, "slack_user": "not an id"},
    )
    assert bad.status_code == 400 and "not a Slack member id" in bad.text
    added = admin.post(
        servers.web_url + "/review/users",
        allow_redirects=False,
        headers={"Origin": servers.web_url},
        data={**mia, "csrf_token": token},
    )
    assert added.status_code == 303
    assert MENTOR in admin.get(servers.web_url + "/review/users", headers={"Accept": "text/html"}).text

    # The dashboard wins over SLACK_MENTORS for the same Slack user: FALL-26 now, not SPRING-26.
    mine = slack.command(MENTOR, "slackbrew").json()
    assert mine["text"] == f"<@{SLACK_FOUNDER}>'s Customer Relationships block: Slackbrew"
    assert "Big banks" in json.dumps(mine["blocks"])
    refused = slack.command(MENTOR, "Brewbox").json()
    assert f"No founder in your cohorts ({FALL})" in refused["text"] and "Big banks" not in json.dumps(
        refused["blocks"]
    )
    assert "may only look up your own" in canvas(STRANGER, "Slackbrew")
    # Her Home tab lists her cohort's founders.
    mark = fake.mark()
    assert (
        slack.send_event({"type": "app_home_opened", "user": MENTOR, "channel": "D0MENTOR", "tab": "home"}).status
        == 200
    )
    view = json.dumps(fake.wait_for(lambda: fake.calls_since(mark, "views.publish"), "views.publish")[0].args["view"])
    assert f"Your founders: {FALL}" in view and f"Your founders: {SPRING}" not in view and "Slackbrew" in view
    # Her switch for the DM about saved blocks (bot/review/notify.py): on, and she turns it off there.
    assert "saves a block: *on*" in view and '"action_id": "mentor_notify"' in view
    mark = fake.mark()
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": MENTOR, "team_id": TEAM},
        "container": {"type": "view", "view_id": "V1"},
        "actions": [{"type": "button", "action_id": "mentor_notify", "block_id": "b", "value": "off"}],
    }
    clicked = slack.post(
        urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    )
    assert clicked.status == 200
    view = json.dumps(fake.wait_for(lambda: fake.calls_since(mark, "views.publish"), "views.publish")[0].args["view"])
    assert "saves a block: *off*" in view and "Turn them on" in view
    assert rows(servers.review_db, "SELECT slack_notify FROM review_users WHERE slack_user_id = ?", MENTOR) == [(0,)]

    # The command line does the same; the admin clears a Slack id on the Users page.
    otto = subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-m",
            "bot",
            "users",
            "add",
            "otto",
            "--role",
            "mentor",
            "--cohort",
            SPRING,
            "--slack-user",
            "U0OTTO",
        ],
        cwd=ROOT,
        env={**servers.env, "REVIEW_PASSWORD": "otto's password"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert otto.returncode == 0 and "Slack U0OTTO" in otto.stdout, otto.stderr
    assert "block: Brewbox" in canvas("U0OTTO", "Brewbox")
    cleared = admin.post(
        servers.web_url + "/review/users",
        allow_redirects=False,
        headers={"Origin": servers.web_url},
        data={
            "csrf_token": token,
            "action": "cohorts",
            "username": "otto",
            "cohorts": SPRING,
            "mentor_row": "1",
            "slack_user": "",
        },
    )
    assert cleared.status_code == 303 and "may only look up your own" in canvas("U0OTTO", "Brewbox")


# --- the browser -------------------------------------------------------------------------------


def test_a_coordinator_reviews_her_cohort_in_the_browser(servers, founders, browser, tmp_path):
    visit = Visit(browser, tmp_path)
    page = visit.page
    try:
        page.goto(servers.web_url + "/review/conversations")
        expect(page).to_have_url(re.compile(r"/review/login\?next="))
        send_sign_in_form(page, CORA)
        expect(page).to_have_url(re.compile(r"/review/conversations$"))
        table = page.locator("table.list tbody")
        expect(table).to_contain_text("Brewbox")
        expect(table).to_contain_text("Widgetco")
        expect(table).not_to_contain_text("Fallco")
        screenshot(page, "review-list.png", tmp_path)

        # Filter: saved blocks only (htmx swaps the results and keeps the filter in the address).
        page.select_option("select[name=saved]", "yes")
        expect(table).not_to_contain_text("Widgetco")
        expect(table).to_contain_text("Brewbox")
        expect(page).to_have_url(re.compile(r"saved=yes"))

        # Search, with the hits highlighted.
        page.goto(servers.web_url + "/review/search")
        page.fill("input[name=q]", "big banks")
        page.click("button:has-text('Search')")
        expect(page.locator(".hits mark").first).to_have_text(re.compile("big|banks", re.I))
        page.locator(".hits a", has_text="Brewbox").first.click()
        expect(page.locator("h1")).to_contain_text("Brewbox")

        # Tag it and add a note (htmx), then see both after a reload.
        page.fill("input[name=tag]", "Follow up")
        page.click("button:has-text('Add tag')")
        expect(page.locator("#review-panel .tags")).to_contain_text("follow up")
        page.fill("textarea[name=text]", "Strong B2B fit. <b>call</b> next week")
        page.click("button:has-text('Add note')")
        expect(page.locator(".notes")).to_contain_text("Strong B2B fit. <b>call</b> next week")
        expect(page.locator(".notes")).to_contain_text("cora")
        page.locator(".msg.founder .flag button").first.click()
        expect(page.locator(".msg.founder .flag button").first).to_contain_text("flagged")
        page.click("button:has-text('Mark reviewed')")
        expect(page.locator("#review-panel")).to_contain_text("Reviewed by cora")
        page.goto(servers.web_url + "/review/conversation?sender=ada")  # opens on the latest turns
        expect(page.locator("#review-panel .tags")).to_contain_text("follow up")
        expect(page.locator(".notes")).to_contain_text("Strong B2B fit.")
        expect(page.locator("details.advice code").first).to_be_visible()  # a rule's id
        expect(page.locator(".msg").last).to_be_in_viewport()
        page.locator("details.advice").last.evaluate("el => el.closest('.msg').scrollIntoView()")
        screenshot(page, "review-transcript.png", tmp_path)

        # A founder's script is text, and nothing runs.
        page.goto(servers.web_url + "/review/conversation?sender=eve")
        expect(page.locator(".msg.founder .text", has_text=XSS)).to_be_visible()
        expect(page.locator(".msg.founder.low").first).to_be_visible()

        # The funnel: clicking the "Saved a block" bar opens the list of saved conversations.
        page.goto(servers.web_url + f"/review/charts?cohort={SPRING}")
        page.wait_for_function("() => window.Chart && Chart.getChart('funnel')")
        screenshot(page, "review-charts.png", tmp_path)
        bar = page.evaluate("""() => { const el = Chart.getChart('funnel').getDatasetMeta(0).data[3];
                                       return {x: el.x, y: (el.y + el.base) / 2}; }""")
        page.locator("#funnel").click(position=bar)
        expect(page).to_have_url(re.compile(r"/review/conversations\?.*reached=saved"))
        expect(table).to_contain_text("Brewbox")
        expect(table).not_to_contain_text("Widgetco")

        # The CSV of the cohort.
        page.goto(servers.web_url + f"/review/conversations?cohort={SPRING}")
        with page.expect_download() as download:
            page.click("a:has-text('CSV')")
        path = tmp_path / "export.csv"
        download.value.save_as(path)
        exported = list(csv.DictReader(io.StringIO(path.read_text())))
        assert {r["founder"] for r in exported} >= {"ada", "eve", founders["widget"]}
        assert {r["cohort"] for r in exported} == {SPRING}
        ada = [r for r in exported if r["founder"] == "ada"][0]
        assert "follow up" in ada["tags"] and ada["reviewed_by"] == "cora" and "Big banks" in ada["segments"]
    finally:
        dialogs, errors, outside = visit.dialogs, visit.errors, visit.outside_requests
        refused = [line for line in visit.console if "Content Security Policy" in line]
        visit.close()
    assert dialogs == [] and errors == [] and refused == []
    assert outside == [], "the browser made requests beyond the app"


# --- deletion ----------------------------------------------------------------------------------


def test_a_deleted_founder_is_absent_from_list_search_and_export(servers, founders):
    admin = signed_in(servers, REVIEW_ADMIN)
    assert admin.get(servers.web_url + "/review/search?q=zebra").json()["hits"]
    token = csrf_of(admin, servers)
    assert (
        admin.post(
            servers.web_url + "/review/conversation/notes",
            data={"sender": "bob", "text": "zebra farmer"},
            headers={"Origin": servers.web_url, "X-CSRF-Token": token},
        ).status_code
        == 200
    )
    # The founder deletes their data, for real: the Rasa server removes their events and leaves a restart.
    servers.say("bob", "please delete my data", {"cohort": FALL})
    servers.say("bob", "/confirm_delete", {"cohort": FALL})
    assert "zebra" not in str(
        sqlite3.connect(servers.tracker_db)
        .execute("SELECT group_concat(data) FROM events WHERE sender_id = 'bob'")
        .fetchone()
    )
    # The dashboard reads new events at most once a second.
    deadline = time.monotonic() + 10
    while True:
        listed = {r["sender_id"] for r in admin.get(servers.web_url + "/review/conversations").json()["conversations"]}
        if "bob" not in listed or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert "bob" not in listed and "ada" in listed
    assert admin.get(servers.web_url + "/review/search?q=zebra").json() == {"hits": []}
    assert "bob" not in admin.get(servers.web_url + "/review/export.csv").text
    assert all(r["founder"] != "bob" for r in json.loads(admin.get(servers.web_url + "/review/export.json").text))
    assert admin.get(servers.web_url + "/review/conversation?sender=bob").status_code == 404
    with sqlite3.connect(servers.review_db) as review:
        assert review.execute("SELECT count(*) FROM review_notes WHERE sender_id = 'bob'").fetchone() == (0,)
        assert review.execute("SELECT count(*) FROM rm_messages WHERE sender_id = 'bob'").fetchone() == (0,)


def test_a_founder_whose_events_vanish_is_forgotten_by_the_update_command(servers, founders):
    admin = signed_in(servers, REVIEW_ADMIN)
    assert "kim" in {
        r["sender_id"] for r in admin.get(servers.web_url + "/review/conversations").json()["conversations"]
    }
    with sqlite3.connect(servers.tracker_db) as conn:  # rows removed by hand, with no restart left behind
        conn.execute("DELETE FROM events WHERE sender_id = 'kim'")
    updated = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "bot", "review", "update"],
        cwd=ROOT,
        env=servers.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert updated.returncode == 0, updated.stderr
    listed = admin.get(servers.web_url + "/review/conversations").json()["conversations"]
    assert "kim" not in {r["sender_id"] for r in listed}
    assert admin.get(servers.web_url + "/review/search?q=Kimchi").json() == {"hits": []}
