"""The coach as a Slack app, end to end: the real action server and Rasa server, Slack's
requests signed as Slack signs them, and a fake Slack Web API on loopback
(tests/slack_fake.py) that records what the app posts, updates, publishes and uploads."""

from __future__ import annotations

import copy
import json
import sqlite3
import time
from typing import Callable, List, Optional

import pytest

from bot.coach.conversation import ACTIONS_UNREACHABLE
from bot.coach.export import from_export_dict, to_markdown
from bot.coach.store import CanvasStore
from bot.plugins.channels.slack.channel import ONE_MOMENT, WEB_API_SCOPES, block_json
from deploy.launchers import CoachServers, running_coach
from tests.conftest import sqlite_locked
from tests.slack_fake import (
    BOT_USER,
    SIGNING_SECRET,
    TEAM,
    TOKEN,
    ActionGate,
    FakeSlack,
    Message,
    SlackUser,
    dm_channel,
    sign,
)

MENTOR = "U0MENTOR"
STRANGER = "U0STRANGER"
SPRING = "C0SPRING"  # a channel of cohort SPRING-25
MENTION = f"<@{BOT_USER}>"


class SlackCoachServers(CoachServers):
    """The coach's servers with Slack on, its Web API at the fake, and the action calls
    going through a gate that a test can hold or fail."""

    def __init__(self, workdir, fake: FakeSlack):
        super().__init__(workdir, remote_actions=True)
        self.fake = fake
        self.gate = ActionGate(f"http://127.0.0.1:{self.actions_port}").start()

    def rasa_env(self):
        return {
            **self.env,
            "ACTIONS_URL": f"http://127.0.0.1:{self.gate.port}/webhook",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.fake.api_url,
            "SLACK_MENTORS": f"{MENTOR}:SPRING-25,FALL-25",
            "SLACK_CHANNEL_COHORTS": f"{SPRING}:SPRING-25",
            "SLACK_DEFAULT_COHORT": "OPEN",
        }

    def stop(self) -> None:
        super().stop()
        self.gate.stop()

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
    workdir = tmp_path_factory.mktemp("slack")
    with running_coach(workdir, SlackCoachServers(workdir, fake)) as servers:
        yield servers


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


def in_thread(
    slack: SlackUser, fake: FakeSlack, user: str, channel: str, thread_ts: str, text: str, owner: str
) -> Message:
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


def posts_only(fake: FakeSlack, calls) -> List[str]:
    """The methods called, without the chat.update that puts the answer into a slow turn's
    "one moment" message (a busy machine can make any turn take over 3 seconds)."""

    def placeholder(call) -> bool:
        message = fake.messages.get((call.args.get("channel"), call.args.get("ts")))
        return call.method == "chat.update" and message is not None and ONE_MOMENT in message.posted_text

    return [c.method for c in calls if not placeholder(c)]


def tracker_texts(coach: CoachServers, sender: str) -> List[str]:
    with sqlite3.connect(coach.tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data).get("text") for (data,) in rows]


def data_export_sent(coach: CoachServers, sender: str) -> List[dict]:
    """The files of the coach's latest data_export message to `sender`."""
    with sqlite3.connect(coach.tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot' ORDER BY id DESC", (sender,)
        ).fetchall()
    customs = [(json.loads(data).get("data") or {}).get("custom") or {} for (data,) in rows]
    return next(custom["files"] for custom in customs if custom.get("type") == "data_export")


def user_metadata(coach: CoachServers, sender: str) -> List[dict]:
    with sqlite3.connect(coach.tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data).get("metadata") or {} for (data,) in rows]


def set_cohort(coach: CoachServers, sender: str, cohort: str) -> None:
    with sqlite3.connect(coach.canvas_db) as db:
        assert (
            db.execute(
                "UPDATE founders SET cohort = ? WHERE channel = 'slack' AND sender_id = ?", (cohort, sender)
            ).rowcount
            == 1
        )


def talk_to_saved_block(
    slack: SlackUser, fake: FakeSlack, user: str, venture: str, say: Optional[Callable[[str], Message]] = None
) -> Message:
    """A whole coaching (in the user's DM unless `say` is given), clicking the buttons where the
    coach offers them; the saved block's message."""
    say = say or (lambda text: dm(slack, fake, user, text))
    assert "Ready?" in say("hi").all_text
    assert "venture called" in say("yes, let's go").all_text
    assert "First segment" in say(f"It's called {venture}, we deliver fresh coffee beans to offices").all_text
    assert "they are businesses (B2B)" in say("about 20 big banks at 200k a year, they renew every year").all_text
    assert "You mentioned about 20 customers" in say("yes").all_text  # businesses, heard in passing, confirmed
    assert "You mentioned they buy regularly" in say("yes").all_text  # the numbers heard in passing, confirmed
    support = say("yes")
    assert "expertise and personal touch" in support.all_text
    click_and_wait(slack, fake, support, "Expert one-to-one advice", user)
    say("neither")
    say("face to face meetings, email and phone")
    assert "another customer segment" in say("keep them").all_text
    assert "Segment 1: Big banks" in say("no, that's all").all_text
    assert "Here is your Customer Relationships block" in say("looks good").all_text
    return say("yes, save it")


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
    segment_sections = [
        b for b in saved.blocks if b["type"] == "section" and "*Segment 1: Big banks*" in b["text"]["text"]
    ]
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
    publish = fake.wait_for(
        lambda: [c for c in fake.calls_since(mark, "views.publish") if c.args["user_id"] == founder],
        "views.publish after the save",
    )
    home = json.dumps(publish[-1].args["view"])
    assert "Big banks" in home and "Continue coaching" in home

    # 11. Export: the Markdown and the JSON of the saved block, uploaded into the DM.
    mark = fake.mark()
    assert slack.click(saved, "Export (Markdown and JSON)", founder).status == 200
    fake.wait_for(lambda: len([c for c in fake.calls_since(mark, "files.completeUploadExternal")]) == 1, "the upload")
    uploads = {u["filename"]: u for u in fake.uploads.values() if u["channel"] == dm_channel(founder)}
    assert uploads["brewbox-customer-relationships-v1.md"]["bytes"] == to_markdown(block).encode()
    assert uploads["brewbox-customer-relationships-v1.json"]["bytes"] == block_json(block).encode()
    assert from_export_dict(json.loads(uploads["brewbox-customer-relationships-v1.json"]["bytes"])) == block, (
        "the JSON reads back"
    )
    assert uploads["brewbox-customer-relationships-v1.md"]["thread_ts"] is None

    # "Export my data" (the coach's data_export message): the files, uploaded into the DM.
    mark = fake.mark()
    exported = dm(slack, fake, founder, "export my data")
    assert "# Everything Rapport stores" not in exported.all_text, "the files are uploaded, not posted"
    fake.wait_for(lambda: fake.calls_since(mark, "files.completeUploadExternal"), "the data export's upload")
    expected = data_export_sent(coach, key)  # what the coach handed over, as the tracker store recorded it
    uploaded = {u["filename"]: u["bytes"] for u in fake.uploads.values() if u["channel"] == dm_channel(founder)}
    assert [uploaded[f["filename"]] for f in expected] == [f["content"].encode() for f in expected]
    assert b"Brewbox" in uploaded["rapport-my-data.md"]
    with CanvasStore(f"sqlite:///{coach.canvas_db}") as store:
        blocks = store.founder_blocks("slack", key)
    assert [from_export_dict(b) for b in json.loads(uploaded["rapport-my-data.json"])["blocks"]] == blocks

    # "Delete my data" works as on the web; the old Export button then says the block is gone.
    ask = dm(slack, fake, founder, "please delete my data")
    assert "deleted" in click_and_wait(slack, fake, ask, "Yes, delete everything", founder).all_text
    with CanvasStore(f"sqlite:///{coach.canvas_db}") as store:
        assert not [f for f in store.founders() if f["sender_id"] == key]
    mark = fake.mark()
    assert slack.click(saved, "Export (Markdown and JSON)", founder).status == 200
    [notice] = fake.wait_for(lambda: fake.calls_since(mark, "chat.postEphemeral"), "the ephemeral notice")
    assert notice.args["user"] == founder and "no longer stored" in notice.args["text"]
    assert not fake.calls_since(mark, "files.getUploadURLExternal")


# --- 4: buttons --------------------------------------------------------------------------------


def test_a_click_answers_updates_the_message_and_a_second_click_does_nothing(coach, slack, fake):
    founder = "U0BEA"
    dm(slack, fake, founder, "hi")
    dm(slack, fake, founder, "yes, let's go")
    dm(slack, fake, founder, "It's called Glow Box, monthly beauty boxes")
    dm(slack, fake, founder, "young women, about 5000 of them at 60 euros a year, a few times a year")
    dm(slack, fake, founder, "yes")  # consumers (B2C), heard in passing, confirmed
    dm(slack, fake, founder, "yes")  # the numbers heard in passing, confirmed
    support = dm(slack, fake, founder, "yes")  # and how often they buy
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
    assert not fake.calls_since(mark, "(response_url)")
    assert not [c for c in fake.calls_since(mark, "chat.update") if c.args["ts"] == support.ts]
    assert tracker_texts(coach, f"slack:{TEAM}:{founder}")[-1] == "thanks"


# --- 2, 3: threads ----------------------------------------------------------------------------


def test_two_threads_in_one_channel_stay_apart(coach, slack, fake):
    maria, omar = "U0MARIA", "U0OMAR"
    maria_ts, first = start_thread(slack, fake, maria, SPRING, "hi")
    omar_ts, _ = start_thread(slack, fake, omar, SPRING, "hi")
    assert "Ready?" in first.all_text and first.thread_ts == maria_ts
    # Each owner drives their own thread without mentioning the coach.
    in_thread(slack, fake, maria, SPRING, maria_ts, "yes, let's go", owner=maria)
    in_thread(slack, fake, omar, SPRING, omar_ts, "yes, let's go", owner=omar)
    in_thread(slack, fake, maria, SPRING, maria_ts, "It's called Glow Box, beauty boxes by post", owner=maria)
    reply = in_thread(slack, fake, omar, SPRING, omar_ts, "It's called Tidy Tools, software for plumbers", owner=omar)
    assert "Tidy Tools" in reply.all_text and "Glow Box" not in reply.all_text
    maria_key, omar_key = (f"slack:{TEAM}:{maria}:{SPRING}:{maria_ts}", f"slack:{TEAM}:{omar}:{SPRING}:{omar_ts}")
    assert tracker_texts(coach, maria_key)[-1] == "It's called Glow Box, beauty boxes by post"
    assert tracker_texts(coach, omar_key)[-1] == "It's called Tidy Tools, software for plumbers"
    assert all(m["cohort"] == "SPRING-25" for m in user_metadata(coach, maria_key)), "the channel's cohort"
    assert all(m.thread_ts == maria_ts for m in fake.thread(SPRING, maria_ts))


def test_a_block_saved_in_a_thread_is_exported_there_and_the_cohorts_mentor_sees_it_at_home(coach, slack, fake):
    founder = "U0THREAD"
    mark = fake.mark()
    thread = {}

    def say(text):  # the first message is a mention in the channel, the rest go in its thread
        if "ts" not in thread:
            thread["ts"], answer = start_thread(slack, fake, founder, SPRING, text)
            return answer
        return in_thread(slack, fake, founder, SPRING, thread["ts"], text, owner=founder)

    saved = talk_to_saved_block(slack, fake, founder, "Threadly", say)
    thread_ts = thread["ts"]
    assert saved.thread_ts == thread_ts and "Saved as version 1" in saved.all_text
    key = f"slack:{TEAM}:{founder}:{SPRING}:{thread_ts}"
    with CanvasStore(f"sqlite:///{coach.canvas_db}") as store:
        [record] = [f for f in store.founders("SPRING-25") if f["sender_id"] == key]
    assert record["venture_name"] == "Threadly" and record["latest_status"] == "final"
    # The founder's and the cohort's mentor's Home tabs are republished after the save.
    homes = fake.wait_for(
        lambda: (
            {c.args["user_id"]: c for c in fake.calls_since(mark, "views.publish")}
            if len(fake.calls_since(mark, "views.publish")) >= 2
            else None
        ),
        "two Home tabs",
    )
    assert "Threadly" in json.dumps(homes[founder].args["view"])
    assert f"<@{founder}>" in json.dumps(homes[MENTOR].args["view"]) and "Threadly" in json.dumps(
        homes[MENTOR].args["view"]
    )
    # Export is the founder's: the mentor who clicks it is told so, only them.
    mark = fake.mark()
    assert slack.click(saved, "Export (Markdown and JSON)", MENTOR).status == 200
    [refusal] = fake.wait_for(lambda: fake.calls_since(mark, "chat.postEphemeral"), "the refusal")
    assert refusal.args["user"] == MENTOR and f"Only <@{founder}>" in refusal.args["text"]
    assert not fake.calls_since(mark, "files.completeUploadExternal"), "the refused click uploaded nothing"
    # Clicked by the founder: into the same thread.
    assert slack.click(saved, "Export (Markdown and JSON)", founder).status == 200
    fake.wait_for(lambda: fake.calls_since(mark, "files.completeUploadExternal"), "the upload into the thread")
    [upload] = [u for u in fake.uploads.values() if u["filename"] == "threadly-customer-relationships-v1.md"]
    assert upload["channel"] == SPRING and upload["thread_ts"] == thread_ts


def test_a_mentor_steers_a_founders_thread_with_a_mention_and_side_talk_gets_no_reply(coach, slack, fake):
    founder = "U0NINA"
    thread_ts, _ = start_thread(slack, fake, founder, SPRING, "hi")
    in_thread(slack, fake, founder, SPRING, thread_ts, "yes, let's go", owner=founder)
    key = f"slack:{TEAM}:{founder}:{SPRING}:{thread_ts}"
    # Side talk: the mentor (or anyone but the owner) without a mention gets no reply.
    count = len(fake.thread(SPRING, thread_ts))
    side = slack.channel_event(
        MENTOR, SPRING, "Nina, think about your second product too", thread_ts=thread_ts, parent_user=founder
    )
    assert slack.send_event(side).status == 200
    # The mentor's @mention steers the founder's coaching (the same conversation).
    steer = in_thread(
        slack, fake, MENTOR, SPRING, thread_ts, f"{MENTION} It's called Nina's Bakes, cakes for cafes", owner=founder
    )
    assert len(fake.thread(SPRING, thread_ts)) == count + 1, "the side talk got no reply"
    assert "First segment" in steer.all_text
    texts = tracker_texts(coach, key)
    assert "Nina, think about your second product too" not in texts
    assert texts[-1] == "It's called Nina's Bakes, cakes for cafes", "the mention is taken out"
    steering = user_metadata(coach, key)[-1]["slack"]
    assert steering["user"] == MENTOR and steering["mentor"] is True and steering["owner"] == founder

    # The founder's data is theirs: someone else's mention may not delete or export it, nor answer
    # the coach's "delete everything?", by typing or by clicking. They alone are told so.
    def refused(text=None, click=None):
        mark, count = fake.mark(), len(fake.thread(SPRING, thread_ts))
        if text:
            assert (
                slack.send_event(
                    slack.channel_event(MENTOR, SPRING, f"{MENTION} {text}", thread_ts=thread_ts, parent_user=founder)
                ).status
                == 200
            )
        else:
            assert slack.click(click, "Yes, delete everything", MENTOR).status == 200
        [notice] = fake.wait_for(lambda: fake.calls_since(mark, "chat.postEphemeral"), "the refusal")
        assert notice.args["user"] == MENTOR and notice.args["thread_ts"] == thread_ts
        assert f"<@{founder}>" in notice.args["text"] and len(fake.thread(SPRING, thread_ts)) == count
        return notice.args["text"]

    assert "delete or export" in refused("delete my data")
    assert "delete or export" in refused("export my data")
    ask = in_thread(slack, fake, founder, SPRING, thread_ts, "please delete my data", owner=founder)
    assert "waiting for" in refused("yes")
    assert "delete or export" in refused(click=ask)
    assert ask.buttons, "the refused click left the buttons"
    assert "nothing was deleted" in click_and_wait(slack, fake, ask, "No, keep it", founder).all_text
    assert not [t for t in tracker_texts(coach, key) if "delete my data" in t and t != "please delete my data"]
    assert "yes" not in tracker_texts(coach, key)

    # Someone talking in a thread the coach was never called into gets no reply either.
    mark = fake.mark()
    human_ts = SlackUser.new_ts()
    fake.thread_starters[(SPRING, human_ts)] = founder
    assert (
        slack.send_event(slack.channel_event(founder, SPRING, "lunch?", thread_ts=human_ts, parent_user=founder)).status
        == 200
    )
    in_thread(slack, fake, founder, SPRING, thread_ts, "and what do you think?", owner=founder)  # to wait on
    assert not [c for c in fake.calls_since(mark, "chat.postMessage") if c.args.get("thread_ts") == human_ts]


# --- 5, 6: exactly once ------------------------------------------------------------------------


def test_a_retried_event_is_answered_once_and_a_retry_whose_original_was_lost_is_answered(coach, slack, fake):
    founder = "U0RETRY"
    event = slack.dm_event(founder, "hi")
    assert slack.send_event(event, event_id="EvRETRY1").status == 200
    for reason in ("http_timeout", "http_error"):
        again = slack.send_event(
            event, event_id="EvRETRY1", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": reason}
        )
        assert again.status == 200, "a retry is acknowledged (or Slack retries again)"
    answered(fake, dm_channel(founder), None, 0)
    # A second message, to wait on: by then a duplicate answer to "hi" would have been posted.
    dm(slack, fake, founder, "what can you do?")
    assert len(fake.thread(dm_channel(founder), None)) == 2
    assert tracker_texts(coach, f"slack:{TEAM}:{founder}") == ["hi", "what can you do?"]
    # A retry (X-Slack-Retry-Num: 2) whose earlier deliveries never reached us is answered, once.
    lost = slack.dm_event(founder, "thanks")
    assert (
        slack.send_event(
            lost, event_id="EvLOST", headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}
        ).status
        == 200
    )
    answered(fake, dm_channel(founder), None, 2)
    assert tracker_texts(coach, f"slack:{TEAM}:{founder}")[-1] == "thanks"


def test_a_mention_delivered_as_message_and_as_app_mention_is_answered_once(coach, slack, fake):
    founder = "U0TWICE"
    as_message = slack.channel_event(founder, SPRING, f"{MENTION} hi")
    as_mention = dict(as_message, type="app_mention")
    as_mention.pop("channel_type")
    assert slack.send_event(as_mention).status == 200
    assert slack.send_event(as_message).status == 200
    thread_ts = as_message["ts"]
    answered(fake, SPRING, thread_ts, 0)
    # In the thread, an app_mention without parent_user_id: the owner is asked of Slack (conversations.replies).
    mark = fake.mark()
    follow = slack.channel_event(founder, SPRING, f"{MENTION} yes, let's go", thread_ts=thread_ts, kind="app_mention")
    twin = dict(follow, type="message", channel_type="channel", parent_user_id=founder)
    assert slack.send_event(follow).status == 200 and slack.send_event(twin).status == 200
    answered(fake, SPRING, thread_ts, 1)
    in_thread(slack, fake, founder, SPRING, thread_ts, "It's called Twice Nice, gifts", owner=founder)
    assert len(fake.thread(SPRING, thread_ts)) == 3, "three messages, three answers"
    assert fake.calls_since(mark, "conversations.replies")
    assert tracker_texts(coach, f"slack:{TEAM}:{founder}:{SPRING}:{thread_ts}") == [
        "hi",
        "yes, let's go",
        "It's called Twice Nice, gifts",
    ]


def test_its_own_messages_bots_edits_and_joins_get_no_reply(coach, slack, fake):
    founder = "U0QUIET"
    dm(slack, fake, founder, "hi")
    count, mark = len(fake.thread(dm_channel(founder), None)), fake.mark()
    own = dict(slack.dm_event(BOT_USER, "Hi, I'm Rapport"), bot_id="B0BOT")
    other_bot = dict(slack.dm_event(founder, "beep"), bot_id="B0OTHER", user="U0OTHERBOT")
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "channel": dm_channel(founder),
        "channel_type": "im",
        "ts": SlackUser.new_ts(),
        "message": {"user": founder, "text": "yes, let's go", "ts": "1.0"},
    }
    join = {
        "type": "message",
        "subtype": "channel_join",
        "channel": SPRING,
        "channel_type": "channel",
        "user": founder,
        "text": f"<@{founder}> has joined the channel",
        "ts": SlackUser.new_ts(),
    }
    for event in (own, other_bot, edit, join):
        assert slack.send_event(event).status == 200
    dm(slack, fake, founder, "what can you do?")  # to wait on
    assert len(fake.thread(dm_channel(founder), None)) == count + 1
    assert posts_only(fake, fake.calls_since(mark)) == ["chat.postMessage"]
    assert tracker_texts(coach, f"slack:{TEAM}:{founder}") == ["hi", "what can you do?"]


# --- 7, 8: signatures ---------------------------------------------------------------------------


def test_forged_stale_and_unsigned_requests_get_401_and_trigger_nothing(coach, slack, fake):
    mark = fake.mark()
    event = {
        "type": "event_callback",
        "team_id": TEAM,
        "event_id": "EvFORGED",
        "event": SlackUser.dm_event("U0EVE", "hi"),
    }
    body = json.dumps(event).encode()
    forged = sign(body, secret="not-the-secret")
    stale = sign(body, timestamp=int(time.time()) - 6 * 60)
    tampered = sign(body)
    cases = {
        "forged": (body, forged),
        "stale": (body, stale),
        "tampered body": (body.replace(b"hi", b"yo"), tampered),
        "no headers": (body, {}),
        "no signature": (body, {"X-Slack-Request-Timestamp": str(int(time.time()))}),
        "bad timestamp": (body, {**tampered, "X-Slack-Request-Timestamp": "soon"}),
    }
    for name, (payload, headers) in cases.items():
        reply = slack.post(payload, "application/json", headers=headers, signed=False)
        assert reply.status == 401, name
    command = b"command=%2Fcanvas&text=&user_id=U0EVE&team_id=" + TEAM.encode()
    assert (
        slack.post(command, "application/x-www-form-urlencoded", sign(command, secret="x"), signed=False).status == 401
    )
    assert not fake.calls_since(mark), "no Web API call"
    # The same event, signed, goes through: the 401s were the signature's doing. (Without
    # `authorizations` in the envelope, the app asks auth.test for its own user id.)
    assert slack.post(body, "application/json").status == 200
    answered(fake, dm_channel("U0EVE"), None, 0)
    assert tracker_texts(coach, f"slack:{TEAM}:U0EVE") == ["hi"]


def test_url_verification_and_bad_bodies(coach, slack):
    reply = slack.post(json.dumps({"type": "url_verification", "challenge": "3eZbrw1aB"}).encode(), "application/json")
    assert reply.status == 200 and reply.json() == {"challenge": "3eZbrw1aB"}
    assert slack.post(b"{not json", "application/json").status == 400
    assert slack.post(b"neither=this", "application/x-www-form-urlencoded").status == 400
    assert slack.post(b"x" * 1_100_000, "application/json").status == 413


# --- 9: /canvas ---------------------------------------------------------------------------------


def test_canvas_command_for_oneself_a_mentors_founder_and_a_stranger(coach, slack, fake):
    founder = "U0GLOW"
    talk_to_saved_block(slack, fake, founder, "Glowbox Spring")
    # The founder coached in a DM (cohort OPEN); the program puts them in SPRING-25.
    set_cohort(coach, f"slack:{TEAM}:{founder}", "SPRING-25")

    own = slack.command(founder, "")
    assert own.status == 200 and own.json()["response_type"] == "ephemeral"
    assert "Glowbox Spring" in json.dumps(own.json()["blocks"]) and "Big banks" in json.dumps(own.json()["blocks"])
    helped = slack.command(founder, "help").json()
    assert "Customer Relationships" in helped["text"] or "Customer Relationships" in json.dumps(helped["blocks"])

    by_name = slack.command(MENTOR, "glowbox spring").json()
    assert by_name["response_type"] == "ephemeral" and "Big banks" in json.dumps(by_name["blocks"])
    by_mention = slack.command(MENTOR, f"<@{founder}|glow>").json()
    assert "Big banks" in json.dumps(by_mention["blocks"])

    refused = slack.command(STRANGER, "Glowbox Spring").json()
    assert "may only look up your own" in refused["text"] and "Big banks" not in json.dumps(refused["blocks"])
    refused = slack.command(STRANGER, f"<@{founder}|glow>").json()
    assert "Big banks" not in json.dumps(refused["blocks"])
    nothing = slack.command(STRANGER, "").json()
    assert "no saved block yet" in nothing["text"]

    # A mentor of other cohorts does not see it: SPRING-25 and FALL-25 only.
    set_cohort(coach, f"slack:{TEAM}:{founder}", "WINTER-26")
    assert "No founder in your cohorts" in slack.command(MENTOR, "Glowbox Spring").json()["text"]


def test_app_home_on_open_and_the_mentors_founders(coach, slack, fake):
    mark = fake.mark()
    assert (
        slack.send_event({"type": "app_home_opened", "user": MENTOR, "channel": "D0MENTOR", "tab": "home"}).status
        == 200
    )
    publish = fake.wait_for(lambda: fake.calls_since(mark, "views.publish"), "views.publish")[0]
    view = json.dumps(publish.args["view"])
    assert publish.args["user_id"] == MENTOR and "Your founders: SPRING-25" in view and "Start coaching" in view
    # The Home tab's button starts coaching in the DM.
    before = len(fake.thread(dm_channel(MENTOR), None))
    assert slack.home_button(MENTOR, "home-start").status == 200
    assert "Ready?" in answered(fake, dm_channel(MENTOR), None, before)[0].all_text


# --- 12: acknowledged while the action server is slow, a clear message when it is down -------------


def test_the_ack_goes_out_while_the_action_server_is_held_and_a_down_one_gets_a_clear_message(coach, slack, fake):
    founder = "U0SLOW"
    coach.gate.hold()
    try:
        reply = slack.send_event(slack.dm_event(founder, "hi"))  # action_greet: a custom action
        assert reply.status == 200
        coach.gate.wait_until_held()  # the turn is waiting on the action server, the ack is back
        assert not any("Ready?" in m.all_text for m in fake.thread(dm_channel(founder), None))
        # A turn that takes long says so, in the message the answer then replaces.
        [waiting] = fake.wait_for(lambda: fake.thread(dm_channel(founder), None), "the 'one moment' message")
        assert ONE_MOMENT in waiting.text
    finally:
        coach.gate.release()
    [answer] = answered(fake, dm_channel(founder), None, 0)
    assert answer is waiting and "Ready?" in answer.all_text and answer.updates == 1, "updated with chat.update"

    coach.gate.mode = "fail"
    try:
        before = len(fake.thread(dm_channel(founder), None))
        assert slack.send_event(slack.dm_event(founder, "yes, let's go")).status == 200
        assert ACTIONS_UNREACHABLE in answered(fake, dm_channel(founder), None, before)[-1].all_text
    finally:
        coach.gate.mode = "open"
    assert tracker_texts(coach, f"slack:{TEAM}:{founder}")[-1] == "yes, let's go", "what they typed is kept"


# --- 13: Slack's escapes ---------------------------------------------------------------------------


def test_slacks_escapes_are_undone_before_the_nlu(coach, slack, fake):
    founder = "U0AMP"
    dm(slack, fake, founder, "hi")
    dm(slack, fake, founder, "yes, let's go")
    reply = dm(slack, fake, founder, "It's called Salt &amp; Pepper, spices &lt;fresh&gt; for restaurants")
    assert "Salt &amp; Pepper" in reply.all_text, "shown back escaped, as Slack needs"
    assert (
        tracker_texts(coach, f"slack:{TEAM}:{founder}")[-1]
        == "It's called Salt & Pepper, spices <fresh> for restaurants"
    )


# --- 14 (with test_slack_manifest.py): what the app called is in its table of scopes -------------


def test_every_web_api_method_called_in_these_tests_has_its_scope_listed(coach, fake):
    """Runs last: the methods the tests above made the app call."""
    if not fake.calls:
        pytest.skip("run with the tests above")
    log = coach.log("rasa")
    assert "Slack is on" in log and TOKEN not in log and SIGNING_SECRET not in log, "secrets are never logged"
    assert fake.methods_called() <= set(WEB_API_SCOPES)
    assert not fake.errors, "no call the app made was refused"
    assert set(WEB_API_SCOPES) == fake.methods_called(), "the tests made the app call every method it may"


# --- bad input -----------------------------------------------------------------------------------


def test_bad_interactions_and_commands_get_a_clear_answer_and_trigger_nothing(coach, slack, fake):
    founder, other = "U0BAD", "U0NOSY"
    ask = dm(slack, fake, founder, "please delete my data")
    assert "Yes, delete everything" in [b["text"]["text"] for b in ask.buttons]
    mark = fake.mark()
    form = "application/x-www-form-urlencoded"
    for body in (
        b"payload=%7Bnot+json",
        b"payload=%5B%5D",
        b'payload={"type":"block_actions"}',
        b'payload={"type":"view_submission","user":{"id":"U1"}}',
    ):
        assert slack.post(body, form).status == 200
    # Someone else's click on a DM's buttons (a forged container) is not theirs to make.
    nosy = Message(ask.channel, ask.ts, None, ask.text, blocks=ask.blocks)
    payload_reply = slack.click(nosy, "Yes, delete everything", other)
    assert payload_reply.status == 200
    # A button of ours whose block names no conversation, and an unknown action.
    broken = Message(
        ask.channel,
        ask.ts,
        None,
        ask.text,
        blocks=[dict(b, block_id="rapport-choices|not-a-key|0") for b in ask.blocks if b["type"] == "actions"],
    )
    assert slack.click(broken, "Yes, delete everything", founder).status == 200
    unknown = slack.command(founder, "", command="/nonsense").json()
    assert unknown["response_type"] == "ephemeral" and "Unknown command" in unknown["text"]
    # The founder's own click still counts, and it alone was answered.
    assert "nothing was deleted" in click_and_wait(slack, fake, ask, "No, keep it", founder).all_text
    assert sorted(posts_only(fake, fake.calls_since(mark))) == ["(response_url)", "chat.postMessage"]
    assert tracker_texts(coach, f"slack:{TEAM}:{founder}")[-1] == "/deny"


def test_canvas_says_the_store_is_busy_when_it_is_locked(coach, slack):
    with sqlite_locked(coach.canvas_db):
        answer = slack.command("U0LOCK", "").json()
        assert answer["response_type"] == "ephemeral" and "busy" in answer["text"]
    assert "no saved block yet" in slack.command("U0LOCK", "").json()["text"]
