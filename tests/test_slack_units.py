"""The Slack app's pure parts, without servers: settings, conversation keys and who gets
an answer, dedupe, mrkdwn, Block Kit rendering of a turn and of the finished block, and
the /canvas and App Home answers over a real SQLite canvas store."""

from __future__ import annotations

import json

import pytest

from bot.coach.export import to_markdown
from bot.coach.store import CanvasStore
from bot.plugins.channels.slack import lookup, render, routing
from bot.plugins.channels.slack.settings import SettingsError, SlackSettings, parse_id_map
from tests.conftest import banks, block, ledgerly_block, shops
from tests.slack_fake import check_blocks

TEAM = "T1"
BOT = "UBOT"


# --- settings ------------------------------------------------------------------------------


def test_the_dashboards_mentor_wins_over_slack_mentors_and_the_setting_is_the_fallback(tmp_path):
    from bot.review.auth import Users
    from bot.review.db import ReviewDB
    from bot.review.mentors import DashboardMentors

    url = f"sqlite:///{tmp_path / 'review.db'}"
    review = ReviewDB(url)
    Users(review, "k" * 32).add("mia", "mia's password", "mentor", ["FALL-25"], "U01")
    review.close()
    mentors = lookup.Mentors(
        parse_id_map("SLACK_MENTORS", "U01:SPRING-25; U02:SPRING-25,FALL-25"), DashboardMentors(url)
    )
    assert mentors.cohorts_of("U01") == {"FALL-25"}  # the dashboard's, not the setting's
    assert mentors.cohorts_of("U02") == {"SPRING-25", "FALL-25"} and mentors.cohorts_of("U03") == frozenset()
    assert mentors.of_cohort("SPRING-25") == ["U02"] and mentors.of_cohort("FALL-25") == ["U01", "U02"]
    without = lookup.Mentors(
        parse_id_map("SLACK_MENTORS", "U01:SPRING-25"), DashboardMentors(f"sqlite:///{tmp_path}/x.db")
    )
    assert without.cohorts_of("U01") == {"SPRING-25"}


def test_slack_is_off_without_the_token_or_the_secret():
    assert SlackSettings.from_env({}) is None
    assert SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}) is None
    assert SlackSettings.from_env({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "  "}) is None


def test_settings_are_read_and_the_secrets_never_shown():
    settings = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-secret-token",
            "SLACK_SIGNING_SECRET": "signing-secret",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "SLACK_MENTORS": "U01:SPRING-25,FALL-25; U02:SPRING-25;",
            "SLACK_CHANNEL_COHORTS": "C01:SPRING-25;#C02:FALL-25",
            "SLACK_DEFAULT_COHORT": "OPEN",
        }
    )
    assert settings.api_url == "http://127.0.0.1:9/api/"
    assert settings.mentors == {"U01": ("SPRING-25", "FALL-25"), "U02": ("SPRING-25",)}
    assert settings.cohort_of("C02") == "FALL-25" and settings.cohort_of("C99") == "OPEN"
    assert settings.cohort_of(None) == "OPEN"
    assert settings.cohorts_mentored_by("U01") == {"SPRING-25", "FALL-25"} and not settings.cohorts_mentored_by("U9")
    assert "xoxb-secret-token" not in repr(settings) and "signing-secret" not in repr(settings)
    assert (
        SlackSettings.from_env({"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y"}).api_url
        == "https://slack.com/api/"
    )


@pytest.mark.parametrize("text", ["U01", "U01:", "not an id:SPRING", "U01 SPRING-25", ":SPRING"])
def test_a_malformed_mapping_is_an_error_that_names_the_variable(text):
    with pytest.raises(SettingsError, match="SLACK_MENTORS"):
        parse_id_map("SLACK_MENTORS", text)


def test_a_channel_has_one_cohort():
    with pytest.raises(SettingsError, match="SLACK_CHANNEL_COHORTS"):
        SlackSettings.from_env(
            {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y", "SLACK_CHANNEL_COHORTS": "C01:A,B"}
        )


# --- conversation keys and who gets an answer ------------------------------------------------


def test_keys_say_where_the_conversation_is():
    assert routing.dm_key(TEAM, "U1") == "slack:T1:U1"
    key = routing.thread_key(TEAM, "U1", "C1", "17.5")
    assert key == "slack:T1:U1:C1:17.5"
    assert routing.place_of(key) == routing.Place(TEAM, "U1", "C1", "17.5") and routing.place_of(key).key == key
    assert routing.place_of("slack:T1:U1") == routing.Place(TEAM, "U1", None, None)
    assert routing.place_of("socketio-abc") is None and routing.place_of("slack:T1::C1:1") is None
    assert routing.keys_of_user(TEAM, "U1", key) and routing.keys_of_user(TEAM, "U1", "slack:T1:U1")
    assert not routing.keys_of_user(TEAM, "U1", "slack:T1:U12") and not routing.keys_of_user(
        TEAM, "U1", "slack:T1:U2:C1:1"
    )


def event(**fields):
    return {"type": "message", "channel": "C1", "user": "U1", "text": "hello", "ts": "10.1", **fields}


def test_the_coach_ignores_bots_edits_joins_and_its_own_messages():
    read = routing.read_message_event
    assert read(event(), TEAM, BOT) is not None
    for ignored in (
        event(subtype="message_changed"),
        event(subtype="channel_join"),
        event(bot_id="B1"),
        event(user=BOT),
        event(user=None),
        event(type="reaction_added"),
        "not an event",
    ):
        assert read(ignored, TEAM, BOT) is None, ignored


def test_dms_mentions_owners_and_side_talk():
    read = routing.read_message_event
    dm = read(event(channel="D1", channel_type="im"), TEAM, BOT)
    assert dm.is_dm and not dm.mentions_bot
    top = read(event(text=f"<@{BOT}> hi"), TEAM, BOT)
    assert routing.role_in_thread(top, None) == routing.START
    assert routing.role_in_thread(read(event(), TEAM, BOT), None) == routing.SIDE_TALK
    reply = read(event(thread_ts="9.0", parent_user_id="U1"), TEAM, BOT)
    assert reply.thread_ts == "9.0" and reply.parent_user == "U1"
    assert routing.role_in_thread(reply, "U1") == routing.OWNER
    mentor = read(event(user="U2", thread_ts="9.0", text=f"<@{BOT}> try again"), TEAM, BOT)
    assert routing.role_in_thread(mentor, "U1") == routing.STEER
    assert routing.role_in_thread(read(event(user="U2", thread_ts="9.0"), TEAM, BOT), "U1") == routing.SIDE_TALK
    # A thread's first message has thread_ts == ts: it is top level.
    assert read(event(thread_ts="10.1"), TEAM, BOT).thread_ts is None
    assert read(dict(event(text="hi"), type="app_mention"), TEAM, BOT).mentions_bot


def test_text_for_the_nlu():
    assert routing.text_for_nlu(f"<@{BOT}> Salt &amp; Pepper &lt;3", BOT) == "Salt & Pepper <3"
    assert routing.text_for_nlu("a &amp;lt; b", BOT) == "a &lt; b", "a typed '&lt;' stays as typed"
    assert (
        routing.text_for_nlu("ask <@U2|maria> in <#C1|general> or <https://x.org|our site> <!here>", BOT)
        == "ask @U2 in #general or our site @here"
    )
    assert routing.text_for_nlu(f"<@{BOT}>", BOT) == ""


def test_seen_recently_dedupes_within_its_ttl_and_capacity():
    now = [0.0]
    seen = routing.SeenRecently(ttl_s=60, capacity=3, clock=lambda: now[0])
    assert seen.first_time("event:1", "message:C1:1")
    assert not seen.first_time("event:1") and not seen.first_time("event:2", "message:C1:1")
    assert not seen.first_time("event:2"), "the pair recorded both keys"
    now[0] = 61
    assert seen.first_time("event:1"), "forgotten after the TTL"
    for key in ("a", "b", "c"):
        seen.first_time(key)
    assert seen.first_time("event:1"), "the oldest went past the capacity"
    assert seen.first_time(None, None) and seen.first_time()


# --- mrkdwn and Block Kit ---------------------------------------------------------------------


def test_markdown_becomes_mrkdwn():
    assert render.to_mrkdwn("**Bold** and *italic* and __also bold__") == "*Bold* and _italic_ and *also bold*"
    assert (
        render.to_mrkdwn("See [the seeds](https://example.org/a_b) now")
        == "See <https://example.org/a_b|the seeds> now"
    )
    assert render.to_mrkdwn("# Customer Relationships: A&B") == "*Customer Relationships: A&amp;B*"
    assert render.to_mrkdwn("- one\n  - nested\n* two\n1. first") == "• one\n    ◦ nested\n• two\n1. first"
    assert render.to_mrkdwn("x < y > z") == "x &lt; y &gt; z"
    assert render.to_mrkdwn("2 * 3 * 4") == "2 * 3 * 4", "a lone star is not italics"
    assert render.to_mrkdwn("### Communities *(added by the founder)*") == "*Communities _(added by the founder)_*"


def test_a_turns_messages_become_one_post_with_every_button():
    buttons = [{"title": f"Option {n}", "payload": f'/inform{{"n": {n}}}'} for n in range(30)]
    turn = render.render_turn(
        [
            {"text": "First **point**."},
            {"text": "Second."},
            {"text": "Pick one", "buttons": buttons},
            {"custom": {"type": "something_else"}, "metadata": {"ignored": True}},
        ],
        "slack:T1:U1",
    )
    [post] = turn.posts
    check_blocks(post.blocks)
    assert [b["text"]["text"] for b in post.blocks if b["type"] == "section"] == [
        "First *point*.",
        "Second.",
        "Pick one",
    ]
    actions = [b for b in post.blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 5], "the whole set, 25 to a block"
    assert [e["value"] for b in actions for e in b["elements"]] == [b["payload"] for b in buttons]
    assert render.block_id_conversation(actions[1]["block_id"], render.CHOICES_BLOCK) == "slack:T1:U1"
    assert "First *point*." in post.text


def test_long_recommendations_stay_within_block_kits_limits():
    long_text = "\n\n".join(f"**Segment {n}:** " + "A reason to choose this relationship. " * 40 for n in range(60))
    long_label = {"title": "L" * 200, "payload": "/affirm"}
    turn = render.render_turn([{"text": long_text, "buttons": [long_label]}], "slack:T1:U1")
    assert len(turn.posts) >= 2
    for post in turn.posts:
        check_blocks(post.blocks)
        assert len(post.text) <= render.FALLBACK_CHARS
    sections = [b["text"]["text"] for p in turn.posts for b in p.blocks if b["type"] == "section"]
    assert "".join(sections).replace("\n", "").replace(" ", "") == render.to_mrkdwn(long_text).replace(
        "\n", ""
    ).replace(" ", ""), "nothing is cut off"
    assert turn.posts[-1].blocks[-1]["type"] == "actions", "the buttons come last"


def test_the_saved_block_as_block_kit_from_the_coachs_payload():
    saved = ledgerly_block(version=2)
    payload = {"type": "canvas_block", "block": saved.to_dict(), "markdown": to_markdown(saved)}
    turn = render.render_turn(
        [{"text": to_markdown(saved)}, {"custom": payload}, {"text": "Saved as version 2."}], "slack:T1:U1"
    )
    [post] = turn.posts
    check_blocks(post.blocks)
    assert turn.saved_block is payload
    text = json.dumps(post.blocks)
    assert "# Customer Relationships" not in text, "the Markdown is not repeated as text"
    assert post.blocks[0]["type"] == "section" or post.blocks[0]["type"] == "header"
    segments = [b["text"]["text"] for b in post.blocks if b["type"] == "section" and "*Segment" in b["text"]["text"]]
    assert len(segments) == 2
    assert (
        "*Segment 1: Freelance designers*" in segments[0]
        and "• *Self-service*: They work at 2am; Low price point" in segments[0]
    )
    assert "*Segment 2: Small agencies*" in segments[1] and "Personal assistance" in segments[1]
    [export] = [b for b in post.blocks if str(b.get("block_id", "")).startswith(render.EXPORT_BLOCK)]
    assert json.loads(export["elements"][0]["value"]) == {"venture": "Ledgerly", "version": 2}
    assert "Saved as version 2." in text


def test_a_data_export_payload_becomes_uploads():
    files = [
        {"filename": "me.md", "mimetype": "text/markdown", "content": "# Me"},
        {"filename": "me.json", "mimetype": "application/json", "content": "{}"},
        {"filename": "", "content": "nameless"},
        "junk",
    ]
    turn = render.render_turn(
        [{"text": "Here is your data."}, {"custom": {"type": "data_export", "files": files}}], "slack:T1:U1"
    )
    assert [f["filename"] for f in turn.uploads] == ["me.md", "me.json"]
    assert len(turn.posts) == 1


def test_after_a_click_the_buttons_go_and_the_choice_shows():
    blocks = render.sections("How much help?") + render.button_blocks(
        [{"title": "Expert", "payload": "/inform"}], "slack:T1:U1"
    )
    after = render.after_click(blocks, "U1", "Expert <advice>")
    assert [b["type"] for b in after] == ["section", "context"]
    assert after[-1]["elements"][0]["text"] == "<@U1> chose *Expert &lt;advice&gt;*"


def test_an_empty_turn_renders_nothing():
    assert render.render_turn([], "slack:T1:U1").posts == []


# --- /canvas and App Home over a real store ------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    with CanvasStore(f"sqlite:///{tmp_path / 'canvas.db'}") as canvas:
        yield canvas


def test_canvas_command_answers(store):
    store.save_block("slack", "slack:T1:U1:C1:5.5", block(banks(), status="final"), cohort="SPRING")
    other = block(shops(), status="final")
    other.venture_name = "Glow Box"
    store.save_block("slack", "slack:T1:U2", other, cohort="SPRING")
    store.save_block("socketio", "web-session-1", ledgerly_block(), cohort="SPRING")
    store.save_block("slack", "slack:T1:U3", block(shops(), status="final"), cohort="FALL")

    own = lookup.canvas_command(store, "T1", "U1", "", frozenset())
    assert "Brewbox" in own.text and "Banks" in json.dumps(own.blocks)
    assert "no saved block" in lookup.canvas_command(store, "T1", "U9", "", frozenset()).text
    assert "Rapport" in lookup.canvas_command(store, "T1", "U9", " help ", frozenset()).text
    assert lookup.canvas_command(store, "T1", "U1", "Glow Box", frozenset()).text == lookup.NOT_ALLOWED
    assert lookup.canvas_command(store, "T1", "U1", "<@U2|b>", frozenset()).text == lookup.NOT_ALLOWED
    assert "Brewbox" in lookup.canvas_command(store, "T1", "U1", "<@U1|me>", frozenset()).text

    mentor = frozenset({"SPRING"})
    assert "Small shops" in json.dumps(lookup.canvas_command(store, "T1", "UM", "glow box", mentor).blocks)
    assert "Small shops" in json.dumps(lookup.canvas_command(store, "T1", "UM", "<@U2|bea>", mentor).blocks)
    assert "Freelance designers" in json.dumps(lookup.canvas_command(store, "T1", "UM", "ledger", mentor).blocks)
    assert "No founder in your cohorts" in lookup.canvas_command(store, "T1", "UM", "<@U3|cy>", mentor).text
    assert "No founder in your cohorts" in lookup.canvas_command(store, "T1", "UM", "Nothing Like It", mentor).text


def test_home_view_for_a_founder_and_for_a_mentor(store):
    assert "Start coaching" in json.dumps(lookup.home_view(store, "T1", "U1", frozenset()))
    store.save_block("slack", "slack:T1:U1", block(banks(), status="final"), cohort="SPRING")
    store.save_block("slack", "slack:T1:U2", block(shops()), cohort="SPRING")
    view = lookup.home_view(store, "T1", "U1", frozenset())
    check_blocks(view["blocks"], limit=100)
    assert view["type"] == "home" and "Continue coaching" in json.dumps(view) and "Banks" in json.dumps(view)
    mentor = json.dumps(lookup.home_view(store, "T1", "UM", frozenset({"SPRING", "EMPTY"})))
    assert "Your founders: SPRING" in mentor and "<@U1>" in mentor and "saved a block (version 1)" in mentor
    assert "<@U2>" in mentor and "started, no final block yet" in mentor
    assert "No founder of this cohort has started yet" in mentor


def test_the_owner_only_intents_are_the_domains():
    import yaml

    from bot.plugins.channels.slack.channel import OWNER_ONLY_INTENTS
    from tests.conftest import ROOT

    intents = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"]
    assert OWNER_ONLY_INTENTS <= set(intents)
