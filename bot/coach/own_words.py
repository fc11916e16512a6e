"""Answers the coach's vocabulary does not know, kept in the founder's own words.

"At the town fair and in the village hall" names no touchpoint the coach knows; it
is still an answer. The coach keeps each place as the founder said it, adds the
nearest known touchpoint where one of the words is (or is a typo of) a word of
that touchpoint ("fair" -> events, "websit" -> website), and moves on instead of
asking again. The same goes for numbers it is unsure of: it says in one line what
it understood and lets the founder correct it.
"""

from __future__ import annotations

import difflib
import re
from typing import Dict, List, Optional

from bot.coach.knowledge import Knowledge, load_knowledge
from bot.coach.numbers import Scale
from bot.coach.phrases import tokens

MAX_PHRASE_CHARS = 60
# Words of touchpoint phrases that say nothing about the place.
_FILLER = {
    "the",
    "our",
    "your",
    "their",
    "and",
    "with",
    "for",
    "from",
    "via",
    "through",
    "online",
    "phone",
    "call",
    "line",
    "group",
    "site",
    "page",
    "center",
    "centre",
    "point",
    "sale",
    "store",
    "shop",
    "tell",
}
_SPLIT = re.compile(r"\s*(?:,|;|/|\band\b|\bor\b|\bplus\b|&)\s*", re.I)
_LEAD = re.compile(
    r"^(?:mostly|mainly|only|just|usually|also|we meet them|they (?:find|meet|see|reach) us|"
    r"at|in|on|through|via|by|from|over|during|the|our|a|an|\s)+\b",
    re.I,
)


_INDEXES: Dict[int, Dict[str, str]] = {}  # id(knowledge) -> its word index


def _word_index(knowledge: Knowledge) -> Dict[str, str]:
    """Each telling word of the touchpoint vocabulary -> its touchpoint id (the first to claim it)."""
    if id(knowledge) in _INDEXES:
        return _INDEXES[id(knowledge)]
    index = _INDEXES.setdefault(id(knowledge), {})
    for tid, touchpoint in knowledge.touchpoints.items():
        for phrase in (touchpoint.label, tid.replace("_", " "), *touchpoint.synonyms, *touchpoint.answer_only):
            for word in tokens(str(phrase)):
                if len(word) >= 4 and word not in _FILLER:
                    index.setdefault(word, tid)
    return index


def nearest_touchpoints(text: str, knowledge: Optional[Knowledge] = None) -> List[str]:
    """Known touchpoints that a word of the text is, or nearly is (a typo), a word of."""
    index = _word_index(knowledge or load_knowledge())
    found: List[str] = []
    for word in tokens(text or ""):
        if len(word) < 4:
            continue
        close = difflib.get_close_matches(word, index, n=1, cutoff=0.84)
        if close and index[close[0]] not in found:
            found.append(index[close[0]])
    return found


def places_as_said(text: str) -> List[str]:
    """The places in an answer to "where do they meet you?", each as the founder wrote it:
    "at the town fair and in the village hall" -> ["town fair", "village hall"]."""
    places: List[str] = []
    for part in _SPLIT.split(text or ""):
        place = _LEAD.sub("", part.strip(" .!?\"'")).strip(" .!?\"'")
        if len(place) >= 3 and place.lower() not in (p.lower() for p in places):
            places.append(place[:MAX_PHRASE_CHARS])
    return places


def touchpoints_in_own_words(text: str, knowledge: Optional[Knowledge] = None) -> List[str]:
    """What to keep for an answer the vocabulary does not know: the nearest known
    touchpoint ids first, then each place as said."""
    kept: List[str] = []
    for place in places_as_said(text):
        nearest = nearest_touchpoints(place, knowledge)
        kept += nearest
        if not (nearest and len(tokens(place)) == 1):  # a one-word typo ("websit") is just the touchpoint
            kept.append(place)
    return list(dict.fromkeys(kept))


def scale_check(scale: Scale) -> Optional[str]:
    """One line that says what the coach understood of numbers it is unsure of, for the founder to correct."""
    if not scale.approximate or not scale.facts():
        return None
    return f"I understood {scale.summary()}: right? If not, just tell me the numbers."
