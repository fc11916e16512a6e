"""The intent classifier is stored as plain arrays (bot/plugins/nlu/intent_classifier.py):
it loads back to the same probabilities, runs no code from the file, and loading the
trained model imports no skops (whose import cost 7.7 s of the Rasa server's start)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource

from bot.plugins.nlu.intent_classifier import IntentClassifier, UnsafeModelFile
from deploy.launchers import MODEL, ROOT


def _storage(tmp_path: Path):
    return LocalModelStorage(tmp_path), Resource("intents"), ExecutionContext(GraphSchema({}), node_name="intents")


def test_a_stored_classifier_loads_back_to_the_same_answers(tmp_path):
    storage, resource, context = _storage(tmp_path)
    rng = np.random.RandomState(7)
    features, intents = rng.rand(60, 12), rng.choice(["greet", "affirm", "deny", "ask_why"], 60)
    trained = IntentClassifier.create({}, storage, resource, context)
    trained.clf.fit(features, intents)
    trained.persist()

    stored = list(tmp_path.rglob("*"))
    assert [p.suffix for p in stored if p.is_file()] == [".npz"], "arrays only, no pickle and no skops file"
    loaded = IntentClassifier.load({}, storage, resource, context)
    probe = rng.rand(8, 12)
    assert list(loaded.clf.classes_) == list(trained.clf.classes_)
    assert np.array_equal(loaded.clf.predict_proba(probe), trained.clf.predict_proba(probe))


def test_a_file_with_objects_in_it_is_not_loaded(tmp_path):
    """allow_pickle=False: a model file that would run code when read is refused."""
    storage, resource, context = _storage(tmp_path)
    with storage.write_to(resource) as folder:
        np.savez(folder / "intents.npz", coef_=np.array([object()], dtype=object))
    with pytest.raises(UnsafeModelFile, match="pickle"):
        IntentClassifier.load({}, storage, resource, context)


def test_an_untrained_classifier_loads_as_untrained(tmp_path):
    storage, resource, context = _storage(tmp_path)
    loaded = IntentClassifier.load({}, storage, resource, context)
    assert not hasattr(loaded.clf, "coef_")


def test_the_trained_model_loads_without_skops():
    with tarfile.open(MODEL) as model:
        names = model.getnames()
    assert any(n.endswith(".npz") and "IntentClassifier" in n for n in names), "make train stores arrays"
    assert not any(n.endswith(".skops") for n in names)
    code = (
        "import sys; from rasa.core.agent import Agent; "
        f"agent = Agent.load({str(MODEL)!r}); "
        "assert agent.is_ready(); print('skops' in ' '.join(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "False", "skops was imported"
