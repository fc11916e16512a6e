"""Shared test helpers: rasa-sdk trackers built from plain dicts, the domain,
running an action, and a real SQLite canvas store per test."""

from __future__ import annotations

import asyncio
import inspect
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.coach.canvas import CanvasBlock, RelationshipChoice, Segment
from bot.coach.profile import SegmentProfile
from bot.coach.store import CanvasStore

ROOT = Path(__file__).resolve().parents[1]
SENDER = "ada"
CHANNEL = "rest"


# ---------------------------------------------------------------- a busy database


@contextmanager
def sqlite_locked(path: Any, mode: str = "EXCLUSIVE") -> Iterator[None]:
    """Another process holds an SQLite database: EXCLUSIVE stops readers and writers,
    IMMEDIATE only writers (reads go on, writes wait and time out), READ is a reader
    in the middle of a read (writers may start, but not commit)."""
    other = sqlite3.connect(str(path), isolation_level=None)
    if mode == "READ":
        other.execute("BEGIN")
        other.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()
    else:
        other.execute(f"BEGIN {mode}")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


# ---------------------------------------------------------------- the domain


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """domain.yml as the action server gets it: a plain dict."""
    with open(ROOT / "domain.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def initial_slots(domain: Dict[str, Any]) -> Dict[str, Any]:
    """Every slot of the domain at its initial value (None unless the domain says)."""
    slots = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
    slots["requested_slot"] = None
    return slots


# ---------------------------------------------------------------- events and trackers


def entity(name: str, value: Any, text: str = "") -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(text), "extractor": "test"}


def parse_data(
    text: str,
    intent: str = "inform",
    entities: Sequence[Dict[str, Any]] = (),
    metadata: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": list(entities),
        "metadata": metadata or {},
    }


def user_event(
    text: str,
    intent: str = "inform",
    entities: Sequence[Dict[str, Any]] = (),
    channel: str = CHANNEL,
    metadata: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """A user message as Rasa sends it to the action server."""
    return {
        "event": "user",
        "timestamp": 1.0,
        "text": text,
        "input_channel": channel,
        "parse_data": parse_data(text, intent, entities, metadata),
        "metadata": metadata or {},
    }


def action_event(name: str) -> Dict[str, Any]:
    return {"event": "action", "timestamp": 1.0, "name": name, "policy": None, "confidence": None}


def slot_event(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "timestamp": 1.0, "name": name, "value": value}


def button(intent: str, **entities: Any) -> str:
    """A button's payload: /inform{"goal": "keep"}."""
    return f"/{intent}" + (json.dumps(entities) if entities else "")


def make_tracker(
    domain: Dict[str, Any],
    text: str = "",
    intent: str = "inform",
    entities: Sequence[Dict[str, Any]] = (),
    slots: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    sender_id: str = SENDER,
    channel: str = CHANNEL,
    latest_action_name: str = "action_listen",
) -> Tracker:
    """A tracker as the action server receives it, from plain dicts.

    events: the conversation so far; by default the greeting and this message.
    They should end with the user message, except for form validation, where
    Rasa appends the slot candidates (see form_tracker)."""
    all_slots = initial_slots(domain)
    all_slots.update(slots or {})
    latest = parse_data(text, intent, entities, metadata)
    if events is None:
        events = [
            action_event("action_session_start"),
            action_event("action_listen"),
            user_event(text, intent, entities, channel, metadata),
        ]
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": all_slots,
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": latest_action_name,
        }
    )


def form_tracker(
    domain: Dict[str, Any],
    form: str,
    requested_slot: str,
    candidates: Dict[str, Any],
    text: str,
    intent: str = "inform",
    entities: Sequence[Dict[str, Any]] = (),
    slots: Optional[Dict[str, Any]] = None,
) -> Tracker:
    """The tracker Rasa sends to validate_<form>: the user message, the form's own
    action, then one SlotSet per slot candidate it extracted (what slots_to_validate reads)."""
    current = {"requested_slot": requested_slot, **(slots or {})}
    events = [
        action_event("action_listen"),
        user_event(text, intent, entities),
        slot_event("requested_slot", requested_slot),
        action_event(form),
        *[slot_event(name, value) for name, value in candidates.items()],
    ]
    return make_tracker(
        domain,
        text,
        intent,
        entities,
        slots={**current, **candidates},
        active_loop=form,
        events=events,
        latest_action_name=form,
    )


# ---------------------------------------------------------------- running an action


@dataclass
class Outcome:
    """What an action did: the dispatcher's messages and the events it returned."""

    messages: List[Dict[str, Any]]
    events: List[Dict[str, Any]]
    texts: List[str] = field(init=False)

    def __post_init__(self) -> None:
        self.texts = [m.get("text") or "" for m in self.messages]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def buttons(self) -> List[Dict[str, str]]:
        return [b for m in self.messages for b in m.get("buttons") or []]

    @property
    def payloads(self) -> List[str]:
        return [b["payload"] for b in self.buttons]

    @property
    def slots(self) -> Dict[str, Any]:
        """Slot name -> the last value the action set it to."""
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    @property
    def active_loops(self) -> List[Optional[str]]:
        return [e["name"] for e in self.events if e.get("event") == "active_loop"]


def run_action(action: Any, tracker: Tracker, domain: Dict[str, Any]) -> Outcome:
    """Runs a rasa-sdk action whether its run() is a coroutine (FormValidationAction) or not."""
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker, domain)
    events = asyncio.run(result) if inspect.isawaitable(result) else result
    return Outcome(dispatcher.messages, list(events or []))


# ---------------------------------------------------------------- the canvas store


@pytest.fixture
def canvas_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh SQLite canvas database for this test, as the actions' store."""
    from actions import common

    store = common.store  # the lru_cached factory, even if a test patches it
    url = f"sqlite:///{tmp_path / 'canvas.db'}"
    monkeypatch.setenv("CANVAS_DB_URL", url)
    store.cache_clear()
    yield url
    if store.cache_info().currsize:
        store().close()
    store.cache_clear()


@pytest.fixture
def canvas(canvas_url: str):
    """A second handle on the test's canvas database, to look at what the actions wrote."""
    with CanvasStore(canvas_url) as store:
        yield store


# ---------------------------------------------------------------- sample data


def answer_meanings(slot: str) -> Dict[str, Dict[str, Any]]:
    """What each answer to a closed question means for the profile (interview.yml)."""
    from bot.coach.knowledge import load_knowledge

    return {value: answer.means for value, answer in load_knowledge().interview.segment[slot].answers.items()}


def choice(type_id: str, name: Optional[str] = None, origin: str = "accepted") -> RelationshipChoice:
    return RelationshipChoice(
        type_id=type_id,
        name=name or type_id.replace("_", " ").capitalize(),
        reasons=[f"Because {type_id} fits."],
        origin=origin,
        score=0.5,
    )


def segment(name: str, *types: str, **profile: Any) -> Segment:
    return Segment(SegmentProfile(name=name, **profile), [choice(t) for t in types])


def segment_dicts(*segments: Segment) -> List[Dict[str, Any]]:
    """The `segments` slot's value."""
    return [s.to_dict() for s in segments]


def shops() -> Segment:
    return segment(
        "Small shops",
        "self_service",
        "communities",
        market="b2b",
        customer_count=300,
        value_per_customer=2000.0,
        purchase_frequency="recurring",
        touchpoints=["website"],
    )


def banks() -> Segment:
    return segment(
        "Banks",
        "dedicated_personal_assistance",
        "subscription",
        market="b2b",
        customer_count=20,
        value_per_customer=200000.0,
        purchase_frequency="recurring",
        expertise_needed="high",
        personal_touch="high",
        goal="keep",
    )


def block(*segments: Segment, status: str = "draft") -> CanvasBlock:
    return CanvasBlock("Brewbox", "coffee for offices", list(segments), status=status)


def ledgerly_block(
    status="final",
    venture="Ledgerly",
    tweak="",
    version=None,
    created_at=None,
    needs="Invoices out fast, taxes without panic",
    touchpoints=("app", "email"),
) -> CanvasBlock:
    """A two-segment block with every field filled in somewhere, for the store and export tests."""
    return CanvasBlock(
        venture_name=venture,
        venture_offer="Bookkeeping that runs itself" + tweak,
        status=status,
        version=version,
        created_at=created_at,
        segments=[
            Segment(
                profile=SegmentProfile(
                    name="Freelance designers" + tweak,
                    needs=needs,
                    market="b2c",
                    customer_count=12000,
                    value_per_customer=240.5,
                    purchase_frequency="recurring",
                    expertise_needed="low",
                    personal_touch="medium",
                    price_position="budget",
                    members_help_each_other=True,
                    contributes_ideas=False,
                    touchpoints=list(touchpoints),
                    goal="keep",
                ),
                choices=[
                    RelationshipChoice(
                        "self_service", "Self-service", ["They work at 2am", "Low price point"], "accepted", 0.91
                    ),
                    RelationshipChoice("communities", "Communities", ["They help each other"], "added", None),
                ],
            ),
            Segment(
                profile=SegmentProfile(name="Small agencies", market="b2b", customer_count=3_000_000_000),
                choices=[
                    RelationshipChoice("personal_assistance", "Personal assistance", ["Big accounts"], "edited", 0.5)
                ],
            ),
        ],
    )


# ---------------------------------------------------------------- a REST turn's replies


def texts(replies: List[Dict[str, Any]]) -> str:
    """All reply texts of one turn, joined, for assertions."""
    return "\n".join(r.get("text") or "" for r in replies)


def buttons(replies: List[Dict[str, Any]]) -> List[str]:
    return [b["title"] for r in replies for b in r.get("buttons") or []]
