"""bot.rasa_server: the action server's answers are checked as strictly as Rasa
3.6 checks them, with the schema compiled once."""
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_server

GOOD = {"events": [{"event": "slot", "name": "stage", "value": "review", "timestamp": None},
                   {"event": "session_started"}, {"event": "action", "name": "action_listen"}],
        "responses": [{"text": "Saved.", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]}
BAD = [
    {"events": [{"name": "stage", "value": "review"}]},  # an event without its type
    {"events": [{"event": "no_such_event"}]},
    {"events": {"event": "slot"}},  # events not a list
    {"responses": "Saved."},
]


@pytest.fixture(autouse=True)
def installed():
    rasa_server.install()
    yield


def test_install_replaces_rasas_check_once():
    rasa_server.install()  # twice: still one layer
    assert RemoteAction._validate_action_result is rasa_server.validate_action_answer
    assert RemoteAction._rasa_validate_action_result is not rasa_server.validate_action_answer


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
