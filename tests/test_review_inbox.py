"""The inbox's plain Python, without a server: which founder messages it lists and
how it groups them, correcting a group (roles, cohorts, entities, undo, "not a
training example", editing the text), a deleted founder's corrections going with
them, and `python -m bot nlu export` with its duplicate, conflict and leak reports."""

from __future__ import annotations

import json
import sqlite3
import textwrap

import pytest
import yaml

from bot.review import inbox
from bot.review.inbox import Forbidden
from bot.review.nlu_data import Example, load_domain, normalise, to_yaml
from bot.review.nlu_export import export
from bot.review.queries import BadRequest, NotFound
from deploy import review_events as ev
from tests.review_fixtures import SECRET, db, model, tracker_path, users  # noqa: F401 (fixtures)

PASSWORD = "correct horse battery"
DOMAIN = load_domain()


def account(users, name, role, cohorts=()):
    users.add(name, PASSWORD, role, list(cohorts))
    return users.account(users.sign_in(name, PASSWORD, "1.2.3.4"))


def founder(sender, cohort, *messages, start=1000.0):
    """A conversation of founder messages: (text, intent, confidence[, ranking])."""
    rows = [ev.slot(sender, start, "session_started_metadata", {"cohort": cohort})]
    for i, (text, intent, confidence, *ranking) in enumerate(messages):
        rows.append(
            ev.user(sender, start + i + 1, text, intent, confidence, cohort, ranking=ranking[0] if ranking else ())
        )
        rows.append(ev.bot(sender, start + i + 1.5, "**Noted.** What else?"))
    return rows


@pytest.fixture
def seeded(tracker_path, model):
    ev.insert(
        tracker_path,
        founder(
            "s1",
            "SPRING",
            ("How do I keep my customers?!", "nlu_fallback", 0.31, [("ask_advice", 0.28), ("inform", 0.2)]),
            ("we sell to banks", "inform", 0.99),
            ("/affirm", "affirm", 0.2),
        )
        + founder("s2", "SPRING", ("how do i keep my   customers", "ask_why", 0.52), ("zzz qqq", "nlu_fallback", 0.3))
        + founder("s3", "SPRING", ("HOW DO I KEEP MY CUSTOMERS", "nlu_fallback", 0.4), start=2000.0)
        + founder("f1", "FALL", ("how do i keep my customers", "nlu_fallback", 0.35), ("mostly gen z", "inform", 0.5)),
    )
    model.update()
    return model


def keys(groups):
    return [(g.key, g.count) for g in groups]


def test_normalising_folds_case_punctuation_and_spaces():
    assert normalise("  How do I keep my customers?! ") == normalise("how do i keep my   customers") != ""
    assert normalise("We’re B2B, 20 banks.") == "we re b2b 20 banks"


def test_the_inbox_groups_fallbacks_low_confidence_and_flags_most_frequent_first(seeded, users, db, tracker_path):
    admin = account(users, "root", "admin")
    groups = inbox.groups(db, admin)
    assert keys(groups)[0] == ("how do i keep my customers", 4)
    # confident messages and button payloads are not in it
    assert {g.key for g in groups} == {"how do i keep my customers", "zzz qqq", "mostly gen z"}
    top = groups[0]
    assert top.intent == "nlu_fallback" and top.confidence == pytest.approx(0.31)
    assert {(o.sender_id, o.cohort) for o in top.occurrences} == {
        ("s1", "SPRING"),
        ("s2", "SPRING"),
        ("s3", "SPRING"),
        ("f1", "FALL"),
    }
    # the runner-ups: the intents ranked after the one read
    assert top.runner_ups == [("ask_advice", 0.28), ("inform", 0.2)]
    # a flagged confident message comes in
    from bot.review import queries

    confident = next(m for m in transcript_rows(tracker_path, "s1") if m[1] == "we sell to banks")
    queries.set_flag(db, admin, "s1", confident[0], True)
    assert "we sell to banks" in {g.key for g in inbox.groups(db, admin)}


def transcript_rows(path, sender):
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT id, json_extract(data, '$.text') FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)
        ).fetchall()


def test_a_coordinator_sees_and_corrects_only_their_cohorts(seeded, users, db):
    cora = account(users, "cora", "coordinator", ["SPRING"])
    fred = account(users, "fred", "coordinator", ["FALL"])
    assert keys(inbox.groups(db, cora)) == [("how do i keep my customers", 3), ("zzz qqq", 1)]
    with pytest.raises(NotFound):  # FALL's own group is a 404 to SPRING
        inbox.correct(db, cora, "mostly gen z", "inform", DOMAIN)
    # one click labels the whole group, but only the cohort's messages
    assert inbox.correct(db, cora, "how do i keep my customers", "ask_advice", DOMAIN) == 3
    assert keys(inbox.groups(db, cora)) == [("zzz qqq", 1)]
    assert sorted(keys(inbox.groups(db, fred))) == [("how do i keep my customers", 1), ("mostly gen z", 1)]
    done = inbox.groups(db, cora, done=True)
    assert done[0].corrected_intent == "ask_advice" and done[0].corrected_by == "cora" and done[0].corrected_at > 0
    with pytest.raises(NotFound):  # SPRING's corrections cannot be undone from FALL
        inbox.undo(db, fred, "how do i keep my customers")


def test_mentors_read_the_inbox_but_cannot_correct(seeded, users, db):
    mo = account(users, "mo", "mentor", ["SPRING"])
    assert keys(inbox.groups(db, mo))[0] == ("how do i keep my customers", 3)
    with pytest.raises(Forbidden):
        inbox.correct(db, mo, "how do i keep my customers", "ask_advice", DOMAIN)
    with pytest.raises(Forbidden):
        inbox.correct(db, mo, "zzz qqq", None, DOMAIN)
    with pytest.raises(Forbidden):
        inbox.undo(db, mo, "zzz qqq")


def test_undo_and_not_a_training_example(seeded, users, db):
    cora = account(users, "cora", "coordinator", ["SPRING"])
    inbox.correct(db, cora, "zzz qqq", None, DOMAIN)
    assert "zzz qqq" not in {g.key for g in inbox.groups(db, cora)}
    done = inbox.groups(db, cora, done=True)
    assert done[0].ignored and done[0].corrected_intent is None
    assert inbox.training_examples(db) == []  # noise is never exported
    assert inbox.undo(db, cora, "zzz qqq") == 1
    assert "zzz qqq" in {g.key for g in inbox.groups(db, cora)}
    with pytest.raises(NotFound):
        inbox.undo(db, cora, "zzz qqq")


def test_intents_and_entities_come_from_the_domain_and_the_message(seeded, users, db):
    fred = account(users, "fred", "coordinator", ["FALL"])
    with pytest.raises(BadRequest):
        inbox.correct(db, fred, "mostly gen z", "no_such_intent", DOMAIN)
    with pytest.raises(BadRequest):
        inbox.correct(db, fred, "mostly gen z", "inform", DOMAIN, [{"entity": "market", "value": "banks"}])
    with pytest.raises(BadRequest):
        inbox.correct(db, fred, "mostly gen z", "inform", DOMAIN, [{"entity": "colour", "value": "gen z"}])
    inbox.correct(db, fred, "mostly gen z", "inform", DOMAIN, [{"entity": "market", "value": "GEN Z"}])
    (example,) = inbox.training_examples(db)
    assert example.annotated() == "mostly [gen z](market)"


def test_a_corrections_text_can_be_edited_before_export(seeded, users, db):
    fred = account(users, "fred", "coordinator", ["FALL"])
    inbox.correct(db, fred, "mostly gen z", "inform", DOMAIN, [{"entity": "market", "value": "gen z"}])
    with pytest.raises(BadRequest):  # the marked words must stay
        inbox.edit_text(db, fred, "mostly gen z", "mostly students", DOMAIN)
    inbox.edit_text(db, fred, "mostly gen z", "mainly  gen z", DOMAIN)
    (example,) = inbox.training_examples(db)
    assert example.annotated() == "mainly [gen z](market)"
    with pytest.raises(Forbidden):
        inbox.edit_text(db, account(users, "mo", "mentor", ["FALL"]), "mostly gen z", "x gen z", DOMAIN)


def test_a_deleted_founder_takes_their_corrections_with_them(seeded, users, db, tracker_path, model):
    admin = account(users, "root", "admin")
    inbox.correct(db, admin, "how do i keep my customers", "ask_advice", DOMAIN)
    assert len(inbox.training_examples(db)) == 1
    with sqlite3.connect(tracker_path) as conn:
        conn.execute("DELETE FROM events WHERE sender_id IN ('s1', 's2', 's3')")
    model.update(sweep=True)
    with db.read() as conn:
        left = conn.exec_driver_sql("SELECT sender_id FROM review_corrections ORDER BY sender_id").scalars().all()
    assert left == ["f1"]
    # and the export never writes a deleted founder's words, even before the sweep
    with sqlite3.connect(tracker_path) as conn:
        conn.execute("DELETE FROM events WHERE sender_id = 'f1'")
    with db.begin() as conn:
        conn.exec_driver_sql("DELETE FROM rm_conversations WHERE sender_id = 'f1'")
    assert inbox.training_examples(db) == []


@pytest.fixture
def nlu_files(tmp_path):
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "basics.yml").write_text(
        textwrap.dedent(
            """\
            version: "3.1"
            nlu:
            - intent: ask_advice
              examples: |
                - what are common mistakes?
            - intent: inform
              examples: |
                - we sell to [businesses](market)
            """
        )
    )
    heldout = tmp_path / "heldout.yml"
    heldout.write_text('version: "3.1"\nnlu:\n- intent: inform\n  examples: |\n    - mostly Gen Z!\n')
    return nlu, heldout


def test_the_export_writes_sorted_annotated_yaml_and_reports_duplicates_conflicts_and_leaks(
    tracker_path, model, users, db, nlu_files
):
    nlu, heldout = nlu_files
    ev.insert(
        tracker_path,
        founder(
            "a1",
            "SPRING",
            ("What are common mistakes", "nlu_fallback", 0.3),  # a duplicate: same text, same intent
            ("we sell to businesses", "nlu_fallback", 0.3),  # a conflict: there as inform
            ("mostly gen z", "inform", 0.4),  # in the held-out set
            ("the banks renew every year", "nlu_fallback", 0.3),
            ("zebra startups need help", "nlu_fallback", 0.3),
        ),
    )
    model.update()
    admin = account(users, "root", "admin")
    inbox.correct(db, admin, "what are common mistakes", "ask_advice", DOMAIN)
    inbox.correct(db, admin, "we sell to businesses", "ask_advice", DOMAIN)
    inbox.correct(db, admin, "mostly gen z", "inform", DOMAIN)
    inbox.correct(db, admin, "zebra startups need help", "ask_advice", DOMAIN)
    inbox.correct(
        db,
        admin,
        "the banks renew every year",
        "inform",
        DOMAIN,
        [{"entity": "purchase_frequency", "value": "every year"}],
    )
    out = nlu / "reviewed.yml"
    report = export(db, out, nlu, heldout)
    assert [e.text for e in report.duplicates] == ["What are common mistakes"]
    assert [(e.text, sorted(i)) for e, i in report.conflicts] == [("we sell to businesses", ["inform"])]
    assert [e.text for e in report.leaks] == ["mostly gen z"]
    text = out.read_text()
    assert text.startswith("# ") and "python -m bot nlu export" in text
    data = yaml.safe_load(text)
    assert [(i["intent"], i["examples"]) for i in data["nlu"]] == [
        ("ask_advice", "- zebra startups need help\n"),
        ("inform", "- the banks renew [every year](purchase_frequency)\n"),
    ]
    lines = report.lines(out)
    assert any(line.startswith("duplicate") for line in lines)
    assert any(line.startswith("conflict") and "ask_advice" in line for line in lines)
    assert any(line.startswith("leak") for line in lines)
    # exported again, the file does not count as training data of its own
    assert [e.text for e in export(db, out, nlu, heldout).written] == [e.text for e in report.written]


def test_the_real_held_out_set_is_read_for_leaks(tracker_path, model, users, db, tmp_path):
    from bot.review.nlu_data import HELDOUT, load_examples

    held = load_examples([HELDOUT])
    text = next(k for k in sorted(held.by_key) if k)  # (an emoji-only example folds to nothing)
    ev.insert(tracker_path, founder("h1", "SPRING", (text, "nlu_fallback", 0.2)))
    model.update()
    admin = account(users, "root", "admin")
    intent = sorted(held.by_key[text])[0]
    inbox.correct(db, admin, normalise(text), intent, DOMAIN)
    report = export(db, tmp_path / "reviewed.yml")
    assert [e.text for e in report.leaks] == [text] and report.written == []


def test_the_command_line_exports_and_reports(tracker_path, db, tmp_path, monkeypatch, capsys, users, model):
    from bot.review.cli import main

    ev.insert(tracker_path, founder("c1", "SPRING", ("zebra startups need help", "nlu_fallback", 0.3)))
    model.update()
    inbox.correct(db, account(users, "root", "admin"), "zebra startups need help", "ask_advice", DOMAIN)
    monkeypatch.setenv("REVIEW_DB_URL", str(db.engine.url))
    monkeypatch.setenv("TRACKER_DB", str(tracker_path))
    monkeypatch.delenv("TRACKER_DB_URL", raising=False)
    out = tmp_path / "out" / "reviewed.yml"
    assert main(["nlu", "export", "--out", str(out)]) == 0
    assert "wrote 1 example(s)" in capsys.readouterr().out
    assert "- zebra startups need help" in out.read_text()


def test_a_saved_test_story_carries_the_corrected_intents_and_ends_before_the_first_misreading():
    from bot.plugins.test_stories import NOTHING_TO_SAVE, corrected_events, story_yaml
    from bot.web.review import conversation

    assert conversation.NOTHING_TO_SAVE == NOTHING_TO_SAVE

    def data(row):
        return json.loads(row[5])

    rows = [
        ev.action("t", 1.0, "action_session_start"),
        ev.action("t", 1.0, "action_listen"),
        ev.user("t", 2.0, "hello there", "greet", 0.99),
        ev.action("t", 2.1, "action_greet"),
        ev.action("t", 2.2, "action_listen"),
        ev.user("t", 3.0, "what do founders get wrong", "ask_advice", 0.5),
        ev.action("t", 3.1, "action_advice"),
        ev.action("t", 3.2, "action_listen"),
        ev.user("t", 4.0, "display my board", "nlu_fallback", 0.4),
        ev.action("t", 4.1, "action_coach_fallback"),
    ]
    events = [(i, data(row)) for i, row in enumerate(rows, start=1)]
    # the second message: confirmed as read; the third: read wrongly
    story = yaml.safe_load(story_yaml(corrected_events(events, {6: ("ask_advice", []), 9: ("show_canvas", [])}), "t"))
    steps = story["stories"][0]["steps"]
    assert {"user": "hello there", "intent": "greet"} in steps
    assert {"user": "what do founders get wrong", "intent": "ask_advice"} in steps
    # a story cannot end on the founder's message, and the coach's answer to a misreading is not kept:
    # the story ends before it
    assert steps[-1] == {"action": "action_advice"}
    assert "display my board" not in json.dumps(steps)
    # not a training example: the message stays as it was read
    kept = corrected_events(events, {9: (None, [])})
    assert kept[-1].as_dict()["name"] == "action_coach_fallback"


def test_words_a_founder_typed_like_an_entity_mark_stay_plain_words_for_rasa():
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    typed = 'see [our shop](website), [x]{"entity": "market"} or [a][b] for '
    text = typed + "gen z and [teens](market)"
    marks = ((len(typed), len(typed) + 5, "market", "gen z"), (len(text) - 15, len(text), "market", "x"))
    (read,) = RasaYAMLReader().reads(to_yaml([Example(text, "inform", marks)])).training_examples
    assert [(e["entity"], e["value"]) for e in read.get("entities")] == [("market", "gen z")]
    assert read.get("text") == text.replace("](", "] (").replace("]{", "] {").replace("][", "] [")
