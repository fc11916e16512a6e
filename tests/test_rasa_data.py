"""Rasa's own checks of the assistant: the training data validates, and the
trained model takes every step of the recorded conversations in tests/stories,
and of those saved from the review dashboard ("Save as test"), reading their
founders' words as the stories say (--e2e: conversation tests, test_*.yml)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from deploy.launchers import MODEL, ROOT

RASA = str(Path(sys.executable).parent / "rasa")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}

# Rasa 3.6 does not see that a form asks its questions through utter_ask_<slot>
# responses, and warns that they are unused. Nothing else may warn.
EXPECTED_WARNING = re.compile(r"The utterance 'utter_ask_\w+' is not used in any story or rule\.")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RASA, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=900)


def test_training_data_validates_clean():
    result = run("data", "validate")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = [line for line in output.splitlines() if "UserWarning:" in line]
    unexpected = [w for w in warnings if not EXPECTED_WARNING.search(w)]
    assert not unexpected, "\n".join(unexpected)
    assert "No story structure conflicts found" in output


def test_recorded_conversations_are_predicted_without_errors(tmp_path):
    stories = sorted((ROOT / "tests" / "stories").glob("test_*.yml"))
    assert len(stories) >= 5, "happy path, edits, digressions, fallbacks and session stories"
    result = run(
        "test",
        "core",
        "--model",
        str(MODEL),
        "--stories",
        "tests/stories",
        "--out",
        str(tmp_path),
        "--fail-on-prediction-errors",
        "--no-plot",
        "--e2e",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert "None of the test stories failed" in (tmp_path / "failed_test_stories.yml").read_text()


def test_every_button_payload_reaches_the_founder_as_a_valid_intent_and_entities():
    # Rasa fills {placeholders} in responses, so JSON in a payload has to double its braces.
    import json

    import yaml
    from rasa.core.nlg.interpolator import interpolate_text

    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    slots = {name: None for name in domain["slots"]}
    payloads = [
        button["payload"]
        for variants in domain["responses"].values()
        for variant in variants
        for button in variant.get("buttons", [])
    ]
    # The segment questions' buttons come from interview.yml through the ask actions,
    # which Rasa sends as they are (no {placeholder} filling).
    from bot.coach.knowledge import load_knowledge

    asked = [b["payload"] for q in load_knowledge().interview.segment.values() for b in q.buttons()]
    assert len(payloads) + len(asked) >= 15
    for raw in asked:
        match = re.fullmatch(r"/(\w+)(\{.*\})?", raw)
        if match is None:
            assert "{" not in raw, raw
            continue
        assert match.group(1) in domain["intents"], raw
        assert set(json.loads(match.group(2) or "{}")) <= set(domain["entities"]), raw
    for raw in payloads:
        sent = interpolate_text(raw, slots)
        match = re.fullmatch(r"/(\w+)(\{.*\})?", sent)
        if match is None:  # a plain answer, typed for the founder
            assert "{" not in sent, raw
            continue
        assert match.group(1) in domain["intents"], raw
        if match.group(2):  # single braces would be sent unchanged too, after an ERROR in the log
            assert raw.startswith(f"/{match.group(1)}{{{{") and raw.endswith("}}"), raw
        entities = json.loads(match.group(2) or "{}")
        assert set(entities) <= set(domain["entities"]), raw


def test_a_session_start_rasa_ran_by_itself_is_no_step_of_a_recorded_story():
    """The rules start a session after each segment (a step the policies predict); a long
    session starts afresh before a message (bot/plugins/patches/long_sessions.py), which no
    policy predicts: a story that wrote it as a step would fail `rasa test`."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

    from bot.plugins.test_stories import SessionStartStep, story_events

    listen, start = ActionExecuted("action_listen"), "action_session_start"
    events = [
        ActionExecuted(start),
        SessionStarted(),
        listen,
        UserUttered("hi"),
        ActionExecuted("segment_form"),
        listen,
        ActionExecuted(start),  # a long session, started afresh before the next message
        SessionStarted(),
        SlotSet("stage", "segments"),
        ActionExecuted("action_listen"),
        UserUttered("keep them"),
        ActionExecuted("action_save_segment"),
        ActionExecuted(start),  # the rules' session start after a segment
        SessionStarted(),
        SlotSet("stage", "more_segments"),
        ActionExecuted("action_listen"),
    ]
    kept = story_events(events)
    steps = [e for e in kept if isinstance(e, SessionStartStep)]
    at = next(i for i, e in enumerate(kept) if e is steps[0])
    assert len(steps) == 1 and kept[at - 1].action_name == "action_save_segment"
    assert [e.text for e in kept if isinstance(e, UserUttered)] == ["hi", "keep them"]
    assert not any(isinstance(e, SlotSet) for e in kept), "the carried slots restate the story's"
