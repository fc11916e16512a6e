"""Rasa test stories from real conversations: what scripts/record_test_stories.py
records, and what the review dashboard's "Save as test" writes (under
tests/stories/test_*.yml, checked by the same `rasa test --e2e` run as the recorded
ones: --e2e makes Rasa read the founder's words through the NLU, and reads only test_ files).

    python -m bot.plugins.test_stories SENDER_ID OUT.yml [--name NAME]

reads the founder's conversation from the tracker store (TRACKER_DB /
TRACKER_DB_URL), puts in the intents and entities reviewers corrected in the
inbox (REVIEW_DB_URL), and writes it as a test story with the founder's words,
so that `rasa test` checks that the NLU reads each message as corrected and the
coach takes the same steps. The coach's steps after a message it misread were
taken on the misreading, and a Rasa story cannot end on a founder's message (the
test then expects the coach to listen), so the story ends before the first
misread message; once the retrained coach answers it right, save the
conversation it then has (a new one) and the fixed reading is in the test.
The dashboard runs this in a process of its own: the web app never loads Rasa.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter
from rasa.shared.core.training_data.structures import Story

HEADER = (
    '# Saved as a test from the review dashboard ("Save as test" on a transcript), with the\n'
    "# intents reviewers corrected; `rasa test` checks it with the recorded stories.\n"
)


NOTHING_TO_SAVE = 3  # the exit status when there is no story to write


class NothingToSave(Exception):
    pass


class SessionStartStep(ActionExecuted):
    """`- action: action_session_start` in the middle of a story. Rasa's story writer
    leaves that action out (it runs by itself when a conversation begins), but the
    coach's rules start a new session after each segment's interview."""


def story_events(events: List[Event]) -> List[Event]:
    """The conversation with each later session start written as a step, without the
    SessionStarted and the carried slots that follow it: they restate the slots the
    story already set. A session start Rasa ran by itself before a message (a long
    session, bot/plugins/patches/long_sessions.py) is no step of the dialogue: no
    policy predicts it, so it is left out, with what it carried."""
    kept: List[Event] = []
    carrying = False
    for event in events:
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME:
            if any(isinstance(e, UserUttered) for e in kept):
                last = next((e for e in reversed(kept) if isinstance(e, ActionExecuted)), None)
                if last is None or last.action_name != ACTION_LISTEN_NAME:
                    kept.append(SessionStartStep(ACTION_SESSION_START_NAME))
                carrying = True
                continue
        if carrying:
            carrying = not (isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME)
            continue
        kept.append(event)
    return kept


def corrected_events(
    rows: Sequence[Tuple[int, Dict[str, Any]]],
    corrections: Dict[int, Tuple[Optional[str], List[Dict[str, Any]]]],
) -> List[Event]:
    """Tracker rows (event id, event data) as Rasa events, with the corrected intents
    and entities; cut before the first message whose intent was corrected to another."""
    events: List[Event] = []
    for event_id, data in rows:
        event = Event.from_parameters(data)
        if event is None:
            continue
        correction = corrections.get(event_id)
        if isinstance(event, UserUttered) and correction and correction[0]:
            intent, entities = correction
            if event.intent_name != intent:
                break
            marked = [{k: e[k] for k in ("entity", "value", "start", "end")} for e in entities]
            event = UserUttered(
                event.text,
                {"name": intent, "confidence": 1.0},
                marked if entities else event.entities,  # the reviewer's marks, else what was extracted
                timestamp=event.timestamp,
                input_channel=event.input_channel,
            )
            events.append(event)
            continue
        events.append(event)
    return events


def story_yaml(events: List[Event], name: str) -> str:
    steps = Story.from_events(story_events(events), name).story_steps
    for step in steps:
        step.block_name = name
    return YAMLStoryWriter().dumps(steps, is_test_story=True)


def save(sender_id: str, out: Path, name: Optional[str] = None) -> Path:
    import json

    from bot.review import inbox
    from bot.review.db import ReviewDB
    from bot.review.read_model import after_last_restart
    from bot.review.tracker import TrackerEvents

    tracker, db = TrackerEvents(), ReviewDB()
    try:
        rows = after_last_restart(tracker.events_of(sender_id))
        if not rows:
            raise SystemExit(f"no conversation of {sender_id} in the tracker store")
        corrections = inbox.corrections_of(db, sender_id)
    finally:
        tracker.close()
        db.close()
    parsed = [(row[0], json.loads(row[6]) if isinstance(row[6], (str, bytes)) else row[6]) for row in rows]
    events = corrected_events(parsed, corrections)
    if not any(isinstance(e, UserUttered) for e in events):
        raise NothingToSave(
            "the coach misread the founder's first message: there is nothing before it to test yet "
            "(retrain, and save the conversation the coach then has)"
        )
    text = story_yaml(events, name or f"reviewed conversation {sender_id}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(HEADER + text, encoding="utf-8")
    tmp.replace(out)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.plugins.test_stories", description=__doc__.split("\n\n")[0])
    parser.add_argument("sender_id")
    parser.add_argument("out", type=Path)
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)
    try:
        print(f"wrote {save(args.sender_id, args.out, args.name)}")
    except NothingToSave as error:
        print(error)
        return NOTHING_TO_SAVE
    return 0


if __name__ == "__main__":
    sys.exit(main())
