"""The coach as a Slack app, end to end: the real action server and Rasa server, Slack's
requests signed as Slack signs them, and a fake Slack Web API on loopback
(tests/slack_fake.py) that records what the app posts, updates, publishes and uploads."""
from __future__ import annotations

import copy
import json
import sqlite3
import time
from typing import List, Optional

import pytest

from bot.coach.export import to_json, to_markdown
from bot.coach.store import CanvasStore
from bot.plugins.channels.slack.channel import ONE_MOMENT, TROUBLE, WEB_API_SCOPES
from tests.coach_servers import CoachServers
from tests.slack_fake import (
    BOT_USER, SIGNING_SECRET, TEAM, TOKEN, ActionGate, FakeSlack, Message, SlackUser, dm_channel, sign,
)

MENTOR = "U0MENTOR"
STRANGER = "U0STRANGER"
SPRING = "C0SPRING"  # a channel of cohort SPRING-25
MENTION = f"<@{BOT_USER}>"


class SlackCoachServers(CoachServers):
    """The coach's servers with Slack on, its Web API at the fake, and the action calls
    going through a gate that a test can hold or fail."""

    def __init__(self, workdir, fake: FakeSlack):
        super().__init__(workdir)
        self.fake = fake
        self.gate = ActionGate(f"http://127.0.0.1:{self.actions_port}")

    def rasa_env(self):
        return {**self.env, "ACTIONS_PORT": str(self.gate.port), "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": self.fake.api_url,
                "SLACK_MENTORS": f"{MENTOR}:SPRING-25,FALL-25", "SLACK_CHANNEL_COHORTS": f"{SPRING}:SPRING-25",
                "SLACK_DEFAULT_COHORT": "OPEN"}

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/slack/webhook"


@pytest.fixture(scope="module")
def fake():
    slack = FakeSlack().start()
    yield slack
    slack.stop()


@pytest.fixture(scope="module")
def coach(tmp_path_factory, fake):
    servers = SlackCoachServers(tmp_path_factory.mktemp("slack"), fake)
    servers.gate.start()
    try:
        servers.start_actions()
        servers.start_rasa()
        yield servers
    finally:
        servers.stop()
        servers.gate.stop()


@pytest.fixture(scope="module")
def slack(coach, fake):
    return SlackUser(coach.webhook, fake)


# --- helpers -----------------------------------------------------------------------------


def answered(fake: FakeSlack, channel: str, thread_ts: Optional[str], before: int) -> List[Message]:
    """Waits for the coach's answer in a DM or thread: the messages that are new since
    `before` (a count of messages there), once none is a "one moment" placeholder."""

    def ready():
        new = fake.thread(channel, thread_ts)[before:]
        return new if new and all(ONE_MOMENT not in m.text for m in new) else None

    return fake.wait_for(ready, f"the coach's answer in {channel}/{thread_ts}")


def dm(slack: SlackUser, fake: FakeSlack, user: str, text: str) -> Message:
    """One DM turn: the coach's answer (one message)."""
    before = len(fake.thread(dm_channel(user), None))
    reply = slack.send_event(slack.dm_event(user, text))
    assert reply.status == 200, reply.body
    new = answered(fake, dm_channel(user), None, before)
    assert len(new) == 1, f"a turn posts one message, not {len(new)}"
    return new[0]


def in_thread(slack: SlackUser, fake: FakeSlack, user: str, channel: str, thread_ts: str, text: str,
              owner: str) -> Message:
    before = len(fake.thread(channel, thread_ts))
    event = slack.channel_event(user, channel, text, thread_ts=thread_ts, parent_user=owner)
    assert slack.send_event(event).status == 200
    new = answered(fake, channel, thread_ts, before)
    assert len(new) == 1
    return new[0]


def start_thread(slack: SlackUser, fake: FakeSlack, user: str, channel: str, text: str):
    """A top-level @mention: the coach answers in its thread. Returns (thread_ts, answer)."""
    event = slack.channel_event(user, channel, f"{MENTION} {text}")
    assert slack.send_event(event).status == 200
    return event["ts"], answered(fake, channel, event["ts"], 0)[0]


def tracker_texts(coach: CoachServers, sender: str) -> List[str]:
    with sqlite3.connect(coach.tracker_db) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                          (sender,)).fetchall()
    return [json.loads(data).get("text") for (data,) in rows]


def user_metadata(coach: CoachServers, sender: str) -> List[dict]:
    with sqlite3.connect(coach.tracker_db) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                          (sender,)).fetchall()
    return [json.loads(data).get("metadata") or {} for (data,) in rows]


def talk_to_saved_block(slack: SlackUser, fake: FakeSlack, user: str, venture: str) -> Message:
    """A whole DM coaching, clicking the buttons where the coach offers them; the saved block's message."""
    assert "Ready?" in dm(slack, fake, user, "hi").all_text
    assert "venture called" in dm(slack, fake, user, "yes, let's go").all_text
    assert "First segment" in dm(slack, fake, user, f"It's called {venture}, we deliver fresh coffee beans to offices").all_text
    support = dm(slack, fake, user, "about 20 big banks at 200k a year, they renew every year")
    assert "expertise and personal touch" in support.all_text
    click_and_wait(slack, fake, support, "Expert one-to-one advice", user)
    dm(slack, fake, user, "neither")
    dm(slack, fake, user, "face to face meetings, email and phone")
    assert "another customer segment" in dm(slack, fake, user, "keep them").all_text
    assert "Segment 1: Big banks" in dm(slack, fake, user, "no, that's all").all_text
    assert "Here is your Customer Relationships block" in dm(slack, fake, user, "looks good").all_text
    return dm(slack, fake, user, "yes, save it")


def click_and_wait(slack: SlackUser, fake: FakeSlack, message: Message, title: str, user: str) -> Message:
    before = len(fake.thread(message.channel, message.thread_ts))
    assert slack.click(message, title, user).status == 200
    new = answered(fake, message.channel, message.thread_ts, before)
    return new[0]


# --- 1, 10, 11: a DM conversation to a saved block, App Home, export ----------------------------


def test_a_dm_conversation_to_a_saved_block_with_app_home_and_export(coach, slack, fake):
    founder = "U0ADA"
    mark = fake.mark()
    saved = talk_to_saved_block(slack, fake, founder, "Brewbox")
    # The block as Block Kit: a header, one section per segment with its relationship types, Export.
    assert saved.blocks[0]["type"] == "header" or any(b["type"] == "header" for b in saved.blocks)
    segment_sections = [b for b in saved.blocks if b["type"] == "section" and "*Segment 1: Big banks*" in b["text"]["text"]]
    assert segment_sections and "Dedicated personal assistance" in segment_sections[0]["text"]["text"]
    assert "Saved as version 1" in saved.all_text
    assert "# Customer Relationships" not in saved.all_text, "the Markdown is drawn as blocks, not repeated"
    assert all(m.thread_ts is None for m in fake.thread(dm_channel(founder), None)), "DM replies are not threaded"

    # The canvas store has the founder as channel "slack", keyed by their Slack ids, in the default cohort.
    key = f"slack:{TEAM}:{founder}"
    with CanvasStore(f"sqlite:///{coach.canvas_db}") as store:
        block = store.latest_block("slack", key, status="final")
        [record] = [f for f in store.founders() if f["sender_id"] == key]
    assert block is not None and block.venture_name == "Brewbox" and record["cohort"] == "OPEN"
    assert all(m.get("cohort") == "OPEN" and m["slack"]["user"] == founder for m in user_metadata(coach, key))

    # 10. App Home republished after the save, with the block and a button to continue.
    publish = fake.wait_for(lambda: [c for c in fake.calls_since(mark, "views.publish")
                                     if c.args["user_id"] == founder], "views.publish after the save")
    home = json.dumps(publish[-1].args["view"])
    assert "Big banks" in home and "Continue coaching" in home

    # 11. Export: the Markdown and the JSON of the saved block, uploaded into the DM.
    mark = fake.mark()
    assert slack.click(saved, "Export (Markdown and JSON)", founder).status == 200
    fake.wait_for(lambda: len([c for c in fake.calls_since(mark, "files.completeUploadExternal")]) == 1, "the upload")
    uploads = {u["filename"]: u for u in fake.uploads.values() if u["channel"] == dm_channel(founder)}
    assert uploads["brewbox-v1.md"]["bytes"] == to_markdown(block).encode()
    assert uploads["brewbox-v1.json"]["bytes"] == to_json(block).encode()
    assert uploads["brewbox-v1.md"]["thread_ts"] is None


# --- 4: buttons --------------------------------------------------------------------------------


def test_a_click_answers_updates_the_message_and_a_second_click_does_nothing(coach, slack, fake):
    founder = "U0BEA"
    dm(slack, fake, founder, "hi")
    ready = dm(slack, fake, founder, "yes, let's go")
    dm(slack, fake, founder, "It's called Glow Box, monthly beauty boxes")
    support = dm(slack, fake, founder, "young women, about 5000 of them at 60 euros a year, a few times a year")
    titles = [b["text"]["text"] for b in support.buttons]
    assert "Expert one-to-one advice" in titles and len(titles) >= 2
    as_posted = copy.deepcopy(support.blocks)
    mark = fake.mark()
    answer = click_and_wait(slack, fake, support, "Expert one-to-one advice", founder)
    assert "help each other" in answer.all_text
    # The clicked message now shows the choice, without buttons (through response_url).
    assert fake.calls_since(mark, "(response_url)")
    assert not support.buttons and "chose *Expert one-to-one advice*" in support.all_text
    assert tracker_texts(coach, f"slack:{TEAM}:{founder}")[-1] == '/inform{"support_level": "expert"}'
    # A second click on the message as first posted (a slow client still shows its buttons) does nothing.
    count = len(fake.thread(dm_channel(founder), None))
    mark = fake.mark()
    stale = Message(support.channel, support.ts, None, support.text, blocks=as_posted)
    assert slack.click(stale, titles[-1], founder).status == 200
    assert slack.send_event(slack.dm_event(founder, "thanks")).status == 200  # something to wait for
    answered(fake, dm_channel(founder), None, count)
    assert len(fake.thread(dm_channel(founder), None)) == count + 1, "only the 'thanks' got an answer"
    assert not fake.calls_since(mark, "(response_url)") and not fake.calls_since(mark, "chat.update")
    assert tracker_texts(coach, f"slack:{TEAM}:{founder}")[-1] == "thanks"
