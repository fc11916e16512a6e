"""The trained NLU, loaded as the Rasa server loads it: messages without words, and
messages over the coach's length limit, get nlu_fallback (the coach then asks again
or asks to sum up), never an error or a command."""

import asyncio

import pytest
from rasa.core.agent import Agent

from deploy.launchers import MODEL


@pytest.fixture(scope="module")
def parse():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make test` trains it before the tests run")
    agent = Agent.load(str(MODEL))
    return lambda text: asyncio.run(agent.parse_message(text))


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?!", "...", "x" * 20_000, "thanks! " * 300])
def test_a_message_without_words_or_too_long_is_not_understood_and_does_not_fail(parse, text):
    result = parse(text)
    assert result["intent"]["name"] == "nlu_fallback"


@pytest.mark.parametrize("text, intent", [("hello", "greet"), ("what is co-creation?", "ask_definition")])
def test_worded_messages_are_still_classified(parse, text, intent):
    result = parse(text)
    assert result["intent"]["name"] == intent
    assert result["intent_ranking"], "a ranking for worded messages"
