"""The coach's relationship knowledge: load bot/knowledge/*.yml and check it.

The YAML files are the textbook a mentor can read and edit; this module turns
them into plain dataclasses and refuses anything it cannot use. Every problem
(unknown id, typo in a key, value outside the allowed answers, duplicate id or
synonym, YAML syntax error) raises KnowledgeError naming the file and the
entry, so an edit never fails silently.
"""

from __future__ import annotations

import functools
import json
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.coach.phrases import PhraseMatcher, variants
from bot.coach.profile import CHOICES, GOALS, SegmentProfile

KNOWLEDGE_DIR = Path(__file__).resolve().parents[1] / "knowledge"  # bot/knowledge/
_REPO_ROOT = KNOWLEDGE_DIR.parent.parent
# The files the coach reads, in loading order (later ones refer to earlier ones).
# Other *.yml files in the folder belong to other parts of the bot and are left alone.
FILES = (
    "touchpoints",
    "kpis",
    "relationship_types",
    "rules",
    "questions",
    "checks",
    "playbook",
    "answers",
    "interview",
)
# Touchpoints named in passing, while answering another question: without the
# words that name one only as the answer to "where do they meet you?".
IN_PASSING_TOUCHPOINT = "touchpoint_in_passing"

# The closed vocabularies of the knowledge files.
LINKS = ("transactional", "long_term")
INTIMACIES = ("automated", "individual", "collective", "third_party", "self_service", "co_creation")
DIRECTIONS = ("direct", "indirect")
LIFE_CYCLE = GOALS  # acquire, keep, grow: the same stages the founder picks as a goal
COSTS = ("low", "medium", "high")
TOUCHPOINT_KINDS = ("physical", "digital")
TACTIC_STAGES = LIFE_CYCLE

# What kind of answer each profile field holds, and so which operators a rule may use on it.
# name and needs are free text: rules cannot test them.
FIELD_KINDS: Dict[str, str] = {
    **{name: "choice" for name in CHOICES},
    "customer_count": "number",
    "value_per_customer": "number",
    "members_help_each_other": "flag",
    "contributes_ideas": "flag",
    "touchpoints": "touchpoints",
}
OPERATORS: Dict[str, Tuple[str, ...]] = {
    "choice": ("equals", "one_of", "not"),
    "flag": ("equals",),
    "number": ("equals", "at_least", "at_most"),
    "touchpoints": ("contains", "contains_any"),
}
# Warning codes of the block checks (bot/coach/engine.py) and the placeholders each message may use.
CHECK_PLACEHOLDERS: Dict[str, Tuple[str, ...]] = {
    "cost_vs_value": ("segment", "type", "why", "fix"),
    "no_meeting_place": ("segment", "type", "touchpoints", "fix"),
    "no_retention": ("suggestions",),
}
_SOURCE = re.compile(r"^seed \d{3}$")
# How the coach reads the answer to an interview question (bot/coach/interview.py),
# and the profile fields each kind of segment question may fill.
QUESTION_KINDS = ("text", "description", "scale", "touchpoints", "choice")
KIND_FIELDS: Dict[str, Tuple[str, ...]] = {
    "description": ("name", "needs"),
    "scale": ("customer_count", "value_per_customer"),
    "touchpoints": ("touchpoints",),
}
UNKNOWN = "unknown"  # the answer "not sure", to any question
# What an answer mentioned in passing does to its question (interview.yml's in_passing).
IN_PASSING = ("fill", "confirm")
# When a segment question is asked (interview.yml's asked): always, or only to confirm an
# answer heard in passing.
ASKED = ("always", "when_heard")
# texts.yml: what every channel says when something outside the conversation goes wrong.
TEXTS = ("store_busy", "message_not_stored", "actions_unreachable")


class KnowledgeError(Exception):
    """The knowledge files are broken; the message names each file and entry at fault."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --- The knowledge, as the rest of the coach sees it ---


@dataclass
class Example:
    case: str  # a company or a situation from the seeds
    what: str  # what they do, in one line
    sources: List[str]


@dataclass
class RelationshipType:
    id: str
    name: str
    synonyms: List[str]
    definition: str
    link: str
    intimacy: str
    direction: str
    life_cycle: List[str]  # the stages it mainly serves; "keep" makes it a retention type
    cost_to_serve: str
    touchpoints: List[str]
    kpis: List[str]
    examples: List[Example]
    tactics: Dict[str, List[str]]  # acquire / keep / grow
    cost_caveat: str
    sources: List[str]

    @property
    def retains(self) -> bool:
        return "keep" in self.life_cycle


@dataclass
class Touchpoint:
    id: str
    label: str
    kind: str
    synonyms: List[str]
    meeting_place: bool
    sources: List[str]
    # Words that name a touchpoint only when they answer "where do they meet you?":
    # in "we sell to bike shops", a shop is the customer, not the place.
    answer_only: List[str] = field(default_factory=list)


@dataclass
class Kpi:
    id: str
    name: str
    synonyms: List[str]
    definition: str
    how_to_compute: str
    sources: List[str]


@dataclass
class Condition:
    field: str
    op: str
    value: Any

    def holds(self, profile: SegmentProfile) -> bool:
        actual = getattr(profile, self.field)
        if actual is None or actual == []:
            return False  # an unknown answer satisfies nothing
        if self.op == "equals":
            return actual == self.value
        if self.op == "one_of":
            return actual in self.value
        if self.op == "not":
            return actual != self.value
        if self.op == "at_least":
            return actual >= self.value
        if self.op == "at_most":
            return actual <= self.value
        if self.op == "contains":
            return self.value in actual
        if self.op == "contains_any":
            return any(v in actual for v in self.value)
        raise ValueError(f"unknown operator {self.op!r}")  # the loader lets none through


def all_hold(conditions: Iterable[Condition], profile: SegmentProfile) -> bool:
    return all(c.holds(profile) for c in conditions)


@dataclass
class Rule:
    id: str
    when: List[Condition]
    then: Dict[str, float]  # type id -> weight
    exclude: List[str]  # type ids never offered when the rule fires
    because: str
    sources: List[str]

    def fires(self, profile: SegmentProfile) -> bool:
        return all_hold(self.when, profile)


@dataclass
class Question:
    field: str
    question: str
    why: str
    probes: List[Any]  # the answers the engine tries when this one is missing
    sources: List[str]


@dataclass
class BlockChecks:
    costs: List[str]  # cost_to_serve levels that a low-value segment cannot carry
    cannot_carry: List[Tuple[str, List[Condition]]]  # (why, conditions)
    cost_message: str
    cost_fix: str  # one sentence: how to keep such a type when the segment cannot carry its cost
    meeting_types: List[str]  # types that need a meeting place
    meeting_message: str
    meeting_fix: str  # one sentence: how to give them a place to meet
    retention_suggestions: List[str]
    retention_message: str
    # check code -> the weight of a type's own rule from which a failing type keeps its
    # rank (None: a failing type is always demoted)
    keeps_rank_at: Dict[str, Optional[float]] = field(default_factory=dict)
    meeting_fix_touchpoints: List[str] = field(default_factory=list)  # offered with the meeting fix


@dataclass
class InterviewAnswer:
    value: str  # the canonical value: the slot's value, the NLU entity's value
    button: str  # the button's title
    means: Dict[str, Any]  # the profile facts this answer gives
    label: str = ""  # how the Markdown export words it
    combines: List[str] = field(default_factory=list)  # answers that, said together, mean this one


@dataclass
class InterviewQuestion:
    slot: str  # the Rasa slot that holds the answer
    kind: str  # how the answer is read: one of QUESTION_KINDS
    ask: str
    why: str
    ask_again: str
    fills: Tuple[str, ...] = ()  # the profile fields the answer fills
    entity: Optional[str] = None  # the NLU entity (and button payload) that answers it
    answers: Dict[str, InterviewAnswer] = field(default_factory=dict)  # choice questions
    not_sure: str = ""  # the title of the "not sure" button
    off_topic: str = ""
    export_label: str = ""
    label: str = ""  # the question in a coordinator's words (the review dashboard)
    in_passing: str = "fill"  # fill | confirm: see interview.yml
    confirm: str = ""  # the question as asked to confirm an answer heard in passing ({heard})
    asked: str = "always"  # always | when_heard: see interview.yml

    def buttons(self) -> List[Dict[str, str]]:
        """The question's buttons, with the payloads Rasa sends back when a founder taps one."""

        def inform(value: str) -> str:
            return "/inform" + json.dumps({self.entity: value})

        buttons = [{"title": a.button, "payload": inform(a.value)} for a in self.answers.values()]
        if self.not_sure:
            buttons.append({"title": self.not_sure, "payload": inform(UNKNOWN) if self.answers else "not sure"})
        return buttons

    def answer_for(self, facts: Dict[str, Any]) -> Optional[InterviewAnswer]:
        """The answer whose meaning the facts state exactly, if any."""
        return next(
            (a for a in self.answers.values() if all(k in facts and facts[k] == v for k, v in a.means.items())), None
        )


@dataclass
class Interview:
    venture: Dict[str, InterviewQuestion]  # by slot, in the order the coach asks
    segment: Dict[str, InterviewQuestion]
    stages: Dict[str, str] = field(default_factory=dict)  # the conversation's stages, in order: name -> label
    # intent -> the words its small talk is made of (interview.yml's small_talk)
    small_talk: Dict[str, FrozenSet[str]] = field(default_factory=dict)

    def label(self, slot_or_stage: Optional[str]) -> str:
        """Where a conversation waits, in a coordinator's words: a question's label, or a
        stage's (no stage yet: the first stage's)."""
        question = self.question(slot_or_stage)
        if question is not None:
            return question.label
        if slot_or_stage is None and self.stages:
            return next(iter(self.stages.values()))
        return self.stages.get(slot_or_stage or "") or (slot_or_stage or "").replace("_", " ").capitalize()

    @property
    def segment_slots(self) -> Tuple[str, ...]:
        return tuple(self.segment)

    def question(self, slot: Optional[str]) -> Optional[InterviewQuestion]:
        return self.segment.get(slot or "") or self.venture.get(slot or "")

    def by_entity(self, entity: str) -> Optional[InterviewQuestion]:
        return next((q for q in self.segment.values() if q.entity == entity and q.answers), None)


@dataclass
class Knowledge:
    directory: Path
    types: Dict[str, RelationshipType]  # in file order: the tie-break order
    touchpoints: Dict[str, Touchpoint]
    kpis: Dict[str, Kpi]
    rules: List[Rule]
    questions: Dict[str, Question]  # by profile field, in file order
    checks: BlockChecks
    playbook: Dict[str, Any]  # sections of playbook.yml, as written
    interview: Interview  # interview.yml: the questions the coach asks
    # NLU entity -> the phrases that name its values: relationship types, touchpoints
    # (and IN_PASSING_TOUCHPOINT), and the closed answers of answers.yml.
    vocabulary: Dict[str, PhraseMatcher] = field(repr=False)

    def type_name(self, type_id: str) -> str:
        return self.types[type_id].name

    def touchpoint_label(self, touchpoint_id: str) -> str:
        return self.touchpoints[touchpoint_id].label

    def kpi_name(self, kpi_id: str) -> str:
        return self.kpis[kpi_id].name


# --- Loading ---


@functools.lru_cache(maxsize=None)
def load_texts(directory: Optional[Path] = None) -> Dict[str, str]:
    """texts.yml: each of TEXTS, a non-empty string (KnowledgeError otherwise). Light:
    a channel reads it without loading the rest of the knowledge."""
    path = (directory or KNOWLEDGE_DIR) / "texts.yml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise KnowledgeError([f"{_shown(path)}: cannot be read ({error})"]) from None
    problems = []
    if not isinstance(raw, dict):
        raise KnowledgeError([f"{_shown(path)}: must map each text's name to the text"])
    for name in raw:
        if name not in TEXTS:
            problems.append(f"{_shown(path)}: unknown text '{name}' (use {', '.join(TEXTS)})")
    for name in TEXTS:
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            problems.append(f"{_shown(path)}: '{name}' must be a non-empty text")
    if problems:
        raise KnowledgeError(problems)
    return {name: raw[name].strip() for name in TEXTS}


def load_knowledge(directory: Optional[Path] = None) -> Knowledge:
    """Load and check the knowledge files; the default folder is loaded once and cached."""
    if directory is None:
        return _load_default()
    return _load(Path(directory))


@functools.lru_cache(maxsize=1)
def _load_default() -> Knowledge:
    return _load(KNOWLEDGE_DIR)


def _load(directory: Path) -> Knowledge:
    raw = {name: _read_yaml(directory / f"{name}.yml") for name in FILES}
    problems: List[str] = []
    shown = {name: _shown(directory / f"{name}.yml") for name in FILES}

    touchpoints = {
        tid: _touchpoint(_Entry(problems, f"{shown['touchpoints']}: touchpoint '{tid}'", data), tid)
        for tid, data in raw["touchpoints"].items()
    }
    kpis = {
        kid: _kpi(_Entry(problems, f"{shown['kpis']}: kpi '{kid}'", data), kid) for kid, data in raw["kpis"].items()
    }
    types = {
        tid: _type(_Entry(problems, f"{shown['relationship_types']}: type '{tid}'", data), tid, touchpoints, kpis)
        for tid, data in raw["relationship_types"].items()
    }
    rules = [
        _rule(_Entry(problems, f"{shown['rules']}: rule '{rid}'", data), rid, types, touchpoints)
        for rid, data in raw["rules"].items()
    ]
    questions = _questions(problems, shown["questions"], raw["questions"], touchpoints)
    checks = _checks(problems, shown["checks"], raw["checks"], types, touchpoints)
    playbook = _playbook(problems, shown["playbook"], raw["playbook"])
    answer_words = _answer_words(problems, shown["answers"], raw["answers"])
    interview = _interview(problems, shown["interview"], raw["interview"], touchpoints, answer_words, shown["answers"])
    _decisive_facts_are_confirmed(problems, shown["interview"], interview, rules, checks)

    vocabulary = {
        "relationship_type": _matcher(
            problems, shown["relationship_types"], "type", {t.id: [t.name, *t.synonyms] for t in types.values()}
        ),
        "touchpoint": _matcher(
            problems,
            shown["touchpoints"],
            "touchpoint",
            {t.id: [t.label, *t.synonyms, *t.answer_only] for t in touchpoints.values()},
        ),
        IN_PASSING_TOUCHPOINT: _matcher(
            [], shown["touchpoints"], "touchpoint", {t.id: [t.label, *t.synonyms] for t in touchpoints.values()}
        ),
        **{
            entity: _matcher(problems, shown["answers"], f"'{entity}' answer", values, with_ids=False)
            for entity, values in answer_words.items()
        },
    }
    _matcher(problems, shown["kpis"], "kpi", {k.id: [k.name, *k.synonyms] for k in kpis.values()})  # no synonym twice
    if problems:
        raise KnowledgeError(problems)
    return Knowledge(directory, types, touchpoints, kpis, rules, questions, checks, playbook, interview, vocabulary)


def _shown(path: Path) -> str:
    """The path as a founder's mentor would recognise it: relative to the repo when inside it."""
    try:
        return str(path.resolve().relative_to(_REPO_ROOT))
    except ValueError:
        return str(path)


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when installed
    """A YAML loader that refuses a key written twice (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        first_line: Dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise _DuplicateKey(f"duplicate id or key '{key}' (line {line}, first at line {first_line[key]})")
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(yaml.YAMLError):
    pass


def _read_yaml(path: Path) -> Dict[str, Any]:
    shown = _shown(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f, Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise KnowledgeError([f"{shown}: file is missing"]) from None
    except _DuplicateKey as err:
        raise KnowledgeError([f"{shown}: {err}"]) from None
    except yaml.YAMLError as err:
        mark, context = getattr(err, "problem_mark", None), getattr(err, "context_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        if context and getattr(err, "context", None):
            problem += f" ({err.context} at line {context.line + 1})"
        raise KnowledgeError([f"{shown}: invalid YAML{where}: {problem}"]) from None
    if not isinstance(data, dict) or not data:
        raise KnowledgeError([f"{shown}: must be a non-empty mapping of ids to entries"])
    return data


class _Entry:
    """One entry of a knowledge file: typed reads that record a problem instead of failing late."""

    def __init__(self, problems: List[str], where: str, data: Any):
        self.problems = problems
        self.where = where
        self.data = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            self.fail("must be a mapping of keys to values")

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.where}: {message}")

    def only(self, *keys: str) -> None:
        for key in self.data:
            if key not in keys:
                self.fail(f"unknown key '{key}' (expected {', '.join(keys)})")

    def get(self, key: str, required: bool = True) -> Any:
        value = self.data.get(key)
        if value is None or value == "" or value == []:
            if required:
                self.fail(f"missing '{key}'")
            return None
        return value

    def text(self, key: str, required: bool = True) -> str:
        value = self.get(key, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(f"'{key}' must be text, not {value!r}")
            return ""
        return " ".join(value.split())  # folded YAML blocks leave newlines behind

    def texts(self, key: str, allowed: Any = None, what: str = "", required: bool = True) -> List[str]:
        value = self.get(key, required)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"'{key}' must be a list of texts")
            return []
        for v in value:
            if allowed is not None and v not in allowed:
                self.fail(f"unknown {what or key} '{v}'")
        for v in sorted({v for v in value if value.count(v) > 1}):
            self.fail(f"'{key}' lists '{v}' twice")
        return [" ".join(v.split()) for v in value]

    def choice(self, key: str, allowed: Sequence[str]) -> str:
        value = self.get(key)
        if value is not None and value not in allowed:
            self.fail(f"'{key}' is {value!r}; allowed: {', '.join(allowed)}")
            return ""
        return value or ""

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            self.fail(f"'{key}' must be true or false, not {value!r}")
            return False
        return value

    def sources(self) -> List[str]:
        found = self.texts("sources")
        for s in found:
            if not _SOURCE.match(s):
                self.fail(f"source '{s}' must look like 'seed 003'")
        return found

    def child(self, key: str, label: str = "") -> "_Entry":
        return _Entry(self.problems, f"{self.where}: {label or key}", self.data.get(key))


def _touchpoint(e: _Entry, tid: str) -> Touchpoint:
    e.only("label", "kind", "meeting_place", "synonyms", "answer_only", "sources")
    return Touchpoint(
        tid,
        e.text("label"),
        e.choice("kind", TOUCHPOINT_KINDS),
        e.texts("synonyms"),
        e.flag("meeting_place"),
        e.sources(),
        e.texts("answer_only", required=False),
    )


def _kpi(e: _Entry, kid: str) -> Kpi:
    e.only("name", "synonyms", "definition", "how_to_compute", "sources")
    return Kpi(
        kid,
        e.text("name"),
        e.texts("synonyms", required=False),
        e.text("definition"),
        e.text("how_to_compute"),
        e.sources(),
    )


def _type(e: _Entry, tid: str, touchpoints: Dict[str, Touchpoint], kpis: Dict[str, Kpi]) -> RelationshipType:
    e.only(
        "name",
        "synonyms",
        "definition",
        "dimensions",
        "cost_to_serve",
        "touchpoints",
        "kpis",
        "examples",
        "tactics",
        "cost_caveat",
        "sources",
    )
    dims = e.child("dimensions")
    dims.only("link", "intimacy", "direction", "life_cycle")
    examples = []
    raw_examples = e.get("examples")
    if raw_examples is not None and not isinstance(raw_examples, list):
        e.fail("'examples' must be a list")
        raw_examples = None
    for n, raw in enumerate(raw_examples or [], 1):
        ex = _Entry(e.problems, f"{e.where}: example {n}", raw)
        ex.only("case", "what", "sources")
        examples.append(Example(ex.text("case"), ex.text("what"), ex.sources()))
    tactics_entry = e.child("tactics")
    tactics_entry.only(*TACTIC_STAGES)
    return RelationshipType(
        id=tid,
        name=e.text("name"),
        synonyms=e.texts("synonyms"),
        definition=e.text("definition"),
        link=dims.choice("link", LINKS),
        intimacy=dims.choice("intimacy", INTIMACIES),
        direction=dims.choice("direction", DIRECTIONS),
        life_cycle=dims.texts("life_cycle", LIFE_CYCLE, "life cycle stage"),
        cost_to_serve=e.choice("cost_to_serve", COSTS),
        touchpoints=e.texts("touchpoints", touchpoints, "touchpoint"),
        kpis=e.texts("kpis", kpis, "kpi"),
        examples=examples,
        tactics={stage: tactics_entry.texts(stage) for stage in TACTIC_STAGES},
        cost_caveat=e.text("cost_caveat"),
        sources=e.sources(),
    )


def _conditions(e: _Entry, raw: Any, touchpoints: Dict[str, Touchpoint]) -> List[Condition]:
    """Parse a `when:` mapping (see the header of rules.yml for the forms it takes)."""
    if not isinstance(raw, dict):
        e.fail("'when' must be a mapping of profile fields to conditions (use {} to always apply)")
        return []
    conditions = []
    for name, spec in raw.items():
        kind = FIELD_KINDS.get(name)
        if kind is None:
            e.fail(f"unknown profile field '{name}' (use {', '.join(FIELD_KINDS)})")
            continue
        if isinstance(spec, dict):
            if len(spec) != 1:
                e.fail(f"'{name}': write one operator per condition, not {spec!r}")
                continue
            op, value = next(iter(spec.items()))
        elif kind == "touchpoints":
            op, value = ("contains_any", spec) if isinstance(spec, list) else ("contains", spec)
        else:
            op, value = ("one_of", spec) if isinstance(spec, list) else ("equals", spec)
        if op not in OPERATORS[kind]:
            e.fail(f"'{name}': unknown operator '{op}' for this field (use {', '.join(OPERATORS[kind])})")
            continue
        problem = _value_problem(name, kind, op, value, touchpoints)
        if problem:
            e.fail(f"'{name}': {problem}")
            continue
        conditions.append(Condition(name, op, value))
    return conditions


def _value_problem(name: str, kind: str, op: str, value: Any, touchpoints: Dict[str, Touchpoint]) -> Optional[str]:
    """Why `value` cannot be compared with the profile field `name` by `op`, or None."""
    many = op in ("one_of", "contains_any")
    values = value if many else [value]
    if many and (not isinstance(value, list) or not value):
        return f"'{op}' needs a non-empty list"
    for v in values:
        if kind == "choice" and v not in CHOICES[name]:
            return f"value {v!r} is not allowed (choose from {', '.join(CHOICES[name])})"
        if kind == "flag" and not isinstance(v, bool):
            return f"value {v!r} is not allowed (use true or false)"
        if kind == "number" and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
            return f"value {v!r} must be a number of at least 0"
        if kind == "touchpoints" and v not in touchpoints:
            return f"unknown touchpoint '{v}'"
    return None


def _rule(e: _Entry, rid: str, types: Dict[str, RelationshipType], touchpoints: Dict[str, Touchpoint]) -> Rule:
    e.only("when", "then", "exclude", "because", "sources")
    when = _conditions(e, e.data.get("when"), touchpoints)
    then: Dict[str, float] = {}
    raw_then = e.data.get("then") or {}
    if not isinstance(raw_then, dict):
        e.fail("'then' must map relationship type ids to weights")
        raw_then = {}
    for tid, weight in raw_then.items():
        if tid not in types:
            e.fail(f"unknown relationship type '{tid}'")
        elif isinstance(weight, bool) or not isinstance(weight, (int, float)):
            e.fail(f"weight of '{tid}' must be a number, not {weight!r}")
        else:
            then[tid] = float(weight)
    exclude = e.texts("exclude", types, "relationship type", required=False)
    if not raw_then and not exclude:
        e.fail("needs 'then' (weights) or 'exclude' (types never offered)")
    return Rule(rid, when, then, exclude, e.text("because"), e.sources())


def _questions(
    problems: List[str], shown: str, raw: Dict[str, Any], touchpoints: Dict[str, Touchpoint]
) -> Dict[str, Question]:
    questions = {}
    for name, data in raw.items():
        e = _Entry(problems, f"{shown}: question '{name}'", data)
        kind = FIELD_KINDS.get(name)
        if kind is None:
            e.fail(f"unknown profile field '{name}' (use {', '.join(FIELD_KINDS)})")
            continue
        e.only("question", "why", "probes", "sources")
        probes = e.data.get("probes")
        if probes is None and kind != "number":
            probes = list(CHOICES.get(name) or ([True, False] if kind == "flag" else touchpoints))
        if not isinstance(probes, list) or not probes:
            e.fail("'probes' must be a non-empty list of answers to try")
            probes = []
        op = "contains" if kind == "touchpoints" else "equals"
        for p in probes:
            problem = _value_problem(name, kind, op, p, touchpoints)
            if problem:
                e.fail(f"probe: {problem}")
        if kind == "touchpoints":
            probes = [[p] for p in probes]  # try one touchpoint at a time
        questions[name] = Question(name, e.text("question"), e.text("why"), probes, e.sources())
    for name in FIELD_KINDS:
        if name not in raw:
            problems.append(f"{shown}: no question for profile field '{name}'")
    return questions


def _message(e: _Entry, code: str) -> str:
    message = e.text("message")
    try:
        used = {f for _, f, _, _ in string.Formatter().parse(message) if f is not None}
    except ValueError as err:
        e.fail(f"message: {err}")
        return message
    for name in sorted(used - set(CHECK_PLACEHOLDERS[code])):
        e.fail(
            f"message uses unknown placeholder '{{{name}}}' (use {', '.join('{' + p + '}' for p in CHECK_PLACEHOLDERS[code])})"
        )
    return message


def _checks(
    problems: List[str],
    shown: str,
    raw: Dict[str, Any],
    types: Dict[str, RelationshipType],
    touchpoints: Dict[str, Touchpoint],
) -> BlockChecks:
    for code in raw:
        if code not in CHECK_PLACEHOLDERS:
            problems.append(f"{shown}: unknown check '{code}' (use {', '.join(CHECK_PLACEHOLDERS)})")
    entries = {}
    for code in CHECK_PLACEHOLDERS:
        if code not in raw:
            problems.append(f"{shown}: check '{code}' is missing")
        entries[code] = _Entry(problems, f"{shown}: check '{code}'", raw.get(code, {}))
    cost, meet, keep = entries["cost_vs_value"], entries["no_meeting_place"], entries["no_retention"]
    cost.only("costs", "cannot_carry_when", "message", "fix", "keeps_rank_at", "sources")
    meet.only("types", "message", "fix", "keeps_rank_at", "fix_touchpoints", "sources")
    keep.only("suggestions", "message", "sources")
    cannot_carry = []
    raw_cases = cost.get("cannot_carry_when")
    for n, case in enumerate(raw_cases if isinstance(raw_cases, list) else [], 1):
        c = _Entry(problems, f"{cost.where}: cannot_carry_when {n}", case)
        c.only("why", "when")
        cannot_carry.append((c.text("why"), _conditions(c, c.data.get("when"), touchpoints)))
    if raw_cases is not None and not isinstance(raw_cases, list):
        cost.fail("'cannot_carry_when' must be a list of {why, when}")
    for e in entries.values():
        e.sources()
    keeps_rank_at: Dict[str, Optional[float]] = {}
    for code, e in (("cost_vs_value", cost), ("no_meeting_place", meet)):
        weight = e.get("keeps_rank_at", required=False)
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0):
            e.fail(f"'keeps_rank_at' must be a weight above 0, not {weight!r}")
            weight = None
        keeps_rank_at[code] = float(weight) if weight is not None else None
    return BlockChecks(
        costs=cost.texts("costs", COSTS, "cost level"),
        cannot_carry=cannot_carry,
        cost_message=_message(cost, "cost_vs_value"),
        cost_fix=cost.text("fix"),
        meeting_types=meet.texts("types", types, "relationship type"),
        meeting_message=_message(meet, "no_meeting_place"),
        meeting_fix=meet.text("fix"),
        retention_suggestions=keep.texts("suggestions", types, "relationship type"),
        retention_message=_message(keep, "no_retention"),
        keeps_rank_at=keeps_rank_at,
        meeting_fix_touchpoints=meet.texts("fix_touchpoints", touchpoints, "touchpoint", required=False),
    )


# playbook.yml: the keys each item of a list section needs (besides sources), and may have.
PLAYBOOK_SECTIONS: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    "drivers": (("title", "text"), ()),
    "steps": (("id", "title", "text"), ("questions",)),
    "defining_aspects": (("text",), ()),
    "building_steps": (("text",), ()),
    "benefits": (("title", "text"), ()),
    "best_practices": (("title", "text"), ()),
    "technology": (("text",), ()),
    "challenges": (("challenge", "how_to_overcome"), ()),
    "tips": (("text",), ()),
    "faq": (("question", "answer"), ()),
    "customer_journey": (("phase", "text"), ()),
}
_LIST_KEYS = ("questions", "how_to_overcome")  # playbook keys that hold a list of texts
DIMENSION_VALUES = {"link": LINKS, "intimacy": INTIMACIES, "direction": DIRECTIONS, "life_cycle": LIFE_CYCLE}


def _playbook(problems: List[str], shown: str, raw: Dict[str, Any]) -> Dict[str, Any]:
    book: Dict[str, Any] = {}
    for section in raw:
        if section != "dimensions" and section not in PLAYBOOK_SECTIONS:
            problems.append(f"{shown}: unknown section '{section}'")
    for section, (required, optional) in PLAYBOOK_SECTIONS.items():
        items = raw.get(section)
        if not isinstance(items, list) or not items:
            problems.append(f"{shown}: section '{section}' must be a non-empty list")
            continue
        book[section] = []
        for n, data in enumerate(items, 1):
            e = _Entry(problems, f"{shown}: {section} {n}", data)
            e.only(*required, *optional, "sources")
            item = {
                k: (e.texts(k, required=k in required) if k in _LIST_KEYS else e.text(k, required=k in required))
                for k in required + optional
            }
            item["sources"] = e.sources()
            book[section].append(item)
    dims = _Entry(problems, f"{shown}: dimensions", raw.get("dimensions"))
    dims.only(*DIMENSION_VALUES)
    book["dimensions"] = {}
    for dim, allowed in DIMENSION_VALUES.items():
        d = dims.child(dim, f"dimension '{dim}'")
        d.only("label", "text", "values", "sources")
        values = d.child("values")
        values.only(*allowed)
        book["dimensions"][dim] = {
            "label": d.text("label"),
            "text": d.text("text"),
            "values": {v: values.text(v) for v in allowed},
            "sources": d.sources(),
        }
    return book


def _matcher(
    problems: List[str], shown: str, what: str, phrases_by_id: Dict[str, List[str]], with_ids: bool = True
) -> PhraseMatcher:
    """Index every name and synonym (and id, unless with_ids is False); a phrase that
    points at two entries is a problem."""
    index: Dict[Tuple[str, ...], str] = {}
    for entry_id, phrases in phrases_by_id.items():
        for phrase in [entry_id.replace("_", " ")] * with_ids + list(phrases):
            for key in variants(phrase):
                other = index.setdefault(key, entry_id)
                if other != entry_id:
                    problems.append(
                        f"{shown}: {what} '{entry_id}': duplicate synonym '{phrase}' (also means '{other}')"
                    )
    return PhraseMatcher(index)


def _answer_words(problems: List[str], shown: str, raw: Dict[str, Any]) -> Dict[str, Dict[str, List[str]]]:
    """answers.yml: NLU entity -> {values: {value: [phrases]}}; a profile choice's values are its choices."""
    words = {}
    for entity, data in raw.items():
        e = _Entry(problems, f"{shown}: entity '{entity}'", data)
        e.only("values")
        values = e.child("values")
        if not values.data:
            values.fail("must map each value to the phrases that name it")
        for value in values.data:
            if entity in CHOICES and value not in CHOICES[entity]:
                values.fail(f"'{value}' is not a {entity} (choose from {', '.join(CHOICES[entity])})")
        words[entity] = {value: values.texts(value) for value in values.data}
    return words


def _decisive_facts_are_confirmed(
    problems: List[str], shown: str, interview: Interview, rules: List[Rule], checks: Optional[BlockChecks]
) -> None:
    """Every profile field a rule or a block check reads is filled by a segment question that
    confirms a mention heard in passing: a fact the founder did not give in answer to its
    question never decides a recommendation unseen."""
    read = {c.field for rule in rules for c in rule.when}
    read |= {c.field for _, conditions in (checks.cannot_carry if checks else []) for c in conditions}
    read.add("touchpoints")  # no_meeting_place reads the segment's touchpoints
    for name in sorted(read):
        question = next((q for q in interview.segment.values() if name in q.fills), None)
        if question is None:
            problems.append(
                f"{shown}: no segment question fills '{name}', which a rule or a check reads "
                "(add one, with 'in_passing: confirm')"
            )
        elif question.in_passing != "confirm":
            problems.append(
                f"{shown}: question '{question.slot}' fills '{name}', which a rule or a check reads: "
                "it needs 'in_passing: confirm'"
            )


def _interview(
    problems: List[str],
    shown: str,
    raw: Dict[str, Any],
    touchpoints: Dict[str, Touchpoint],
    words: Dict[str, Dict[str, List[str]]],
    words_shown: str,
) -> Interview:
    """interview.yml: see its header for the keys each question takes."""
    for section in raw:
        if section not in ("venture", "segment", "stages", "small_talk"):
            problems.append(f"{shown}: unknown section '{section}' (use venture, segment, stages, small_talk)")
    sections = {}
    slots_seen: Dict[str, str] = {}
    for section in ("venture", "segment"):
        entries = raw.get(section)
        if not isinstance(entries, dict) or not entries:
            problems.append(f"{shown}: section '{section}' must be a non-empty mapping of slots to questions")
            entries = {}
        questions = {}
        for slot, data in entries.items():
            e = _Entry(problems, f"{shown}: question '{slot}'", data)
            if slot in slots_seen:
                e.fail(f"also a question of section '{slots_seen[slot]}'")
            slots_seen[slot] = section
            questions[slot] = _interview_question(e, slot, section, touchpoints, words, words_shown)
        sections[section] = questions
    stages = raw.get("stages")
    if not isinstance(stages, dict) or not stages:
        problems.append(f"{shown}: section 'stages' must map each stage of a conversation to its label")
        stages = {}
    for stage, label in stages.items():
        if not isinstance(label, str) or not label.strip():
            problems.append(f"{shown}: stage '{stage}' needs a label (a non-empty text)")
    small_talk: Dict[str, FrozenSet[str]] = {}
    raw_small_talk = raw.get("small_talk") or {}
    if not isinstance(raw_small_talk, dict):
        problems.append(f"{shown}: section 'small_talk' must map intents to the words their small talk is made of")
        raw_small_talk = {}
    for intent, words in raw_small_talk.items():
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            problems.append(f"{shown}: small_talk '{intent}' must be a list of words")
            continue
        small_talk[str(intent)] = frozenset(w.strip().lower() for w in words)
    return Interview(
        sections["venture"],
        sections["segment"],
        {str(k): str(v).strip() for k, v in stages.items() if v},
        small_talk,
    )


def _interview_question(
    e: _Entry, slot: str, section: str, touchpoints: Dict[str, Touchpoint], words: Dict[str, Any], words_shown: str
) -> InterviewQuestion:
    e.only(
        "label",
        "kind",
        "ask",
        "why",
        "ask_again",
        "fills",
        "entity",
        "answers",
        "not_sure",
        "off_topic",
        "export_label",
        "in_passing",
        "confirm",
        "asked",
    )
    kind = e.choice("kind", ("text",) if section == "venture" else QUESTION_KINDS[1:])
    fills = tuple(
        e.texts("fills", FIELD_KINDS.keys() | {"name", "needs"}, "profile field", required=section == "segment")
    )
    if kind in KIND_FIELDS and fills and set(fills) != set(KIND_FIELDS[kind]):
        e.fail(f"a {kind} question fills {', '.join(KIND_FIELDS[kind])}, not {', '.join(fills)}")
    entity = e.text("entity", required=kind in ("choice", "touchpoints")) or None
    if kind == "touchpoints" and entity and entity != "touchpoint":
        e.fail(f"a touchpoints question reads the entity 'touchpoint', not '{entity}'")
    answers: Dict[str, InterviewAnswer] = {}
    raw_answers = e.get("answers", required=kind == "choice")
    if raw_answers is not None and kind != "choice":
        e.fail("only a choice question has 'answers'")
    elif raw_answers is not None and not isinstance(raw_answers, dict):
        e.fail("'answers' must map each answer's value to its button, meaning and label")
    elif raw_answers:
        vocabulary = words.get(entity)
        if entity and vocabulary is None:
            e.fail(f"{words_shown} has no words for the entity '{entity}'")
            vocabulary = {}
        for value, data in raw_answers.items():
            a = _Entry(e.problems, f"{e.where}: answer '{value}'", data)
            a.only("button", "means", "label", "combines")
            if value == UNKNOWN:
                a.fail(f"'{UNKNOWN}' is the answer 'not sure'; name the button with 'not_sure'")
            if entity and value not in vocabulary:
                a.fail(f"{words_shown} has no words for it under '{entity}'")
            means = a.get("means")
            if not isinstance(means, dict):
                a.fail("'means' must map profile fields to the values this answer gives them")
                means = {}
            for name, v in means.items():
                if name not in fills:
                    a.fail(f"'means' sets '{name}', which the question does not fill ({', '.join(fills)})")
                    continue
                problem = _value_problem(name, FIELD_KINDS.get(name, ""), "equals", v, touchpoints)
                if problem:
                    a.fail(f"'means': '{name}': {problem}")
            answers[value] = InterviewAnswer(
                str(value),
                a.text("button"),
                dict(means),
                a.text("label", required=False),
                a.texts("combines", raw_answers, "answer", required=False),
            )
        for value in vocabulary or {}:
            if value not in answers:
                e.fail(f"{words_shown} has words for '{value}' under '{entity}', which is none of its answers")
        for n, first in enumerate(answers.values()):
            for other in list(answers.values())[n + 1 :]:
                if first.means == other.means:
                    e.fail(f"answers '{first.value}' and '{other.value}' mean the same")
    export_label = e.text("export_label", required=False)
    if export_label and not all(a.label for a in answers.values()):
        e.fail("'export_label' needs a 'label' on every answer")
    ask = e.text("ask")
    try:
        placeholders = {f for _, f, _, _ in string.Formatter().parse(ask) if f is not None}
    except ValueError as err:
        e.fail(f"ask: {err}")
        placeholders = set()
    for name in sorted(placeholders - {"venture_name", "segment"}):
        e.fail(
            f"'ask' uses unknown placeholder '{{{name}}}' (use {{venture_name}}, or {{segment}} in an action's question)"
        )
    in_passing, confirm, asked = "fill", "", "always"
    if section == "segment" and kind != "description":
        in_passing = e.choice("in_passing", IN_PASSING) or "fill"
        confirm = e.text("confirm", required=in_passing == "confirm")
        asked = (e.choice("asked", ASKED) if "asked" in e.data else "") or "always"
        if asked == "when_heard" and in_passing != "confirm":
            e.fail(
                "a question asked only when its answer was heard in passing ('asked: when_heard') needs 'in_passing: confirm'"
            )
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(confirm) if f is not None}
        except ValueError as err:
            e.fail(f"confirm: {err}")
            used = set()
        if in_passing == "confirm" and "heard" not in used:
            e.fail("'confirm' must name what was heard: {heard}")
        for name in sorted(used - {"heard"}):
            e.fail(f"'confirm' uses unknown placeholder '{{{name}}}' (use {{heard}})")
    elif "in_passing" in e.data or "confirm" in e.data or "asked" in e.data:
        e.fail("only a segment question (not the description) has 'in_passing', 'confirm' and 'asked'")
    return InterviewQuestion(
        in_passing=in_passing,
        confirm=confirm,
        asked=asked,
        slot=slot,
        kind=kind,
        ask=ask,
        why=e.text("why"),
        ask_again=e.text("ask_again"),
        fills=fills,
        entity=entity,
        answers=answers,
        not_sure=e.text("not_sure", required=False),
        off_topic=e.text("off_topic", required=False),
        export_label=export_label,
        label=e.text("label"),
    )
