"""The review dashboard's plain-Python half, without a server: its migrations,
the read model (summaries, incremental updates, restarts, deletion), the
queries (filters, keyset paging, cohorts, search), exports, transcripts,
passwords, sessions and the sign-in rate limit."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot.review import exports, queries, transcript
from bot.review.auth import AuthError, TooManyAttempts, Users, sign_in_delay
from bot.review.db import alembic_config, include_object
from bot.review.models import Base
from bot.review.queries import Filters, NotFound
from bot.review.read_model import ReadModel, summarize
from bot.review.tracker import TrackerEvents
from deploy import review_events as ev
from tests.review_fixtures import SECRET, db, model, tracker_path, users  # noqa: F401 (fixtures)

PASSWORD = "correct horse battery"


@pytest.fixture
def admin(users):
    users.add("root", PASSWORD, "admin")
    return users.account(users.sign_in("root", PASSWORD, "1.2.3.4"))


@pytest.fixture
def spring(users):
    users.add("cora", PASSWORD, "coordinator", ["SPRING"])
    return users.account(users.sign_in("cora", PASSWORD, "1.2.3.5"))


def rows_of(events):
    """Tracker rows as TrackerEvents returns them: (id, sender, type, ts, intent, action, data)."""
    return [(i, *row) for i, row in enumerate(events, start=1)]


def events_in(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


# --- migrations -----------------------------------------------------------------------


def test_the_migration_builds_exactly_the_models_and_the_fts_index_and_goes_down(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}", future=True)
    with engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "head")
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_object": include_object, "version_table": "review_alembic_version"},
        )
        assert compare_metadata(context, Base.metadata) == []
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables and "messages_fts" in tables
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"review_alembic_version"}
    engine.dispose()


# --- summaries ------------------------------------------------------------------------


def test_a_saved_conversation_is_summarised_with_cohort_stage_choices_and_rules():
    events = rows_of(ev.conversation("ada", 1000.0, "SPRING", turns=8, saved=True, fallback=True))
    s = summarize("ada", events)
    assert (s.cohort, s.channel, s.venture, s.turns) == ("SPRING", "rest", "Brewbox", 8)
    assert s.saved and s.recommended and s.segments == 1 and s.stage == "saved"
    assert s.saved_turns == 8 and s.saved_after_s == pytest.approx(160.0)
    assert s.fallbacks == 1 and s.low_confidence == 1
    assert " b2b-few:dedicated_personal_assistance " in s.choices and " b2b-few:advisory " in s.choices
    founder = [m for m in s.messages if m["speaker"] == "founder"]
    assert len(founder) == 8 and founder[0]["text"] == "hi"


def test_where_an_unfinished_conversation_stopped_is_the_last_question_asked():
    asked = [
        ev.user("bo", 1.0, "hi"),
        ev.slot("bo", 2.0, "stage", "segments"),
        ev.slot("bo", 3.0, "requested_slot", "segment_who"),
        ev.user("bo", 4.0, "banks?"),
    ]
    s = summarize("bo", rows_of(asked))
    assert not s.saved and s.last_question == "segment_who"
    between = asked + [ev.slot("bo", 5.0, "requested_slot", None), ev.slot("bo", 6.0, "stage", "more_segments")]
    assert summarize("bo", rows_of(between)).last_question == "more_segments"


def test_the_cohort_comes_from_the_session_metadata_when_messages_carry_none():
    events = rows_of([ev.slot("x", 1.0, "session_started_metadata", {"cohort": "FALL"}), ev.user("x", 2.0, "hi")])
    assert summarize("x", events).cohort == "FALL"


def test_a_restart_forgets_everything_before_it_and_no_message_is_no_conversation():
    before = ev.conversation("ada", 1000.0, "SPRING", turns=5)
    assert summarize("ada", rows_of(before + [ev.restart("ada", 5000.0)])) is None
    after = summarize("ada", rows_of(before + [ev.restart("ada", 5000.0), ev.user("ada", 5001.0, "fresh start")]))
    assert after.turns == 1 and [m["text"] for m in after.messages] == ["fresh start"]


# --- the read model -------------------------------------------------------------------


def seed(path, count=30, cohorts=("SPRING", "FALL")):
    rows = []
    for n in range(count):
        rows += ev.conversation(
            f"f{n:03d}",
            1_700_000_000.0 + n * 100,
            cohorts[n % len(cohorts)],
            turns=5 + n % 4,
            saved=n % 3 == 0,
            fallback=n % 5 == 0,
            venture=f"Venture {n}",
        )
    ev.insert(path, rows)


def test_rebuild_and_incremental_update_agree(model, tracker_path, admin, db):
    seed(tracker_path, 12)
    assert model.update() == 12
    ev.insert(
        tracker_path,
        [
            ev.user("f003", 1_800_000_000.0, "one more thing about pricing", cohort="FALL"),
            *ev.conversation("new", 1_800_000_100.0, "SPRING"),
        ],
    )
    assert model.update() == 2
    page, _ = queries.conversation_page(db, admin, Filters())
    assert [r["sender_id"] for r in page[:2]] == ["new", "f003"]
    assert [h["sender_id"] for h in queries.search(db, admin, "pricing")] == ["f003"]
    incremental = [(r["sender_id"], r["turns"], r["last_event_id"]) for r in page]
    assert model.rebuild() == 13
    rebuilt, _ = queries.conversation_page(db, admin, Filters())
    assert [(r["sender_id"], r["turns"], r["last_event_id"]) for r in rebuilt] == incremental
    assert [h["sender_id"] for h in queries.search(db, admin, "pricing")] == ["f003"]


def test_a_deleted_founder_is_gone_from_list_search_and_export(model, tracker_path, admin, db):
    seed(tracker_path, 6)
    ev.insert(tracker_path, ev.conversation("doomed", 1_800_000_000.0, "SPRING", first_text="my secret plan zebra"))
    model.update()
    queries.add_note(db, admin, "doomed", "call back")
    assert queries.search(db, admin, "zebra")
    with sqlite3.connect(tracker_path) as conn:  # what the Rasa server's delete does
        conn.execute("DELETE FROM events WHERE sender_id = 'doomed'")
    model.update(sweep=True)
    listed = queries.all_conversations(db, admin, Filters())
    assert "doomed" not in {r["sender_id"] for r in listed} and len(listed) == 6
    assert queries.search(db, admin, "zebra") == []
    assert "doomed" not in exports.to_csv(exports.export_rows(listed, {}))
    with pytest.raises(NotFound):
        queries.conversation(db, admin, "doomed")
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM review_notes").scalar() == 0
        assert (
            conn.exec_driver_sql("SELECT count(*) FROM messages_fts").scalar()
            == conn.exec_driver_sql("SELECT count(*) FROM rm_messages").scalar()
        )


def test_a_restart_event_purges_the_founders_earlier_words(model, tracker_path, admin, db):
    ev.insert(tracker_path, ev.conversation("ada", 1000.0, "SPRING", first_text="old words aardvark"))
    model.update()
    assert queries.search(db, admin, "aardvark")
    ev.insert(tracker_path, [ev.restart("ada", 9000.0), ev.action("ada", 9000.1, "action_session_start")])
    model.update()
    assert queries.search(db, admin, "aardvark") == []
    assert queries.all_conversations(db, admin, Filters()) == []


def test_what_coordinators_recorded_goes_with_a_restart(model, tracker_path, admin, db):
    ev.insert(tracker_path, ev.conversation("ada", 1000.0, "SPRING"))
    model.update()
    queries.add_note(db, admin, "ada", "about the old conversation")
    queries.add_tag(db, admin, "ada", "old")
    ev.insert(tracker_path, [ev.restart("ada", 9000.0), ev.user("ada", 9001.0, "hello again", cohort="SPRING")])
    model.update()
    again = queries.conversation(db, admin, "ada")
    assert again["turns"] == 1 and again["notes"] == [] and again["tags"] == []


def test_forget_removes_a_founder_at_once(model, tracker_path, admin, db):
    seed(tracker_path, 3)
    model.update()
    model.forget("f001")
    assert {r["sender_id"] for r in queries.all_conversations(db, admin, Filters())} == {"f000", "f002"}


def test_an_emptied_tracker_empties_the_read_model(model, tracker_path, admin, db):
    seed(tracker_path, 3)
    model.update()
    with sqlite3.connect(tracker_path) as conn:
        conn.execute("DELETE FROM events")
    model.update()
    assert queries.all_conversations(db, admin, Filters()) == []


def test_a_missing_tracker_file_reads_as_empty(db, tmp_path, admin):
    tracker = TrackerEvents(f"sqlite:///file:{tmp_path / 'nope.db'}?mode=ro&uri=true")
    assert ReadModel(db, tracker).update(sweep=True) == 0
    assert not (tmp_path / "nope.db").exists()  # read-only: never created


# --- the list: paging, filters, cohorts ----------------------------------------------------


def test_keyset_pages_cover_every_conversation_once_newest_first(model, tracker_path, admin, db):
    seed(tracker_path, 23)
    # Two conversations with the same last activity: the sender id breaks the tie.
    ev.insert(
        tracker_path,
        [
            ev.user("tie-a", 1_900_000_000.0, "hi", cohort="SPRING"),
            ev.user("tie-b", 1_900_000_000.0, "hi", cohort="SPRING"),
        ],
    )
    model.update()
    seen, cursor = [], None
    while True:
        page, cursor = queries.conversation_page(db, admin, Filters(), cursor, size=5)
        seen += page
        if cursor is None:
            break
    assert len(seen) == 25 and len({r["sender_id"] for r in seen}) == 25
    keys = [(r["last_active_at"], r["sender_id"]) for r in seen]
    assert keys == sorted(keys, reverse=True) and seen[0]["sender_id"] == "tie-b"
    with pytest.raises(queries.BadRequest):
        queries.conversation_page(db, admin, Filters(), "not-a-cursor")


def test_every_column_filters(model, tracker_path, admin, db):
    seed(tracker_path, 30)
    ev.insert(tracker_path, ev.conversation("web1", 1_700_000_050.0, "FALL", channel="socketio"))
    model.update()
    queries.add_tag(db, admin, "f004", "Follow up")
    queries.set_reviewed(db, admin, "f005", True)

    def senders(**args):
        return {r["sender_id"] for r in queries.all_conversations(db, admin, Filters.from_args(args))}

    assert senders(cohort="SPRING") == {f"f{n:03d}" for n in range(0, 30, 2)}
    assert senders(channel="socketio") == {"web1"}
    assert senders(founder="Venture 17") == {"f017"}
    assert senders(saved="yes") == {f"f{n:03d}" for n in range(0, 30, 3)}
    assert senders(turns_min="8") == {f"f{n:03d}" for n in range(3, 30, 4)}
    assert senders(turns_max="5") == {f"f{n:03d}" for n in range(0, 30, 4)}
    assert senders(fallbacks_min="1") == {f"f{n:03d}" for n in range(0, 30, 5)}
    assert senders(tag="follow up") == {"f004"}
    assert senders(reviewed="yes") == {"f005"} and "f005" not in senders(reviewed="no")
    assert senders(reached="recommended") == senders() and len(senders()) == 31
    assert senders(chose="b2b-few:advisory") == senders(saved="yes")
    unsaved = queries.all_conversations(db, admin, Filters.from_args({"saved": "no"}))
    stopped = unsaved[0]["last_question"]
    assert stopped and senders(stopped_at=stopped, saved="no") == {
        r["sender_id"] for r in unsaved if r["last_question"] == stopped
    }
    assert senders(started_from="2023-11-14", started_to="2023-11-14") == senders()
    assert senders(active_from="2030-01-01") == set()
    with pytest.raises(queries.BadRequest):
        senders(turns_min="many")
    with pytest.raises(queries.BadRequest):
        senders(started_from="yesterday")


def test_a_coordinator_sees_only_their_cohorts(model, tracker_path, spring, db):
    seed(tracker_path, 10)
    model.update()
    listed = queries.all_conversations(db, spring, Filters())
    assert listed and {r["cohort"] for r in listed} == {"SPRING"}
    for refused in (
        lambda: queries.conversation(db, spring, "f001"),
        lambda: queries.all_conversations(db, spring, Filters.from_args({"cohort": "FALL"})),
        lambda: queries.search(db, spring, "Venture", "FALL"),
        lambda: queries.charts(db, spring, "FALL"),
        lambda: queries.add_tag(db, spring, "f001", "x"),
        lambda: queries.add_note(db, spring, "f001", "x"),
        lambda: queries.set_flag(db, spring, "f001", 1, True),
    ):
        with pytest.raises(NotFound):
            refused()
    hits = queries.search(db, spring, "Venture")
    assert hits and {h["cohort"] for h in hits} == {"SPRING"}


# --- search, charts, review marks -------------------------------------------------------------


def test_search_highlights_hits_and_shows_html_as_text(model, tracker_path, admin, db):
    ev.insert(tracker_path, ev.conversation("x", 1000.0, "SPRING", first_text="<script>alert(1)</script> café"))
    model.update()
    hit = queries.search(db, admin, "script")[0]
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in str(hit["snippet"])
    assert queries.search(db, admin, "cafe")  # diacritics folded
    for odd in ('"', "NEAR(", "a OR", "*", "-x", ")", "' OR 1=1 --"):
        queries.search(db, admin, odd)  # FTS5 syntax in the input is only text
    assert queries.search(db, admin, "   ") == []


def test_charts_count_the_funnel_and_their_bars_open_the_matching_list(model, tracker_path, admin, db):
    seed(tracker_path, 30)
    model.update()
    data = queries.charts(db, admin, "SPRING")
    funnel = {bar["label"]: bar for bar in data["funnel"]}
    assert funnel["Started"]["value"] == 15
    saved = funnel["Saved a block"]
    assert saved["value"] == len(queries.all_conversations(db, admin, Filters.from_args(saved["filters"])))
    for bar in data["stopped"] + data["turns"] + data["minutes"]:
        assert bar["value"] == len(queries.all_conversations(db, admin, Filters.from_args(bar["filters"]))), bar
    for series in data["types"]["series"]:
        for value, filters in zip(series["values"], series["filters"]):
            assert value == len(queries.all_conversations(db, admin, Filters.from_args(filters)))
    assert data["trouble"][0]["label"] == "qwerty zxcv"


def test_tags_flags_notes_and_reviewed_are_shared_and_checked(model, tracker_path, admin, spring, db):
    seed(tracker_path, 4)
    model.update()
    queries.add_tag(db, spring, "f000", "  Needs   Help ")
    queries.add_tag(db, admin, "f000", "needs help")  # the same tag once
    queries.add_note(db, spring, "f000", "<b>called</b>")
    queries.set_flag(db, spring, "f000", 42, True)
    queries.set_reviewed(db, spring, "f000", True)
    seen = queries.conversation(db, admin, "f000")
    assert seen["tags"] == ["needs help"] and seen["flags"] == {42}
    assert seen["notes"][0]["author"] == "cora" and seen["notes"][0]["text"] == "<b>called</b>"
    assert seen["reviewed"][0] == "cora"
    queries.set_reviewed(db, admin, "f000", False)
    queries.remove_tag(db, admin, "f000", "needs help")
    queries.set_flag(db, admin, "f000", 42, False)
    seen = queries.conversation(db, spring, "f000")
    assert not seen["reviewed"] and seen["tags"] == [] and seen["flags"] == set()
    for bad in (
        lambda: queries.add_tag(db, admin, "f000", "<b>"),
        lambda: queries.add_tag(db, admin, "f000", ""),
        lambda: queries.add_note(db, admin, "f000", "  "),
        lambda: queries.add_note(db, admin, "f000", "x" * 5001),
    ):
        with pytest.raises(queries.BadRequest):
            bad()


# --- exports and transcripts ----------------------------------------------------------------


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped():
    assert [exports.csv_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "ok", None, 3)] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        "",
        "3",
    ]


def test_the_csv_export_escapes_a_founders_formula(model, tracker_path, admin, db):
    ev.insert(tracker_path, ev.conversation("evil", 1000.0, "SPRING", venture='=HYPERLINK("http://x","y")'))
    model.update()
    text = exports.to_csv(exports.export_rows(queries.all_conversations(db, admin, Filters()), {}))
    row = list(csv.DictReader(io.StringIO(text)))[0]
    assert row["venture"] == '\'=HYPERLINK("http://x","y")' and row["founder"] == "evil"
    data = json.loads(exports.to_json(exports.export_rows(queries.all_conversations(db, admin, Filters()), {})))
    assert data[0]["venture"].startswith("=HYPERLINK") and data[0]["block"] is None


def test_a_500_turn_transcript_opens_on_its_latest_turns_and_pages_back(tracker_path):
    rows = [ev.user("long", float(n), f"message {n}") for n in range(500)]
    rows += [ev.bot("long", n + 0.5, f"answer {n}") for n in range(500)]
    ev.insert(tracker_path, sorted(rows, key=lambda r: r[2]))
    tracker = TrackerEvents(f"sqlite:///file:{tracker_path}?mode=ro&uri=true")
    page = transcript.page(tracker, "long", 1)
    assert page.entries[-1].text == "answer 499" and page.earlier is not None
    seen = [e.text for e in page.entries]
    while page.earlier:
        page = transcript.page(tracker, "long", 1, page.earlier)
        seen = [e.text for e in page.entries] + seen
    assert seen[0] == "message 0" and len(seen) == 1000
    tracker.close()


def test_the_transcript_shows_intents_low_confidence_steps_and_the_rules_that_fired():
    events = rows_of(ev.conversation("ada", 1000.0, "SPRING", turns=6, fallback=True))
    entries = transcript.entries(events)
    kinds = {e.kind for e in entries}
    assert kinds == {"founder", "coach", "steps"}
    low = [e for e in entries if e.kind == "founder" and e.low_confidence]
    assert [(e.text, e.intent) for e in low] == [("qwerty zxcv", "nlu_fallback")]
    advised = [e for e in entries if e.advice]
    assert advised[0].advice["recommendations"][0]["rules"][0]["id"] == "few_high_value_accounts"
    markdown = transcript.to_markdown(
        {"sender_id": "ada", "venture": "Brewbox", "cohort": "SPRING", "channel": "rest", "turns": 6}, events
    )
    assert "`few_high_value_accounts`" in markdown and "> hi" in markdown


def test_the_markdown_transcript_keeps_a_founders_markup_as_text():
    events = rows_of([ev.user("x", 1.0, "<img src=x onerror=alert(1)> [link](http://evil)")])
    markdown = transcript.to_markdown({"sender_id": "x", "turns": 1}, events)
    assert "\\<img src=x onerror=alert\\(1\\)\\> \\[link\\]\\(http://evil\\)" in markdown


# --- users, passwords, sessions ---------------------------------------------------------------


def test_passwords_are_argon2id_hashes_never_the_password(users, db):
    users.add("Ann", PASSWORD, "coordinator", ["SPRING", "FALL"])
    with db.read() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM review_users").scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert users.sign_in("ann", "wrong password!", "1") is None
    account = users.account(users.sign_in("ANN", PASSWORD, "1"))
    assert account.username == "ann" and account.cohorts == {"SPRING", "FALL"} and len(account.csrf_token) > 30


@pytest.mark.parametrize(
    "args, problem",
    [
        (("x", "short", "admin", []), "at least 10"),
        (("bad name!", PASSWORD, "admin", []), "user name"),
        (("coordinator1", PASSWORD, "coordinator", []), "at least one cohort"),
        (("mentor1", PASSWORD, "owner", ["A"]), "role"),
        (("c1", PASSWORD, "coordinator", ["<script>"]), "cohort"),
    ],
)
def test_bad_users_are_refused_with_a_reason(users, args, problem):
    with pytest.raises(AuthError, match=problem):
        users.add(*args)


def test_a_mentor_is_a_user_with_cohorts(users):
    users.add("mentor1", PASSWORD, "mentor", ["SPRING"])
    assert [(a.username, a.role, set(a.cohorts)) for a in users.list()] == [("mentor1", "mentor", {"SPRING"})]


def test_a_mentors_slack_user_id_is_checked_unique_and_read_back_by_the_slack_app(users, db):
    from bot.review.mentors import DashboardMentors

    mentors = DashboardMentors(str(db.engine.url))
    assert mentors.all() == {}
    users.add("mia", PASSWORD, "mentor", ["SPRING", "FALL"], "<@u0mia>")
    users.add("cora", PASSWORD, "coordinator", ["SPRING"])
    assert {a.username: a.slack_user_id for a in users.list()} == {"mia": "U0MIA", "cora": None}
    assert mentors.all() == {"U0MIA": {"SPRING", "FALL"}} and mentors.cohorts_of("U0NOBODY") is None
    with pytest.raises(AuthError, match="already the mentor 'mia'"):
        users.add("max", PASSWORD, "mentor", ["FALL"], "U0MIA")
    with pytest.raises(AuthError, match="only a mentor"):
        users.set_slack_user("cora", "U0CORA")
    with pytest.raises(AuthError, match="not a Slack member id"):
        users.set_slack_user("mia", "C0CHANNEL")
    users.set_cohorts("mia", ["WINTER"])
    assert mentors.cohorts_of("U0MIA") == {"WINTER"}
    users.set_slack_user("mia", "")
    # The dashboard knew U0MIA: its answer stays, and it is "no access" (a SLACK_MENTORS grant does not come back).
    assert mentors.all() == {"U0MIA": frozenset()} and mentors.cohorts_of("U0MIA") == frozenset()
    users.set_slack_user("mia", "U0MIA")
    assert mentors.cohorts_of("U0MIA") == {"WINTER"}
    users.remove("mia")
    assert mentors.cohorts_of("U0MIA") == frozenset()


def test_a_missing_dashboard_has_no_mentors_and_an_unreadable_one_grants_nothing(tmp_path):
    import sqlite3

    from bot.review.mentors import DashboardMentors

    missing = tmp_path / "none.db"
    assert DashboardMentors(f"sqlite:///{missing}").all() == {} and not missing.exists()  # read-only: not created
    sqlite3.connect(tmp_path / "old.db").execute(
        "CREATE TABLE review_users (id INTEGER PRIMARY KEY)"
    ).connection.close()
    unreadable = DashboardMentors(f"sqlite:///{tmp_path / 'old.db'}")
    assert unreadable.cohorts_of("U1") == frozenset() and not unreadable.readable()


def test_signing_out_kills_the_cookie_even_for_a_kept_copy(users, admin):
    cookie = users.sign_in("root", PASSWORD, "9")
    assert users.account(cookie) is not None
    users.sign_out(cookie)
    assert users.account(cookie) is None


def test_forged_expired_and_garbage_cookies_sign_nobody_in(users, db, admin):
    cookie = users.sign_in("root", PASSWORD, "9")
    assert users.account(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) is None
    assert Users(db, "t" * 40).account(cookie) is None  # another key
    for garbage in (None, "", "x" * 5000, "a.b.c"):
        assert users.account(garbage) is None
    short = Users(db, SECRET, session_hours=1 / 3600)
    cookie = short.sign_in("root", PASSWORD, "9")
    time.sleep(1.2)
    assert short.account(cookie) is None


def test_a_new_password_ends_the_users_sessions(users, admin):
    cookie = users.sign_in("root", PASSWORD, "9")
    users.set_password("root", "another good password")
    assert users.account(cookie) is None
    assert users.sign_in("root", "another good password", "9") is not None


def test_five_failed_sign_ins_for_a_name_lock_it_from_that_address_and_slow_it_elsewhere(users):
    users.add("ann", PASSWORD, "coordinator", ["SPRING"])
    users.add("bea", PASSWORD, "coordinator", ["SPRING"])
    for _ in range(5):
        assert users.sign_in("ann", "nope nope nope", "10.0.0.1") is None
    with pytest.raises(TooManyAttempts):
        users.sign_in("ann", PASSWORD, "10.0.0.1")  # the right password, from the attacker's address: refused
    # From elsewhere, the owner is not locked out: the attempt waits first, then is checked.
    attempt = users.start_sign_in("ann", "10.0.0.2")
    assert attempt.delay_s == sign_in_delay(5) == 1.0
    assert users.account(users.finish_sign_in(attempt, PASSWORD)).username == "ann"
    assert users.sign_in("bea", PASSWORD, "10.0.0.1") is not None  # a colleague at the same office is not


def test_the_wait_for_a_name_under_attack_grows_and_is_bounded():
    assert [sign_in_delay(n) for n in (0, 4, 5, 6, 7, 10)] == [0, 0, 1, 2, 4, 30]


def test_twenty_failures_from_one_address_lock_the_address(users):
    users.add("ann", PASSWORD, "coordinator", ["SPRING"])
    for n in range(20):
        assert users.sign_in(f"guess{n}", "nope nope nope", "10.0.0.9") is None
    with pytest.raises(TooManyAttempts):
        users.sign_in("ann", PASSWORD, "10.0.0.9")
    assert users.sign_in("ann", PASSWORD, "10.0.0.8") is not None


def test_failures_older_than_15_minutes_no_longer_count(users, db):
    users.add("ann", PASSWORD, "coordinator", ["SPRING"])
    for _ in range(5):
        users.sign_in("ann", "nope nope nope", "10.0.0.1")
    with db.begin() as conn:
        conn.exec_driver_sql("UPDATE review_failed_logins SET at = at - 901")
    assert users.sign_in("ann", PASSWORD, "10.0.0.1") is not None


def test_the_dashboards_plain_python_loads_neither_rasa_nor_sanic():
    code = (
        "import importlib, pkgutil, sys, bot.review\n"
        "for m in pkgutil.iter_modules(bot.review.__path__): importlib.import_module('bot.review.' + m.name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk', 'sanic'))))\n"
    )
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_latest_blocks_reads_each_founders_newest_final_block_in_bulk(tmp_path):
    from bot.coach.store import CanvasStore
    from tests.conftest import ledgerly_block

    with CanvasStore(f"sqlite:///{tmp_path / 'canvas.db'}") as store:
        store.save_block("rest", "a", ledgerly_block(status="final"))
        store.save_block("rest", "a", ledgerly_block(status="final", tweak=" v2"))
        store.save_block("socketio", "b", ledgerly_block(status="final", venture="Other"))
        store.save_block("rest", "c", ledgerly_block(status="draft"))
        blocks = store.latest_blocks(["a", "b", "c", "nobody"] + [f"x{n}" for n in range(1200)])
        assert set(blocks) == {"a", "b"}
        assert blocks["a"] == store.latest_block("rest", "a", status="final") and blocks["a"].version == 2
        assert blocks["b"] == store.latest_block("socketio", "b")
        assert store.latest_blocks(["c"], status="draft")["c"] == store.latest_block("rest", "c")


def test_the_command_line_adds_lists_and_refuses_users_with_a_reason(tmp_path, monkeypatch, capsys):
    from bot.review.cli import main

    monkeypatch.setenv("REVIEW_DB_URL", f"sqlite:///{tmp_path / 'review.db'}")
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "tracker.db"))
    monkeypatch.setenv("REVIEW_PASSWORD", PASSWORD)
    assert main(["users", "add", "Ada", "--role", "admin"]) == 0
    assert main(["users", "add", "cora", "--cohort", "SPRING", "--cohort", "FALL"]) == 0
    assert main(["users", "add", "nocohort"]) == 2
    assert "at least one cohort" in capsys.readouterr().err
    assert main(["users", "cohorts", "cora", "SPRING"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ada\tadmin\t-\t-", "cora\tcoordinator\tSPRING\t-"]
    monkeypatch.setenv("REVIEW_PASSWORD", "short")
    assert main(["users", "password", "cora"]) == 2 and "at least 10" in capsys.readouterr().err
    assert main(["users", "remove", "nobody"]) == 2 and "no user" in capsys.readouterr().err
    ev.create_tracker(tmp_path / "tracker.db")
    ev.insert(tmp_path / "tracker.db", ev.conversation("f1", 1000.0, "SPRING"))
    assert main(["review", "rebuild"]) == 0 and "1 conversations" in capsys.readouterr().out
    assert main(["review", "forget", "f1"]) == 0
    assert main(["review", "update"]) == 0
