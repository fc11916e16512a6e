"""Rasa's NLU training data as the inbox and `python -m bot nlu export` need it:
the domain's intents and entities, the examples of data/nlu/ and of the held-out
set (tests/nlu/heldout.yml) with their annotations stripped, a message's text
normalised (how the inbox groups identical messages, and how the export finds a
text already there), and reviewed examples written back as Rasa YAML."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "domain.yml"
NLU_DIR = ROOT / "data" / "nlu"
REVIEWED = NLU_DIR / "reviewed.yml"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
MAX_KEY = 255

# [text](entity), [text](entity:value), [text]{"entity": ..., "value": ...}
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """Case, punctuation and spaces folded: "We sell to BANKS!!" and "we sell to banks" are one text."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    kept = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text)
    return " ".join(kept.split())[:MAX_KEY]


def plain(example: str) -> str:
    """An example's text without its entity annotations."""
    return ANNOTATION.sub(lambda m: m.group(1), example)


@dataclass
class Domain:
    intents: List[str]
    entities: List[str]


def load_domain(path: Path = DOMAIN) -> Domain:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    intents = [i if isinstance(i, str) else next(iter(i)) for i in data.get("intents") or []]
    entities = [e if isinstance(e, str) else next(iter(e)) for e in data.get("entities") or []]
    return Domain(sorted(intents), sorted(entities))


@dataclass
class Examples:
    """Normalised text -> the intents it is an example of, and which intents carry entities."""

    by_key: Dict[str, Set[str]] = field(default_factory=dict)
    entities_of: Dict[str, Set[str]] = field(default_factory=dict)

    def add(self, intent: str, example: str) -> None:
        self.by_key.setdefault(normalise(plain(example)), set()).add(intent)
        for match in ANNOTATION.finditer(example):
            entity = _entity_name(match.group(0)[len(match.group(1)) + 2 :])
            if entity:
                self.entities_of.setdefault(intent, set()).add(entity)


def _entity_name(annotation: str) -> Optional[str]:
    annotation = annotation.strip()
    if annotation.startswith("("):
        return annotation[1:-1].split(":")[0].strip() or None
    try:
        value = json.loads(annotation)
    except ValueError:
        return None
    return value.get("entity") if isinstance(value, dict) else None


def load_examples(paths: Iterable[Path]) -> Examples:
    """The examples of Rasa YAML NLU files (intents only; synonyms, regexes and lookups are not examples)."""
    examples = Examples()
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            if not isinstance(item, dict) or "intent" not in item:
                continue
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.add(str(item["intent"]), line[2:].strip())
    return examples


def training_files(nlu_dir: Path = NLU_DIR, leave_out: Optional[Path] = None) -> List[Path]:
    return sorted(p for p in nlu_dir.glob("*.yml") if leave_out is None or p.resolve() != leave_out.resolve())


# --- writing ---------------------------------------------------------------------------


# Rasa reads "[words](entity)", "[words]{...}" and "[words][...]" as entity marks. A
# founder who typed that (a Markdown link, say) must not add a mark to the training data:
# a space after the "]" keeps the words and makes them plain text.
_MARK_LIKE = re.compile(r"\](?=[({\[])")


def inert(text: str) -> str:
    return _MARK_LIKE.sub("] ", text)


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: Tuple[Tuple[int, int, str, str], ...] = ()  # (start, end, entity, value)

    def annotated(self) -> str:
        """The text with its entities marked as Rasa reads them, and nothing else marked."""
        out, at = [], 0
        for start, end, entity, value in sorted(self.entities):
            out.append(inert(self.text[at:start]))
            span = self.text[start:end]
            if "[" in span or "]" in span:  # a mark cannot hold brackets: the words stay, unmarked
                out.append(inert(span))
            elif value == span:
                out.append(f"[{span}]({entity})")
            else:
                out.append(f"[{span}]{json.dumps({'entity': entity, 'value': value})}")
            at = end
        out.append(inert(self.text[at:]))
        return "".join(out)


HEADER = """\
# Founders' messages the coach misread, labelled by coordinators in the review
# dashboard's inbox (/review/inbox). Written by `python -m bot nlu export`: do not
# edit by hand, correct in the inbox and export again. `make train` reads it like
# every other file here. Texts already in the training data or in the held-out set
# (tests/nlu/heldout.yml) are left out; the export says which.
"""


def to_yaml(examples: Sequence[Example]) -> str:
    by_intent: Dict[str, List[str]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(example.annotated())
    lines = [HEADER, 'version: "3.1"', "", "nlu:"]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        for text in sorted(set(by_intent[intent]), key=lambda t: (t.casefold(), t)):
            lines.append(f"    - {text}")
    if not by_intent:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"
