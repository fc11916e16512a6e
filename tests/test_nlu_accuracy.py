"""An accuracy gate: the trained model must keep its intent macro-F1 on the
held-out founder messages (tests/nlu/heldout.yml, written apart from data/nlu).

It runs `rasa test nlu` on the model `make test` trains, as `make bench` does,
and reads the same report; a drop below the gate fails the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.nlu import HELDOUT, read_reports
from deploy.launchers import MODEL, ROOT

MIN_HELDOUT_MACRO_F1 = 0.96  # on a held-out set disjoint from training (tests/test_heldout_disjoint.py)
MIN_INTENT_F1 = 0.90  # every intent
RASA = Path(sys.executable).parent / "rasa"


def test_heldout_intent_macro_f1_stays_above_the_gate(tmp_path):
    assert MODEL.exists(), f"{MODEL} is missing: `make test` trains it before the tests run"
    out = tmp_path / "heldout"
    run = subprocess.run(
        [str(RASA), "test", "nlu", "--model", str(MODEL), "--nlu", str(HELDOUT), "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    intent = read_reports(out)["intent"]
    assert intent["examples"] >= 450, "the held-out set lost its examples"
    worst = ", ".join(f"{w['intent']} {w['f1']}" for w in intent["worst"])
    assert intent["macro_f1"] >= MIN_HELDOUT_MACRO_F1, (
        f"held-out intent macro-F1 {intent['macro_f1']} < {MIN_HELDOUT_MACRO_F1}; weakest: {worst}; "
        f"confusions: {intent.get('top_confusions')}"
    )
    assert intent["min_intent_f1"] >= MIN_INTENT_F1, (
        f"an intent's held-out F1 is below {MIN_INTENT_F1}: {worst}; confusions: {intent.get('top_confusions')}"
    )
