"""Intents: Rasa 3.6's LogisticRegressionClassifier, safe with empty and huge messages.

Rasa's component hands scikit-learn a matrix with no columns for a message
without words (an empty or blank message) and the whole turn fails. A message
over the coach's length limit gets an arbitrary intent ("You're welcome!" for
20,000 x's). Here both get no intent with confidence 0, so the FallbackClassifier
marks them nlu_fallback: the coach's fallback asks to sum a long message up, and
a form's validation does the same, so no action reads them as a command.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.coach.conversation import MAX_MESSAGE_CHARS

NO_INTENT = {"name": None, "confidence": 0.0}


def has_features(message: Message) -> bool:
    sparse, dense = message.get_sparse_features(TEXT)[1], message.get_dense_features(TEXT)[1]
    return any(features is not None and features.features.shape[-1] > 0 for features in (sparse, dense))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class IntentClassifier(LogisticRegressionClassifier):
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
