"""Rasa tracker events built by hand, in the shapes the running bot writes
(checked against real events of the coach), for the review dashboard's tests
and its benchmark: a tracker `events` table, and conversations to put in it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

# Rasa 3.6's SQLTrackerStore table, as it creates it.
EVENTS_TABLE = """CREATE TABLE IF NOT EXISTS events (
    id INTEGER NOT NULL, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT,
    intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT, PRIMARY KEY (id));
CREATE INDEX IF NOT EXISTS ix_events_sender_id ON events (sender_id);"""
Row = tuple  # (sender_id, type_name, timestamp, intent_name, action_name, data)


def create_tracker(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(EVENTS_TABLE)


def insert(path: Path, rows: Sequence[Row]) -> None:
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )


def user(
    sender: str,
    ts: float,
    text: str,
    intent: str = "inform",
    confidence: float = 0.98,
    cohort: Optional[str] = None,
    channel: str = "rest",
) -> Row:
    metadata = {"cohort": cohort} if cohort else {}
    data = {
        "event": "user",
        "timestamp": ts,
        "metadata": dict(metadata, model_id="m"),
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": text,
            "metadata": metadata,
        },
        "input_channel": channel,
    }
    return (sender, "user", ts, intent, None, json.dumps(data))


def bot(sender: str, ts: float, text: str, advice: Optional[Dict[str, Any]] = None, buttons: Sequence[str] = ()) -> Row:
    metadata: Dict[str, Any] = {"model_id": "m"}
    if advice:
        metadata["advice"] = advice
    data = {
        "event": "bot",
        "timestamp": ts,
        "metadata": metadata,
        "text": text,
        "data": {"buttons": [{"title": b, "payload": "/affirm"} for b in buttons] or None},
    }
    return (sender, "bot", ts, None, None, json.dumps(data))


def action(sender: str, ts: float, name: str) -> Row:
    return (sender, "action", ts, None, name, json.dumps({"event": "action", "timestamp": ts, "name": name}))


def slot(sender: str, ts: float, name: str, value: Any) -> Row:
    return (
        sender,
        "slot",
        ts,
        None,
        name,
        json.dumps({"event": "slot", "timestamp": ts, "name": name, "value": value}),
    )


def restart(sender: str, ts: float) -> Row:
    return (sender, "restart", ts, None, None, json.dumps({"event": "restart", "timestamp": ts}))


def advice(segment_name: str = "Big banks") -> Dict[str, Any]:
    """metadata["advice"] of a bot message with recommendations (the issue-10 contract)."""
    return {
        "segment_index": 0,
        "segment_name": segment_name,
        "profile": {"market": "b2b", "customer_count": 20},
        "recommendations": [
            {
                "type_id": "dedicated_personal_assistance",
                "name": "Dedicated personal assistance",
                "score": 10.5,
                "reasons": ["Few, high-value accounts justify a named person."],
                "rules": [
                    {
                        "id": "few_high_value_accounts",
                        "because": "Few, high-value accounts justify a named person.",
                        "weight": 3.0,
                    }
                ],
            }
        ],
        "missing": [],
    }


def segments_value(
    name: str = "Big banks",
    market: str = "b2b",
    count: int = 20,
    types: Sequence[str] = ("dedicated_personal_assistance", "advisory"),
) -> List[Dict[str, Any]]:
    return [
        {
            "profile": {"name": name, "market": market, "customer_count": count},
            "choices": [
                {
                    "type_id": t,
                    "name": t.replace("_", " ").capitalize(),
                    "reasons": [],
                    "origin": "accepted",
                    "score": 1.0,
                }
                for t in types
            ],
        }
    ]


def conversation(
    sender: str,
    start: float,
    cohort: str,
    turns: int = 6,
    saved: bool = False,
    fallback: bool = False,
    venture: str = "Brewbox",
    channel: str = "rest",
    first_text: str = "hi",
) -> List[Row]:
    """A founder's conversation: greeting, venture, a segment, recommendations
    and, if saved, the confirmation; `turns` founder messages in all (at least 4),
    about 10 events per turn like the real coach."""
    rows: List[Row] = [
        action(sender, start, "action_session_start"),
        slot(sender, start, "session_started_metadata", {"cohort": cohort}),
        action(sender, start, "action_listen"),
    ]
    ts = start
    questions = [
        "venture_name",
        "segment_who",
        "segment_scale",
        "segment_support",
        "segment_community",
        "segment_touchpoints",
        "segment_goal",
    ]
    for turn in range(turns):
        ts += 20
        text = (
            first_text
            if turn == 0
            else ("qwerty zxcv" if fallback and turn == 1 else f"we serve {venture} customers number {turn}")
        )
        intent, confidence = ("nlu_fallback", 0.4) if fallback and turn == 1 else ("inform", 0.95)
        rows.append(user(sender, ts, text, intent, confidence, cohort, channel))
        rows.append((sender, "user_featurization", ts, None, None, "{}"))
        if turn == 1:
            rows.append(slot(sender, ts, "venture_name", venture))
            rows.append(slot(sender, ts, "stage", "segments"))
        if turn == turns - 3:
            rows.append(action(sender, ts, "action_save_segment"))
            rows.append(slot(sender, ts, "segments", segments_value()))
            rows.append(slot(sender, ts, "stage", "more_segments"))
        elif turn == turns - 2:
            rows.append(action(sender, ts, "action_recommend"))
            rows.append(
                bot(sender, ts, "**Segment 1: Big banks**\n1. **Dedicated personal assistance**", advice=advice())
            )
            rows.append(slot(sender, ts, "stage", "review"))
        elif turn == turns - 1 and saved:
            rows.append(action(sender, ts, "action_save_block"))
            rows.append(slot(sender, ts, "stage", "saved"))
            rows.append(bot(sender, ts, f"# Customer Relationships: {venture}\nSaved as version 1"))
        else:
            question = questions[turn % len(questions)]
            rows.append(action(sender, ts, "segment_form"))
            rows.append(slot(sender, ts, "requested_slot", question))
            rows.append(bot(sender, ts, f"Tell me about {question.replace('_', ' ')}", buttons=["Yes", "No"]))
        rows.append(action(sender, ts, "action_listen"))
    return rows
