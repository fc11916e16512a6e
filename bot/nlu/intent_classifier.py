"""Intents: Rasa 3.6's LogisticRegressionClassifier, safe with empty messages.

Rasa's component hands scikit-learn a matrix with no columns for a message
without words (an empty or blank message) and the whole turn fails. Here such a
message gets no intent with confidence 0, so the FallbackClassifier marks it
nlu_fallback and the coach answers it like any message it did not understand.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

NO_INTENT = {"name": None, "confidence": 0.0}


def has_features(message: Message) -> bool:
    sparse, dense = message.get_sparse_features(TEXT)[1], message.get_dense_features(TEXT)[1]
    return any(features is not None and features.features.shape[-1] > 0 for features in (sparse, dense))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class IntentClassifier(LogisticRegressionClassifier):
    def process(self, messages: List[Message]) -> List[Message]:
        worded, wordless = [], []
        for message in messages:
            (worded if has_features(message) else wordless).append(message)
        if worded:
            super().process(worded)
        for message in wordless:
            message.set(INTENT, dict(NO_INTENT), add_to_output=True)
            message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
