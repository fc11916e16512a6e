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
    found = [m for m in found if not any(o.start <= m.start and m.end <= o.end and o.end - o.start > m.end - m.start
                                         for o in found)]
    return sorted(found, key=lambda m: (m.start, m.entity))


def values_of(text: str, entity: str) -> List[str]:
    """The distinct canonical values of one entity mentioned in the text, in order."""
    return _matchers()[entity].find_all(text or "")


# ---------------------------------------------------------------- numbers

_WORD_NUMBERS = {
    "a couple of": 2, "a couple": 2, "a few": 3, "a handful of": 5, "a handful": 5, "a dozen": 12,
    "dozens of": 50, "dozens": 50, "a few hundred": 300, "hundreds of": 500, "hundreds": 500,
    "a few thousand": 3000, "thousands of": 5000, "thousands": 5000, "tens of thousands": 30000,
    "a million": 1_000_000, "millions of": 2_000_000, "millions": 2_000_000,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "a hundred": 100, "one hundred": 100, "a thousand": 1000, "one thousand": 1000,
}
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "millions": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_CURRENCY = r"(?:[$€£]|usd|eur|euros?|dollars?|pounds?|gbp|chf|bucks)"
_NUMBER = r"(?:\d{1,3}(?:[,\s]\d{3})+|\d+(?:\.\d+)?)"
_AMOUNT = re.compile(
    rf"(?P<cur1>{_CURRENCY})?\s?(?P<num>{_NUMBER})\s?(?P<mult>k|m|mn|b|bn|thousand|million|billion)?\b\s?(?P<cur2>{_CURRENCY})?",
    re.I,
)
_PERIODS = [
    (re.compile(r"\b(?:a|per|each|every|/)\s?(?:month|mo)\b|\bmonthly\b", re.I), 12),
    (re.compile(r"\b(?:a|per|each|every|/)\s?week\b|\bweekly\b", re.I), 52),
    (re.compile(r"\b(?:a|per|each|every|/)\s?day\b|\bdaily\b", re.I), 365),
    (re.compile(r"\b(?:a|per|each|every|/)\s?(?:year|yr|annum)\b|\byearly\b|\bannual(?:ly)?\b", re.I), 1),
]
# Words after a number that say it counts money or time rather than customers.
_NOT_A_COUNT = re.compile(
    r"^\s*(?:%|percent|per\b|a\s+(?:year|month|week|day)\b|each\b|years?\b|months?\b|weeks?\b|days?\b|hours?\b|minutes?\b|times\b|x\b|euros?\b|dollars?\b|pounds?\b|bucks\b)",
    re.I,
)
_VALUE_CUE = re.compile(r"(?:\bat|\bfor|\bpay(?:s|ing)?|\bworth|\bspend(?:s|ing)?|\bcharg(?:e|es|ing)|\bvalue of|\bcosts?|\bprice of|\beach)\s*(?:about|around|roughly|~)?\s*$", re.I)


def _to_number(raw: str, mult: Optional[str]) -> float:
    value = float(re.sub(r"[,\s]", "", raw))
    return value * _MULTIPLIERS.get((mult or "").lower(), 1)


def _period_factor(text: str) -> int:
    for pattern, factor in _PERIODS:
        if pattern.search(text):
            return factor
    return 1


def parse_scale(text: str) -> Dict[str, float]:
    """customer_count and value_per_customer (per year) from text like
    "about 20 banks at 200k a year" or "5000 students paying 9 euros a month"."""
    text = text or ""
    result: Dict[str, float] = {}
    for match in _AMOUNT.finditer(text):
        if not match.group("num"):
            continue
        number = _to_number(match.group("num"), match.group("mult"))
        before, after = text[: match.start()], text[match.end():]
        is_money = bool(match.group("cur1") or match.group("cur2") or _VALUE_CUE.search(before))
        if is_money and "value_per_customer" not in result:
            # The period that follows the amount ("9 euros a month") turns it into a yearly value.
            result["value_per_customer"] = number * _period_factor(after[:25])
        elif not is_money and "customer_count" not in result and not _NOT_A_COUNT.match(after):
            result["customer_count"] = int(number)
    if "customer_count" not in result:
        lowered = text.lower()
        for phrase in sorted(_WORD_NUMBERS, key=len, reverse=True):
            if re.search(rf"\b{re.escape(phrase)}\b", lowered):
                result["customer_count"] = _WORD_NUMBERS[phrase]
                break
    return result


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
_LABEL_CUT = re.compile(r"\s+(?:who|that|which|looking|wanting|with|because|at|paying|and\s+they)\b|[,;:.!?()]|\s[-–—]\s", re.I)


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
