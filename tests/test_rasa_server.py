"""bot/plugins/patches/: the patches of Rasa fit this Rasa and are installed once; the
action server's answers are checked as strictly as Rasa 3.6 checks them, with the
schema compiled once; the founder's data actions run in the Rasa server."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.plugins.patches import answer_check, registry

GOOD = {
    "events": [
        {"event": "slot", "name": "stage", "value": "review", "timestamp": None},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
    ],
    "responses": [{"text": "Saved.", "buttons": [{"title": "Yes", "payload": "/affirm"}]}],
}
BAD = [
    {"events": [{"name": "stage", "value": "review"}]},  # an event without its type
    {"events": [{"event": "no_such_event"}]},
    {"events": {"event": "slot"}},  # events not a list
    {"responses": "Saved."},
]


@pytest.fixture(autouse=True)
def installed():
    registry.install()
    yield


def test_install_replaces_rasas_check_once():
    registry.install()  # twice: still one layer
    assert RemoteAction._validate_action_result is answer_check.validate_action_answer
    assert RemoteAction._rasa_validate_action_result is not answer_check.validate_action_answer


def test_a_good_answer_passes():
    assert RemoteAction("action_greet", None)._validate_action_result(GOOD) is True


@pytest.mark.parametrize("answer", BAD)
def test_a_bad_answer_fails_as_in_rasa(answer):
    action = RemoteAction("action_greet", None)
    with pytest.raises(ValidationError) as ours:
        action._validate_action_result(answer)
    with pytest.raises(ValidationError) as rasas:
        RemoteAction._rasa_validate_action_result(action, answer)
    assert str(ours.value) == str(rasas.value)
    assert "Failed to validate Action server response" in ours.value.message


def test_a_new_session_carries_each_slot_once_with_its_latest_value():
    import asyncio

    from rasa.core.actions.action import ActionSessionStart
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from deploy.launchers import ROOT

    domain = Domain.load(str(ROOT / "domain.yml"))
    history = [
        ActionExecuted("action_listen"),
        UserUttered("hi"),
        *[SlotSet("segments", [{"profile": {"name": f"Segment {k}"}, "choices": []}] * k) for k in range(1, 4)],
        SlotSet("venture_name", "Brewbox"),
        SlotSet("stage", "segments"),
        SlotSet("stage", "more_segments"),
        SlotSet("requested_slot", "segment_goal"),
        SlotSet("confirming_delete", False),
    ]
    tracker = DialogueStateTracker.from_events("founder", history, slots=domain.slots)
    before = tracker.current_slot_values()

    events = asyncio.run(
        ActionSessionStart().run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain
        )
    )

    assert isinstance(events[0], SessionStarted) and events[-1] == ActionExecuted("action_listen")
    carried = {e.key: e.value for e in events if isinstance(e, SlotSet)}
    assert len(carried) == len([e for e in events if isinstance(e, SlotSet)]), "each slot once"
    assert carried == {"segments": before["segments"], "venture_name": "Brewbox", "stage": "more_segments"}
    assert len(carried["segments"]) == 3, "the latest value"
    # Nothing the coach remembers is lost: after the new session, the slots are as before
    # (requested_slot aside, which only a running form uses).
    tracker.update_with_events(events, domain)
    after = tracker.current_slot_values()
    assert {k: v for k, v in after.items() if k != "requested_slot"} == {
        k: v for k, v in before.items() if k != "requested_slot"
    }
    assert not any(isinstance(e, UserUttered) for e in tracker.applied_events()), "nothing before it is replayed"
    assert len(tracker.applied_events()) == len(events) - 1


def test_the_check_agrees_with_rasas_on_every_event_the_coach_sends():
    # Every event type of Rasa's schema, valid, plus broken variants: the fast check and
    # Rasa's own must agree on each.
    from jsonschema import validate as rasa_style_validate
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    types = [one["properties"]["event"]["const"] for one in EVENT_SCHEMA["oneOf"]]
    answers = [
        {"events": [{"event": "slot", "name": "segments", "value": [{"profile": {"name": "Banks"}}]}]},
        {"events": [{"event": "action", "name": "action_listen", "policy": None, "confidence": None}]},
        {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}}]},
        {"events": [{"event": "active_loop", "name": None}, {"event": "session_started"}]},
        {"events": [{"event": "slot", "name": 5}]},  # a slot's name must be a string
        {"events": [{"event": "bot", "text": 5}]},
        {"events": [{"event": t} for t in types]},
        {"events": [{"event": "slot", "timestamp": "yesterday"}]},
        {"events": ["slot"]},
        {"events": [], "responses": [{"text": "hi"}, "hi"]},
        *[{"events": [answer]} for answer in BAD[0]["events"]],
    ]
    schema = RemoteAction.action_response_format_spec()
    for answer in answers:
        try:
            rasa_style_validate(answer, schema)
            rasa_says = True
        except ValidationError:
            rasa_says = False
        assert answer_check.answer_is_valid(answer) == rasa_says, answer


def test_the_patches_refuse_another_rasa_version(monkeypatch):
    monkeypatch.setattr(registry, "RASA_VERSION", "3.6.20")
    with pytest.raises(registry.PatchError, match="written for Rasa 3.6.20, this is Rasa 3.6.21"):
        registry.install()


def test_the_patches_refuse_a_changed_member():
    import dataclasses

    changed = [
        dataclasses.replace(patch, source_sha256="0" * 64) if i == 1 else patch
        for i, patch in enumerate(registry.patches())
    ]
    found = registry.problems(changed, registry.RASA_VERSION)
    assert found == ["ActionSessionStart._slot_set_events_from_tracker is not the code the patch was written against"]
    gone = [dataclasses.replace(changed[0], attribute="_no_such_member")]
    assert registry.problems(gone, registry.RASA_VERSION) == ["RemoteAction._no_such_member no longer exists"]
    assert registry.problems(registry.patches(), registry.RASA_VERSION) == []


def test_the_founders_data_actions_run_in_the_rasa_server_and_every_other_on_the_action_server():
    import rasa.core.actions.action as rasa_actions
    from rasa.shared.core.domain import Domain

    from bot.plugins.founder_data import ActionDeleteData, ActionExportData
    from deploy.launchers import ROOT

    domain = Domain.load(str(ROOT / "domain.yml"))
    assert isinstance(rasa_actions.action_for_name_or_text("action_delete_data", domain, None), ActionDeleteData)
    assert isinstance(rasa_actions.action_for_name_or_text("action_export_data", domain, None), ActionExportData)
    assert isinstance(rasa_actions.action_for_name_or_text("action_show_canvas", domain, None), RemoteAction)
