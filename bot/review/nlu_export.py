"""`python -m bot nlu export`: the inbox's corrections as Rasa training data in
data/nlu/reviewed.yml. What would add nothing or do harm is reported, not written:
a text already in the training data with the same intent (a duplicate), with
another intent (a conflict to settle by hand), or in the held-out set (a leak:
the benchmark would then test on what the model trained on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from bot.review import inbox
from bot.review.db import ReviewDB
from bot.review.nlu_data import HELDOUT, NLU_DIR, REVIEWED, Example, load_examples, normalise, to_yaml, training_files


@dataclass
class Report:
    written: List[Example] = field(default_factory=list)
    duplicates: List[Example] = field(default_factory=list)
    conflicts: List[tuple] = field(default_factory=list)  # (example, the training data's intents)
    leaks: List[Example] = field(default_factory=list)

    def lines(self, out: Path) -> List[str]:
        result = [f"wrote {len(self.written)} example(s) to {out}"]
        for e in self.duplicates:
            result.append(f"duplicate (already in the training data as {e.intent}): {e.text}")
        for e, intents in self.conflicts:
            result.append(
                f"conflict (corrected as {e.intent}, in the training data as {', '.join(sorted(intents))}): {e.text}"
            )
        for e in self.leaks:
            result.append(f"leak (in the held-out set {HELDOUT.name}, not written): {e.text}")
        return result


def export(
    db: ReviewDB,
    out: Path = REVIEWED,
    nlu_dir: Path = NLU_DIR,
    heldout: Optional[Path] = HELDOUT,
) -> Report:
    training = load_examples(training_files(nlu_dir, leave_out=out))
    held = load_examples([heldout]) if heldout is not None and heldout.exists() else None
    report = Report()
    for example in inbox.training_examples(db):
        key = normalise(example.text)
        if held is not None and key in held.by_key:
            report.leaks.append(example)
        elif key in training.by_key:
            intents = training.by_key[key]
            if intents == {example.intent}:
                report.duplicates.append(example)
            else:
                report.conflicts.append((example, intents - {example.intent} or intents))
        else:
            report.written.append(example)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".yml.tmp")
    tmp.write_text(to_yaml(report.written), encoding="utf-8")
    tmp.replace(out)
    return report
