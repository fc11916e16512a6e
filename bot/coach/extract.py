"""Reads what a founder wrote in free text into segment-profile facts.

"We sell to 20 banks at 200k a year, they renew every year" answers three of the
coach's questions at once; the conversation fills every empty answer it can from
here so that it never asks twice. Everything is rule-based over the vocabulary in
bot/knowledge (answers.yml, relationship_types.yml, touchpoints.yml); what each
closed answer means for the profile is in interview.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from bot.coach.knowledge import IN_PASSING_TOUCHPOINT, load_knowledge
from bot.coach.numbers import read_scale
from bot.coach.phrases import PhraseMatcher


@dataclass(frozen=True)
class Mention:
    entity: str  # NLU entity name: relationship_type, touchpoint, goal ...
    value: str  # canonical value: a type id, a touchpoint id, a profile choice
    start: int
    end: int
    text: str


def _matchers() -> Dict[str, PhraseMatcher]:
    """entity -> the matcher of its vocabulary, from the knowledge files."""
    return load_knowledge().vocabulary


def find_mentions(text: str, entities: Optional[List[str]] = None) -> List[Mention]:
    """Every vocabulary mention in the text, in order. A phrase may mean two things
    ("subscription": a relationship type and a recurring purchase), but a mention
    inside a longer one is dropped."""
    text = text or ""
    found = [
        Mention(entity, m.value, m.start, m.end, text[m.start : m.end])
        for entity, matcher in _matchers().items()
        if entity != IN_PASSING_TOUCHPOINT and (not entities or entity in entities)
        for m in matcher.find(text)
    ]
    # "loyalty program" is a relationship type; the "loyal" inside it is no goal.
    found = [
        m
        for m in found
        if not any(o.start <= m.start and m.end <= o.end and o.end - o.start > m.end - m.start for o in found)
    ]
    return sorted(found, key=lambda m: (m.start, m.entity))


def values_of(text: str, entity: str) -> List[str]:
    """The distinct canonical values of one entity mentioned in the text, in order."""
    return _matchers()[entity].find_all(text or "")


# ---------------------------------------------------------------- numbers


def parse_scale(text: str) -> Dict[str, float]:
    """customer_count and value_per_customer (per year) from text like
    "about 20 banks at 200k a year" or "5000 students paying 9 euros a month"."""
    return read_scale(text).facts()


# ---------------------------------------------------------------- facts


def extract_facts(text: str) -> Dict[str, object]:
    """Every segment-profile fact the text states, keyed by profile field.
    Facts the text does not state are absent, never guessed."""
    facts: Dict[str, object] = {}
    facts.update(parse_scale(text))
    for entity in ("purchase_frequency", "goal", "market", "price_position"):
        values = values_of(text, entity)
        if len(values) == 1:  # two different answers in one message are ambiguous
            facts[entity] = values[0]
    support = values_of(text, "support_level")
    if support:
        facts.update(_meaning("support_level", support[-1:]))
    roles = values_of(text, "community_role")
    if roles:
        facts.update(_meaning("community_role", roles))
    touchpoints = values_of(text, IN_PASSING_TOUCHPOINT)
    if touchpoints:
        facts["touchpoints"] = touchpoints
    return facts


def _meaning(entity: str, values: List[str]) -> Dict[str, object]:
    """The profile facts of the first answer named (interview.yml says what each means),
    or of the answer that combines those named ("help each other" and "ideas": both)."""
    answers = load_knowledge().interview.by_entity(entity).answers
    combined = next((a for a in answers.values() if a.combines and set(a.combines) <= set(values)), None)
    return dict((combined or answers[values[0]]).means)


# Words that lead into a description without naming anyone: "we also sell to about 20 ..."
_LABEL_LEAD = re.compile(
    r"^(?:\s*(?:(?:they|those|these)\s+are|it'?s|its|we(?:\s+also)?\s+(?:sell|serve|target|work|help)(?:\s+(?:to|with))?"
    r"|our\s+(?:customers|clients|users)\s+are|mostly|mainly|also|about|around|roughly|some|maybe|approximately|~|\d[\d,.]*[km]?)\b\s*)+",
    re.I,
)
_LABEL_CUT = re.compile(
    r"\s+(?:who|that|which|looking|wanting|with|because|at|paying|and\s+they)\b|[,;:.!?()]|\s[-–—]\s", re.I
)


def segment_label(description: str, max_words: int = 6) -> str:
    """A short name for a segment, from the founder's description of it."""
    text = _LABEL_LEAD.sub("", (description or "").strip())
    head = _LABEL_CUT.split(text, maxsplit=1)[0].strip() or text
    words = head.split()[:max_words]
    label = " ".join(words).strip()
    return (label[:1].upper() + label[1:]) if label else "Customers"


_VENTURE = re.compile(
    r"^\s*(?:(?:we(?:'re| are)|i(?:'m| am)|it(?:'s| is))\s+(?:called|named)\s+|(?:it'?s|we'?re|the venture is|our (?:startup|company|venture) is|my (?:startup|company|venture) is)\s+)?"
    r"(?P<name>[^,;:.\-–—]+?)\s*(?:[,;:.\-–—]+|\s+(?:and\s+)?(?:we|it)\s+)\s*(?P<offer>.{3,})$",
    re.I,
)


def split_venture(text: str) -> Tuple[str, Optional[str]]:
    """("Brewbox", "we deliver fresh coffee to offices") from
    "It's called Brewbox, we deliver fresh coffee to offices"."""
    text = (text or "").strip()
    match = _VENTURE.match(text)
    if match and len(match.group("name").split()) <= 5:
        return match.group("name").strip(), match.group("offer").strip()
    return text, None


# Words that name people or organisations: a segment's description names someone.
_PEOPLE = re.compile(
    r"\b(?:[a-z]{2,}(?:ers|ors|ars|ents|ists|ians|ans|ees|ics|ants|ives|ites|ards|als)|[a-z]{2,}s\s+(?:who|that)|people|persons|folks?|kids|children|"
    r"men|women|families|companies|businesses|firms|teams|owners|users|clients|customers|buyers|fans|"
    r"professionals|couples|adults|seniors|teens|students|parents|patients|guests|members|shops|stores|"
    r"brands|agencies|schools|hospitals|clinics|practices|restaurants|cafes|bars|hotels|startups|banks)\b",
    re.I,
)


def names_people(text: str) -> bool:
    """Whether a description names a group of people or organisations ("commuters
    grabbing a snack", "coffee regulars who ..."): small talk ("tell me a joke") does not."""
    return bool(_PEOPLE.search(text or "")) or bool(values_of(text, "market"))
