"""The held-out NLU set stays held out (issue 19): no text of tests/nlu/heldout.yml is a
training text of data/nlu/ once case, punctuation, whitespace and emoji are ignored, none
is a near copy of one, and no text carries two labels, in either set or across them."""

from __future__ import annotations

from bench.nlu import compare, heldout_examples, normalise, training_examples

TRAIN = training_examples()
HELD = heldout_examples()


def test_no_heldout_text_is_in_the_training_data():
    found = compare(TRAIN, HELD)
    assert found["equal_once_normalised"] == [], (
        "held-out texts also in data/nlu/ (rewrite the training example, not the held-out one): "
        f"{found['equal_once_normalised']}"
    )
    assert found["near_duplicates"] == [], f"held-out texts nearly copied from data/nlu/: {found['near_duplicates']}"


def test_no_text_has_two_labels():
    assert compare(TRAIN, HELD)["two_labels"] == []


def test_the_sets_are_big_enough_to_mean_something():
    assert len(HELD) >= 450
    per_intent = {intent for intent, _, _ in HELD}
    assert per_intent == {intent for intent, _, _ in TRAIN}, "every intent is tested, and only those"
    for intent in per_intent:
        assert sum(1 for i, _, _ in HELD if i == intent) >= 12, intent


def test_a_bare_confirm_is_a_yes():
    # Settled on purpose: "confirm" is affirm, which also answers "delete everything?"
    # (data/rules/session.yml); confirm_delete is for answers that name the deletion.
    labels = {i for i, t, _ in TRAIN + HELD if normalise(t) == "confirm"}
    assert labels == {"affirm"}


def test_the_check_sees_through_case_punctuation_spacing_and_emoji():
    train = [("greet", "Hello there, coach!", None), ("affirm", "yes", None)]
    copies = [
        ("greet", "hello   there coach 👋", None),
        ("greet", "HELLO THERE... COACH", None),
        ("greet", "[hello](x) there coach", None),
    ]
    found = compare(train, copies)
    assert [t for _, t in found["equal_once_normalised"]] == [t for _, t, _ in copies]
    assert normalise("Self-service!") == normalise("self service 🙂")
    near = compare(train, [("greet", "hello there coachh", None)])
    assert near["near_duplicates"] and not near["equal_once_normalised"]
    relabelled = compare(train, [("deny", "Yes!", None)])
    assert relabelled["two_labels"] == [("yes", ["affirm", "deny"])]
    written_apart = compare(train, [("greet", "hiya, first time here", None)])
    assert not any(written_apart.values())
