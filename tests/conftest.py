"""Shared test helpers: rasa-sdk trackers built from plain dicts, the domain,
running an action, a real SQLite canvas store per test, the knowledge and broken
copies of it; and the resources the suite shares: one coach (the action server and
the Rasa server) for the plain REST modules, and one Chromium."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.coach.canvas import CanvasBlock, RelationshipChoice, Segment
from bot.coach.knowledge import KNOWLEDGE_DIR, Knowledge, KnowledgeError, load_knowledge
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


def turn_texts(result: Any) -> List[str]:
    """The texts of a coach turn's messages (a TurnResult), in order."""
    return [m.text for m in result.messages]


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


# ---------------------------------------------------------------- the knowledge


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge()


class BrokenCopy:
    """A copy of the knowledge folder, with ways to break one of its files."""

    def __init__(self, folder: Path):
        self.folder = folder

    def edit(self, file: str, old: str, new: str) -> None:
        """Replace text that occurs once: for what only the raw text can show (YAML syntax, duplicates)."""
        path = self.folder / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"test setup: {old!r} must occur once in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def change(self, file: str, mutate: Callable[[Any], None]) -> None:
        """Change the parsed data and write it back."""
        path = self.folder / file
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        mutate(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")

    def error(self) -> str:
        with pytest.raises(KnowledgeError) as caught:
            load_knowledge(self.folder)
        return str(caught.value)


@pytest.fixture
def broken(tmp_path: Path) -> BrokenCopy:
    return BrokenCopy(Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")))


# ---------------------------------------------------------------- talking to a running coach


def rows(db: Path, sql: str, *args: Any) -> List[tuple]:
    """An SQLite query's rows (a store of a running coach, read as its owner would)."""
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, args).fetchall()


def texts(replies: List[Dict[str, Any]]) -> str:
    """All reply texts of one REST turn, joined, for assertions."""
    return "\n".join(r.get("text") or "" for r in replies)


def buttons(replies: List[Dict[str, Any]]) -> List[str]:
    return [b["title"] for r in replies for b in r.get("buttons") or []]


# A whole conversation to a saved block, typed as a founder would (buttons as their payloads).
SAVE_A_BLOCK = [
    "hi",
    "yes, let's go",
    "It's called Brewbox, we deliver fresh coffee beans to offices",
    "about 20 big banks at 200k a year, they renew every year",
    "yes",  # banks: businesses (B2B), heard in passing and confirmed
    "yes",  # the numbers heard in passing, confirmed ("You mentioned about 20 customers ...")
    "yes",  # how often they buy, confirmed
    '/inform{"support_level": "expert"}',
    '/inform{"community_role": "neither"}',
    "face to face meetings, email and phone",
    '/inform{"goal": "keep"}',
    "no, that's all",
    "looks good",
    "yes, save it",
]


def save_a_block(servers: Any, sender: str, metadata: Optional[Dict[str, Any]] = None) -> None:
    """SAVE_A_BLOCK over REST (a CoachServers), checking the coach follows it to the end."""
    replies = [texts(servers.say(sender, text, metadata)) for text in SAVE_A_BLOCK]
    assert "Ready?" in replies[0] and "First segment" in replies[2], replies[:3]
    assert "Saved as version" in replies[-1], replies[-1]


# ---------------------------------------------------------------- what the suite shares

# One coach for the modules that need the plain servers (each test with its own
# sender ids, and reading the stores by sender), and one Chromium for the browser
# tests: each starts at its first user, and stops after its last one, so it is not
# running beside the rest of the suite. Modules that use them run together.
#
# `make test` spreads the test files over worker processes (pytest-xdist, --dist
# loadgroup): each file is one unit of work, run whole by one worker, so its module
# fixtures (its own servers) start once. The files that share the coach (and the
# remote-actions coach) are one unit, so it too starts once; so are the files that
# use Chromium. Long units go first so the workers end together.
_SHARED_CLOSERS: Dict[str, Callable[[], None]] = {}
_LAST_USER: Dict[str, pytest.Item] = {}  # a shared resource's name: the last test using it
SHARED_SERVERS = ("coach", "remote_coach")  # one unit of work for all their files
# The files that take longest (minutes: servers of their own, a retrain, the scaled
# set-up), longest first, so that no worker starts one of them near the end. A file
# not listed runs after them; the list only orders, it never selects.
LONG_FILES = (
    "browser",  # the files that use Chromium, together
    "coach",  # the files on the shared coach, together
    "test_run_scaled",
    "test_scaleout_faults",
    "test_attacks",
    "test_rest_single_server",
    "test_nlu_accuracy",
    "test_rasa_data",
    "test_heldout_disjoint",
    "test_slack_app",
)


def pytest_configure(config: pytest.Config) -> None:
    """In a worker of `pytest -n N`: its own lane of free ports (deploy.launchers.free_port),
    so that two workers starting servers at once never pick the same port."""
    worker = getattr(config, "workerinput", None)
    if worker:
        os.environ["FREE_PORT_LANE"] = f"{int(worker['workerid'].removeprefix('gw'))}/{worker['workercount']}"


def _uses(item: pytest.Item, name: str) -> bool:
    """Whether the test takes this file's shared `name`, directly or through another
    fixture (a module's own fixture of that name shadows it)."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).get(name)
    return bool(definitions) and definitions[-1].func.__module__ == __name__


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the xdist_group marks
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: List[pytest.Item]) -> None:
    shared = ("coach", "remote_coach", "browser")
    modules_using = {name: {item.module for item in items if _uses(item, name)} for name in shared}
    on_shared_servers = modules_using["coach"] | modules_using["remote_coach"]
    # Playwright's sync API runs an event loop in the worker's thread while Chromium is
    # open, and asyncio.run() fails beside it: the browser's files are one unit too, so
    # that a worker closes Chromium after the last of them, before it runs other files.
    on_browser = modules_using["browser"]
    if on_browser & on_shared_servers:
        on_shared_servers = on_shared_servers | on_browser

    def unit(item: pytest.Item) -> str:
        if item.module in on_shared_servers:
            return "coach"
        return "browser" if item.module in on_browser else Path(item.nodeid.split("::")[0]).stem

    def rank(item: pytest.Item) -> int:
        name = unit(item)
        return LONG_FILES.index(name) if name in LONG_FILES else len(LONG_FILES)

    def group(item: pytest.Item) -> int:
        module = getattr(item, "module", None)
        if module in modules_using["coach"]:
            return 1 if module in modules_using["remote_coach"] else 0
        return 2 if module in modules_using["remote_coach"] else 4 if module in modules_using["browser"] else 3

    # Stable: within a unit the files keep their order, the coach's users before the
    # remote coach's (it starts at the file that uses both, the coach stops after it).
    items.sort(key=lambda item: (rank(item), group(item)))
    for item in items:
        item.add_marker(pytest.mark.xdist_group(unit(item)))
        for name in shared:
            if _uses(item, name):
                _LAST_USER[name] = item


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Optional[pytest.Item]) -> Iterator[None]:
    yield
    for name, last in _LAST_USER.items():
        if item is last and name in _SHARED_CLOSERS:
            _SHARED_CLOSERS.pop(name)()


@pytest.fixture(scope="session")
def coach(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Rasa server as `make run` starts it (the custom actions inside it), for the whole run."""
    from deploy.launchers import CoachServers

    servers = CoachServers(tmp_path_factory.mktemp("coach"))
    _SHARED_CLOSERS["coach"] = servers.stop
    try:
        servers.start_rasa()
        yield servers
    finally:
        _SHARED_CLOSERS.pop("coach", servers.stop)()


@pytest.fixture(scope="session")
def remote_coach(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Rasa server with a separate action server (ACTIONS_URL, with ACTIONS_TOKEN), as
    the scaled set-up runs them, for the modules that test that mode."""
    from deploy.launchers import CoachServers

    servers = CoachServers(tmp_path_factory.mktemp("remote-actions"), remote_actions=True)
    _SHARED_CLOSERS["remote_coach"] = servers.stop
    try:
        servers.start_actions()
        servers.start_rasa()
        yield servers
    finally:
        _SHARED_CLOSERS.pop("remote_coach", servers.stop)()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (tests/web_helpers.py), for every browser test."""
    from playwright.sync_api import sync_playwright

    from tests.web_helpers import launch_chromium

    playwright = sync_playwright().start()

    def close() -> None:
        try:
            chromium.close()
        finally:
            playwright.stop()

    try:
        chromium = launch_chromium(playwright)
    except BaseException:
        playwright.stop()
        raise
    _SHARED_CLOSERS["browser"] = close
    try:
        yield chromium
    finally:
        _SHARED_CLOSERS.pop("browser", lambda: None)()
