"""Finds vocabulary phrases in free text, with where they are.

One matcher for all of the coach's vocabulary (relationship types, touchpoints,
KPIs, the answers to closed questions): case-, hyphen-, space- and
plural-tolerant, longest phrase first, so "dedicated personal assistance" is not
also read as "personal assistance", and "Co-Creations" is "co creation".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Dict, Iterable, List, Tuple

_WORD = re.compile(r"[^\W_]+")
CLOSE_ENOUGH = 0.84  # how alike a typed phrase and a known one must be: "reguarly" is "regularly"
MIN_FUZZY_CHARS = 4  # shorter phrases ("no", "faq") are matched exactly or not at all


@dataclass(frozen=True)
class PhraseMatch:
    value: str  # what the phrase means: an id or a canonical answer
    start: int  # character offsets in the text
    end: int


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str) -> List[str]:
    """Lower-case words without punctuation, plurals folded: 'Co-Creations' -> ['co', 'creation']."""
    return [_singular(w) for w in _WORD.findall(text.lower())]


def variants(phrase: str) -> List[Tuple[str, ...]]:
    """A phrase as words, and glued together, so 'co-creation' also matches 'cocreation'."""
    words = tuple(tokens(phrase))
    if not words:
        return []
    return [words, ("".join(words),)] if len(words) > 1 else [words]


class PhraseMatcher:
    def __init__(self, phrases: Dict[Tuple[str, ...], str]):
        """phrases: word tuples (from variants()) -> the value they mean."""
        self.phrases = phrases
        self.longest = max((len(p) for p in phrases), default=0)

    @classmethod
    def from_table(cls, table: Dict[str, Iterable[str]]) -> "PhraseMatcher":
        """value -> its phrases; the first value to claim a phrase keeps it."""
        index: Dict[Tuple[str, ...], str] = {}
        for value, phrases in table.items():
            for phrase in phrases:
                for key in variants(str(phrase)):
                    index.setdefault(key, value)
        return cls(index)

    def find(self, text: str) -> List[PhraseMatch]:
        """Every match, left to right, without overlaps."""
        spans = [(_singular(m.group(0).lower()), m.start(), m.end()) for m in _WORD.finditer(text or "")]
        words = [w for w, _, _ in spans]
        found: List[PhraseMatch] = []
        i = 0
        while i < len(words):
            for size in range(min(self.longest, len(words) - i), 0, -1):
                hit = self.phrases.get(tuple(words[i : i + size]))
                if hit:
                    found.append(PhraseMatch(hit, spans[i][1], spans[i + size - 1][2]))
                    i += size
                    break
            else:
                i += 1
        return found

    def find_all(self, text: str) -> List[str]:
        """The distinct values mentioned, in order."""
        return list(dict.fromkeys(m.value for m in self.find(text)))

    def find_close(self, text: str, cutoff: float = CLOSE_ENOUGH) -> List[str]:
        """The values of the known phrases most like the text's words, for a typo no exact
        match reads ("quik help", "reguarly"): each run of the text's words as long as a
        phrase is compared with it, spaces ignored. Only the best match counts; two values
        equally close mean the text is ambiguous, and nothing is returned."""
        words = [w for w in tokens(text) if len(w) > 1]  # the "s" of "that's" is no word to match
        best, values = cutoff, set()
        for phrase, value in self.phrases.items():
            glued = "".join(phrase)
            if len(glued) < MIN_FUZZY_CHARS:
                continue
            for size in {len(phrase), len(phrase) + 1, max(len(phrase) - 1, 1)}:
                for i in range(0, max(len(words) - size + 1, 0)):
                    ratio = SequenceMatcher(None, glued, "".join(words[i : i + size])).ratio()
                    if ratio > best + 1e-9:
                        best, values = ratio, {value}
                    elif abs(ratio - best) <= 1e-9 and ratio > cutoff:
                        values.add(value)
        return sorted(values) if len(values) == 1 else []
