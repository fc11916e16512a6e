"""Intents: Rasa 3.6's LogisticRegressionClassifier, safe with empty and huge messages, quick to load.

Rasa's component hands scikit-learn a matrix with no columns for a message
without words (an empty or blank message) and the whole turn fails. A message
over the coach's length limit gets an arbitrary intent ("You're welcome!" for
20,000 x's). Here both get no intent with confidence 0, so the FallbackClassifier
marks them nlu_fallback: the coach's fallback asks to sum a long message up, and
a form's validation does the same, so no action reads them as a command.

Rasa stores the classifier with skops, and loading it took 7.7 s of the Rasa
server's 11.6 s cold start (docs/benchmarks.md). Not the file (2 MB, read in 10 ms):
importing skops.io builds its list of trusted scikit-learn types by looking each of
765 types up in every module loaded (skops.io._utils.whichmodule), and in a Rasa
process, with TensorFlow loaded, that is over a million lookups. Here the fitted
model is its arrays (weights, intercepts, classes) in a NumPy .npz file, read with
allow_pickle=False, so loading runs no code from the file, as with skops, and
imports nothing. A model trained before this change (a .skops file) still loads,
through Rasa's own way.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.coach.conversation import MAX_MESSAGE_CHARS

NO_INTENT = {"name": None, "confidence": 0.0}

# What a fitted LogisticRegression is, besides its settings (which __init__ sets from the config).
FITTED = ("coef_", "intercept_", "classes_", "n_iter_", "n_features_in_")


def has_features(message: Message) -> bool:
    sparse, dense = message.get_sparse_features(TEXT)[1], message.get_dense_features(TEXT)[1]
    return any(features is not None and features.features.shape[-1] > 0 for features in (sparse, dense))


class UnsafeModelFile(RuntimeError):
    """The stored classifier holds more than plain arrays: it is not loaded."""


def read_arrays(path: Any) -> Dict[Text, Any]:
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in FITTED}
    except ValueError as error:  # objects in the file, which would need pickle to read
        raise UnsafeModelFile(f"{path.name} is not a file of plain arrays: {error}") from None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class IntentClassifier(LogisticRegressionClassifier):
    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            arrays = {name: np.asarray(getattr(self.clf, name)) for name in FITTED}
            arrays["classes_"] = arrays["classes_"].astype(str)  # fit() leaves text; never objects (pickle)
            np.savez_compressed(model_dir / f"{self._resource.name}.npz", **arrays)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "IntentClassifier":
        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / f"{resource.name}.npz"
                if not path.exists():  # trained before: Rasa's skops file
                    return super().load(config, model_storage, resource, execution_context, **kwargs)
                fitted = read_arrays(path)
        except ValueError:  # no resource: untrained, as Rasa's own load does
            return cls.create(config, model_storage, resource, execution_context)
        component = cls(config, execution_context.node_name, model_storage, resource)
        fitted["n_features_in_"] = int(fitted["n_features_in_"])
        for name, value in fitted.items():
            setattr(component.clf, name, value)
        return component

    def process(self, messages: List[Message]) -> List[Message]:
        worded, wordless = [], []
        for message in messages:
            readable = has_features(message) and len(message.get(TEXT) or "") <= MAX_MESSAGE_CHARS
            (worded if readable else wordless).append(message)
        if worded:
            super().process(worded)
        for message in wordless:
            message.set(INTENT, dict(NO_INTENT), add_to_output=True)
            message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
