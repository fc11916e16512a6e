"""Reads how many customers a segment has and what each is worth, the way founders write it.

"about twenty accounts, each worth tens of thousands a year", "5000 students paying
9 € a month", "15-20 clinics, 600k a year in total", "a few hundred dollars a year each".
Spelled-out numbers ("twenty-five thousand") are turned into digits by text2num;
the vague ones no library reads ("a handful", "tens of thousands") are estimated
here, and the reading then says it is approximate, so the coach can check it with
the founder instead of guessing silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from text_to_num import alpha2digit

# Vague quantities, as a rough middle of what people mean by them. Longest first.
VAGUE_QUANTITIES: Tuple[Tuple[str, int], ...] = (
    ("hundreds of thousands", 300_000),
    ("a few hundred thousand", 300_000),
    ("tens of thousands", 30_000),
    ("a few thousand", 3_000),
    ("several thousand", 5_000),
    ("thousands", 5_000),
    ("a few hundred", 300),
    ("several hundred", 500),
    ("hundreds", 500),
    ("a few dozen", 36),
    ("dozens", 50),
    ("a dozen", 12),
    ("a handful", 5),
    ("a couple", 2),
    ("a few", 3),
    ("several", 5),
    ("a million", 1_000_000),
    ("millions", 2_000_000),
)
_VAGUE = re.compile(r"\b(" + "|".join(re.escape(p) for p, _ in VAGUE_QUANTITIES) + r")(?:\s+of\b)?", re.I)
_VAGUE_VALUE = {p: v for p, v in VAGUE_QUANTITIES}

_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_CURRENCIES = {
    "€": "€",
    "eur": "€",
    "euro": "€",
    "euros": "€",
    "$": "$",
    "usd": "$",
    "dollar": "$",
    "dollars": "$",
    "bucks": "$",
    "£": "£",
    "gbp": "£",
    "pound": "£",
    "pounds": "£",
    "chf": "CHF ",
}
_CURRENCY = r"(?:[$€£]|usd|eur|euros?|dollars?|pounds?|gbp|chf|bucks)"
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:\.\d{3})+(?!\d)|\d{1,3}(?:\s\d{3})+(?!\d)|\d+(?:\.\d+)?)"
_MULT = r"(?:k|mn|m|bn|b|thousand|million|billion)"
# An amount: a number not inside a word ("b2b") nor a time or ratio ("24/7", "1:1").
_AMOUNT = re.compile(
    rf"(?<![\w.:/])(?P<cur1>{_CURRENCY})?\s?(?P<num>{_NUMBER})\s?(?P<mult>{_MULT})?(?![\w:/])\s?(?P<cur2>{_CURRENCY}(?!\w))?",
    re.I,
)
_RANGE = re.compile(
    rf"(?<![\w.:/])(?:between\s+)?(?P<cur>{_CURRENCY}\s?)?(?P<low>{_NUMBER})\s?(?P<mult1>{_MULT})?\s*(?:-|–|to|and|or)\s*"
    rf"(?P=cur)?(?P<high>{_NUMBER})\s?(?P<mult2>{_MULT})?(?![\w:/])",
    re.I,
)
# The period a value is given in, and how many of it make a year.
_PERIODS = (
    (re.compile(r"^\s*(?:a|per|each|every|/)\s?(?:month|mo)\b|^\s*monthly\b", re.I), 12, "a month"),
    (re.compile(r"^\s*(?:a|per|each|every|/)\s?week\b|^\s*weekly\b", re.I), 52, "a week"),
    (re.compile(r"^\s*(?:a|per|each|every|/)\s?day\b|^\s*daily\b", re.I), 365, "a day"),
    (re.compile(r"^\s*(?:a|per|each|every|/)\s?(?:year|yr|annum)\b|^\s*(?:yearly|annually)\b", re.I), 1, "a year"),
)
_PERIOD_BEFORE = (
    (re.compile(r"\bmonthly\b[^.,;]*$", re.I), 12, "a month"),
    (re.compile(r"\bweekly\b[^.,;]*$", re.I), 52, "a week"),
    (re.compile(r"\b(?:yearly|annual)\b[^.,;]*$", re.I), 1, "a year"),
)
_PER_PURCHASE = re.compile(
    r"^\s*(?:a|per|each|every|/)\s?(?:order|purchase|visit|box|ticket|basket|booking|sale|pop|item)\b", re.I
)
# After a number: money or time, not a count of customers.
_NOT_A_COUNT = re.compile(
    r"^\s*(?:%|percent|per\b|a\s+(?:year|month|week|day)\b|each\b|years?\b|months?\b|weeks?\b|days?\b|hours?\b|"
    r"minutes?\b|times\b|x\b|employees?\b|staff\b|people\s+on\b|(?:co-?)?founders?\b|team\b|year[- ]olds?\b|yo\b|"
    r"stars?\b|hrs?\b|mins?\b)",
    re.I,
)
_NOT_A_COUNT_BEFORE = re.compile(r"\b(?:aged?|ages|for\s+the\s+(?:last|past))\s*$", re.I)
_YEAR_BEFORE = re.compile(r"\b(?:in|since|from|until|by|of)\s*$", re.I)  # "since 2019"
_DIGITS_AND_WORD = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(thousand|million|billion)\b", re.I)
# Before a number: it is money.
_VALUE_CUE = re.compile(
    r"(?:\bat|\bpay(?:s|ing)?|\bworth|\bspend(?:s|ing)?|\bcharg(?:e|es|ing)|\bvalue\s+of|\bcosts?|\bprice\s+of|"
    r"\beach|\bbrings?\s+(?:in|us)?|\bbill(?:s|ing)?|\brevenue\s+of|\bfee\s+of|\bturnover\s+of)"
    r"\s*(?:about|around|roughly|approximately|maybe|~)?\s*$",
    re.I,
)
# After a number: it is money for each customer.
_EACH_AFTER = re.compile(
    r"^\s*(?:a\s+\w+\s+)?(?:each|apiece|per\s+(?:customer|client|account|user|head|person|company|shop|store))\b", re.I
)
# Around a number: it is the segment's total, to be shared among its customers.
_TOTAL = re.compile(
    r"(?:^[^.;\d]{0,30}\b(?:in\s+total|total|altogether|all\s+together|combined|overall|between\s+them)\b)", re.I
)
_TOTAL_BEFORE = re.compile(
    r"\b(?:total(?:\s+of)?|altogether|in\s+total|overall|combined)\s*(?:about|around|roughly|~)?\s*$", re.I
)
_TOTAL_RIGHT_AFTER = re.compile(r"^\s*(?:in\s+total|total|altogether|all\s+together|combined|overall)\b", re.I)
_COUNT_NOUN = re.compile(r"^\s*(?:of\s+)?([a-z][a-z'-]+(?:\s+[a-z][a-z'-]+)?)", re.I)
_NOT_NOUNS = {
    "of",
    "them",
    "those",
    "these",
    "or",
    "and",
    "to",
    "at",
    "who",
    "that",
    "which",
    "we",
    "they",
    "in",
    "on",
    "with",
    "for",
    "but",
    "so",
    "maybe",
    "about",
    "around",
    "roughly",
    "per",
    "each",
    "a",
    "an",
    "the",
    "big",
    "small",
    "large",
    "our",
    "are",
    "is",
}


@dataclass(frozen=True)
class Scale:
    """What a message says about a segment's size and value."""

    customer_count: Optional[int] = None
    value_per_customer: Optional[float] = None  # per customer per year
    currency: str = ""  # "€", "$", "£", "CHF " or "" when none was named
    count_noun: str = "customers"  # what the founder counts: "accounts", "students"
    per_purchase: bool = False  # the value was given per order, and is counted as one order a year
    approximate: bool = False  # read from a vague word, a range, a total or two candidates: worth checking

    def facts(self) -> Dict[str, float]:
        facts: Dict[str, float] = {}
        if self.customer_count is not None:
            facts["customer_count"] = self.customer_count
        if self.value_per_customer is not None:
            facts["value_per_customer"] = self.value_per_customer
        return facts

    def summary(self) -> str:
        """What was understood, in words: "about 20 accounts, each worth about €30,000 a year"."""
        parts: List[str] = []
        if self.customer_count is not None:
            parts.append(f"about {self.customer_count:,} {self.count_noun}")
        if self.value_per_customer is not None:
            money = f"{self.currency}{_round(self.value_per_customer):,}"
            if self.per_purchase:
                parts.append(f"each spending about {money} per order (I count that as {money} a year)")
            else:
                parts.append(f"{'each ' if parts else ''}worth about {money} a year{'' if parts else ' each'}")
        return ", ".join(parts)


def _round(value: float) -> int:
    """Two significant figures are as much as a rough answer holds."""
    if value >= 100:
        digits = len(str(int(value))) - 2
        return int(round(value, -digits))
    return int(round(value))


def _number(raw: str, mult: Optional[str]) -> float:
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):  # 30.000: a thousands point
        raw = raw.replace(".", "")
    value = float(re.sub(r"[,\s]", "", raw))
    return value * _MULTIPLIERS.get((mult or "").lower(), 1)


def _digits(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"


def normalize(text: str) -> Tuple[str, bool]:
    """Vague quantities as estimates, spelled-out numbers and ranges as digits.
    Returns the text and whether anything in it was estimated."""
    estimated = False

    def vague(match: re.Match) -> str:
        nonlocal estimated
        estimated = True
        return str(_VAGUE_VALUE[match.group(1).lower()])

    text = _VAGUE.sub(vague, text)
    # "2 million" before text2num, which would read the lone "million" as 1000000.
    text = _DIGITS_AND_WORD.sub(lambda m: _digits(_number(m.group(1), m.group(2))), text)
    text = alpha2digit(text, "en", threshold=1.5)  # "twenty-five thousand" -> 25000; a lone "one" stays a word

    def middle(match: re.Match) -> str:
        nonlocal estimated
        mult2 = match.group("mult2")
        low = _number(match.group("low"), match.group("mult1") or mult2)
        high = _number(match.group("high"), mult2)
        if not 0 < low < high:
            return match.group(0)
        estimated = True
        return f"{match.group('cur') or ''}{_digits((low + high) / 2)}"

    return _RANGE.sub(middle, text), estimated


def read_scale(text: str) -> Scale:
    """The segment's customer count and yearly value per customer, as far as the text says them."""
    text, approximate = normalize(text or "")
    count: Optional[int] = None
    noun = "customers"
    value: Optional[float] = None
    currency = ""
    total: Optional[float] = None
    per_purchase = False
    for match in _AMOUNT.finditer(text):
        number = _number(match.group("num"), match.group("mult"))
        before, after = text[: match.start()], text[match.end() :]
        named = match.group("cur1") or match.group("cur2")
        cue = bool(_VALUE_CUE.search(before))
        period = _period(after, before)
        each = bool(_EACH_AFTER.match(after))
        # "600k in total": a big round sum of the whole segment is money, not customers.
        big_total = bool(match.group("mult")) and bool(_TOTAL_RIGHT_AFTER.match(after))
        is_money = bool(
            named
            or cue
            or big_total
            or (period and not _NOT_A_COUNT_BEFORE.search(before))
            or each
            or _PER_PURCHASE.match(after)
        )
        if is_money:
            factor = period[0] if period else 1
            is_total = not each and (bool(_TOTAL_BEFORE.search(before)) or bool(_TOTAL.match(after)))
            if is_total and total is None:
                total = number * factor
            elif value is None:
                value = number * factor
                per_purchase = not period and bool(_PER_PURCHASE.match(after))
            else:
                approximate = True  # a second value: the first one stands, to be checked
            if named and not currency:
                currency = _CURRENCIES.get(named.strip().lower(), "")
        elif (
            _NOT_A_COUNT.match(after)
            or _NOT_A_COUNT_BEFORE.search(before)
            or (1900 <= number <= 2100 and _YEAR_BEFORE.search(before))
        ):
            continue
        elif count is None:
            count = int(number)
            noun = _noun(after) or noun
        else:
            approximate = True  # a second count ("20 banks and 5 insurers"): check it
    if value is None and total is not None and count:
        value = total / count  # "20 accounts, 600k a year in total"
        approximate = True
    elif count is None and total is not None and value:
        count = round(total / value)  # "30k a year each, 600k in total"
        approximate = True
    if per_purchase:
        approximate = True
    if count is None and value is None:
        approximate = False  # nothing read, nothing to check
    return Scale(count, value, currency, noun, per_purchase, approximate)


def _period(after: str, before: str) -> Optional[Tuple[int, str]]:
    for pattern, factor, words in _PERIODS:
        if pattern.search(after[:30]):
            return factor, words
    tail = after[:40]
    for pattern, factor, words in _PERIODS:  # "30k each a year", "€9 per user per month"
        skipped = re.match(r"^\s*(?:each|apiece|per\s+\w+)", tail, re.I)
        if skipped and pattern.search(tail[skipped.end() :]):
            return factor, words
    for pattern, factor, words in _PERIOD_BEFORE:  # "a monthly fee of 9 €"
        if pattern.search(before[-40:]):
            return factor, words
    return None


def _noun(after: str) -> Optional[str]:
    """What a count counts: "20 big banks" -> "banks"."""
    match = _COUNT_NOUN.match(after)
    if not match:
        return None
    words = [w for w in match.group(1).lower().split() if w not in _NOT_NOUNS]
    if not words:
        return None
    return words[0]
