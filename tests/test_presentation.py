"""bot/coach/presentation.py and the coach's turns that present recommendations
and the block (bot/coach/conversation.py): built once as data, rendered per channel."""

from __future__ import annotations

import json

import pytest

from bot.coach import conversation as coach
from bot.coach import presentation
from bot.coach.engine import recommend
from bot.coach.export import file_stem, to_markdown
from bot.coach.knowledge import load_knowledge
from bot.coach.profile import SegmentProfile
from tests.conftest import banks, block, segment, shops, turn_texts


def test_recommend_block_presents_each_segment_once_with_its_record():
    bare = block(
        segment(
            "Small shops",
            market="b2b",
            customer_count=300,
            value_per_customer=2000.0,
            purchase_frequency="recurring",
            touchpoints=["website"],
        ),
        segment("Banks", market="b2b", customer_count=20, value_per_customer=200000.0, goal="keep"),
    )
    profiles = [s.profile for s in bare.segments]
    result = coach.recommend_block(bare)
    advice = [recommend(p, limit=coach.RECOMMENDED_PER_SEGMENT) for p in profiles]
    for index, (message, expected) in enumerate(zip(result.messages, advice)):
        assert message.text == presentation.render_advice(index, profiles[index], expected)
        assert message.advice == presentation.advice_payload(index, profiles[index], expected)
    assert [[c.type_id for c in s.choices] for s in result.segments] == [
        [r.type_id for r in a.recommendations] for a in advice
    ]
    assert result.slots == {"stage": "review"}
    text, buttons = coach.pending_prompt("review", None)
    assert (result.messages[-1].text, result.messages[-1].buttons) == (text, buttons)
    warnings = [m.text for m in result.messages[2:-1]]
    assert warnings == [f"⚠️ {w}" for w in presentation.block_warnings(block(*result.segments))]
    assert all(m.advice is None for m in result.messages[2:])


def test_advice_payload_is_the_dashboards_contract():
    profile = banks().profile
    advice = recommend(profile, limit=3)
    payload = presentation.advice_payload(1, profile, advice)
    assert set(payload) == {"segment_index", "segment_name", "profile", "recommendations", "missing"}
    assert (payload["segment_index"], payload["segment_name"], payload["profile"]) == (1, "Banks", profile.to_dict())
    for rec, data in zip(advice.recommendations, payload["recommendations"]):
        shown = presentation.shown_lines(rec, advice.recommendations.index(rec) + 1)
        assert data == {
            "type_id": rec.type_id,
            "name": rec.name,
            "score": rec.score,
            "reasons": rec.reasons,
            "shown": shown,
            "rules": [dict(rule, shown=rule["because"] in shown) for rule in rec.rules],
            "check": rec.check,
        }
        # What the coordinators read as the rules behind it is what the founder read.
        assert [r["because"] for r in data["rules"] if r["shown"]] == [
            b for b in shown if b in {r["because"] for r in rec.rules}
        ]
        assert shown[0] in presentation.render_advice(1, profile, advice)
    missing = advice.most_informative_missing
    assert payload["missing"] == (missing.field if missing else None)
    json.dumps(payload)  # it travels in the tracker store as JSON
    unnamed = presentation.advice_payload(0, SegmentProfile(), recommend(SegmentProfile(), limit=3))
    assert unnamed["segment_name"] == "Segment 1"


def test_every_rule_that_moved_a_score_is_recorded():
    kb = load_knowledge()
    profile = SegmentProfile(
        market="b2c",
        customer_count=50000,
        value_per_customer=40.0,
        purchase_frequency="one_off",
        expertise_needed="low",
        personal_touch="low",
        touchpoints=["website"],
    )
    rules = {rule.id: rule for rule in kb.rules}
    for rec in recommend(profile, kb).recommendations:
        fired = [r for r in kb.rules if r.fires(profile) and r.then.get(rec.type_id)]
        assert [r["id"] for r in rec.rules] == [r.id for r in fired]
        for record in rec.rules:
            assert record["weight"] == rules[record["id"]].then[rec.type_id]
            assert record["because"] in (rules[record["id"]].because, "also: " + rules[record["id"]].because)
        assert round(sum(r["weight"] for r in rec.rules), 3) == rec.score
        assert {r["because"] for r in rec.rules if r["weight"] < 0} == set(rec.cautions)
        # the reasons are exactly the rules that raised it: its own, then the shared ones ("also: ...")
        raised = [r["because"] for r in rec.rules if r["weight"] > 0]
        assert set(raised) == set(rec.reasons)
        for record in rec.rules:
            assert record["own"] == (record["weight"] < 0 or not record["because"].startswith("also: "))


def test_confirm_block_shows_it_and_asks_to_save():
    shown = block(shops(), banks())
    result = coach.confirm_block(shown)
    assert turn_texts(result)[0] == "Here is your Customer Relationships block:\n" + presentation.render_block(shown)
    assert result.messages[-1].text == coach.pending_prompt("confirm", None)[0]
    assert result.slots == {"stage": "confirm"} and result.segments is None


def test_edit_block_too_early_says_so_and_asks_the_pending_question():
    result = coach.edit_block("add_relationship", "add self-service", [], block(shops()), "segments")
    assert turn_texts(result) == [coach.EDIT_TOO_EARLY] and result.then_prompt and result.slots == {}


def test_edit_block_that_changes_nothing_says_why_only():
    result = coach.edit_block("drop_relationship", "drop subscription", ["subscription"], block(shops()), "review")
    assert len(result.messages) == 1 and result.segments is None and result.slots == {}


def test_edit_block_shows_the_changed_block_and_keeps_it():
    result = coach.edit_block("add_relationship", "add co-creation", ["co_creation"], block(shops()), "confirm")
    assert turn_texts(result)[0] == "Added Co-creation to Small shops."
    assert [c.type_id for c in result.segments[0].choices] == ["self_service", "communities", "co_creation"]
    assert turn_texts(result)[1] == presentation.render_block(block(*result.segments))
    assert result.slots == {"stage": "review"}


def test_a_saved_block_is_one_payload_rendered_as_markdown_and_as_the_card():
    saved = block(shops(), banks(), status="final")
    saved.version = 2
    result = coach.block_saved(saved)
    markdown, card, done = result.messages
    assert markdown.text == to_markdown(saved)
    assert card.data == {
        "type": "canvas_block",
        "block": saved.to_dict(),
        "markdown": markdown.text,
        "file_name": f"{file_stem(saved.venture_name)}-customer-relationships-v2",
    }
    assert done.text == coach.saved_message(2)
    assert result.slots == {"stage": "saved"}


def test_a_failed_save_offers_to_try_again():
    result = coach.save_failed()
    assert turn_texts(result) == [coach.SAVE_FAILED] and result.slots == {"stage": "confirm"}
    assert [b["payload"] for b in result.messages[0].buttons] == ["/affirm", "/deny"]


def test_the_recommendation_message_shows_what_speaks_against_each_type():
    profile = SegmentProfile(
        name="Fans", customer_count=20, value_per_customer=50.0, expertise_needed="low", personal_touch="high"
    )
    advice = recommend(profile, limit=3)
    text = presentation.render_advice(0, profile, advice)
    cautioned = [r for r in advice.recommendations if r.cautions]
    assert cautioned, "test setup: a profile where a rule speaks against a recommended type"
    for rec in cautioned:
        assert f"   - Against it: {rec.cautions[0]}" in text
    assert text.count("Against it:") == len(cautioned)


def test_greet_welcomes_back_only_a_returning_founder():
    assert coach.greet(None, "intro").messages == [] and coach.greet(None, "intro").then_prompt
    assert turn_texts(coach.greet("Brewbox", "review")) == ["Welcome back! We're working on Brewbox."]
    assert turn_texts(coach.greet(None, "segments")) == ["Welcome back!"]


def test_resume_after_a_pause_or_after_keeping_the_data():
    paused = coach.resume(False, "Brewbox", "segments", "segment_form")
    assert turn_texts(paused) == ["Welcome back! We're working on Brewbox."]  # the paused form asks next
    kept = coach.resume(True, "Brewbox", "review", None)
    assert turn_texts(kept) == [coach.NOT_DELETED, coach.pending_prompt("review", None)[0]]
    assert kept.slots == {"confirming_delete": False}


def test_show_canvas_shows_the_block_in_progress_until_it_is_saved():
    in_progress = block(shops())
    assert not coach.shows_saved_copy(in_progress, "review")
    assert coach.shows_saved_copy(in_progress, "saved") and coach.shows_saved_copy(block(), "segments")
    assert turn_texts(coach.show_canvas(in_progress)) == [to_markdown(in_progress)]
    assert turn_texts(coach.show_canvas(None)) == [coach.NOTHING_TO_SHOW] == turn_texts(coach.show_canvas(block()))


def test_the_segment_being_described_is_numbered():
    from bot.coach.interview import segment_number

    assert (segment_number(None, 0), segment_number(None, 2), segment_number(0.0, 2)) == (1, 3, 1)


def test_data_export_hands_over_files_whether_or_not_anything_was_saved():
    saved = block(shops(), status="final")
    result = coach.data_export("rest", "ada", [saved])
    text, files = result.messages
    assert text.text == coach.EXPORTED and result.then_prompt
    assert files.data["type"] == "data_export"
    assert [f["filename"] for f in files.data["files"]] == ["rapport-my-data.md", "rapport-my-data.json"]
    assert turn_texts(coach.data_export("rest", "ada", []))[0] == coach.NOTHING_TO_EXPORT


# ---------------------------------------------------------------- turns the actions only deliver


def test_while_a_delete_is_pending_the_prompt_asks_only_yes_or_no():
    for stage, paused in (("review", None), ("segments", "segment_form"), (None, None)):
        assert coach.pending_prompt(stage, paused, confirming_delete=True) == (
            coach.CONFIRM_DELETE,
            coach.DELETE_BUTTONS,
        )
    assert coach.pending_prompt("review", None, confirming_delete=False) == coach.pending_prompt("review", None)


def test_a_delete_request_asks_to_confirm_and_remembers_it():
    result = coach.delete_request()
    assert [(m.text, m.buttons) for m in result.messages] == [(coach.CONFIRM_DELETE, coach.DELETE_BUTTONS)]
    assert result.slots == {"confirming_delete": True} and not result.then_prompt


@pytest.mark.parametrize(
    "intents, misses",
    [
        ([], 0),
        (["greet"], 0),
        (["nlu_fallback"], 1),
        (
            ["out_of_scope", "nlu_fallback", "greet", "nlu_fallback"],
            2,
        ),  # the latest first; a understood message ends the run
        ([None, "nlu_fallback"], 0),
    ],
)
def test_consecutive_misses_count_from_the_latest_message(intents, misses):
    assert coach.consecutive_misses(intents) == misses


def test_not_understood_offers_buttons_from_the_second_miss_in_a_row():
    first = coach.not_understood(["nlu_fallback", "affirm"], "blah", "review", in_form=False)
    assert [(m.text, m.buttons) for m in first.messages] == [(coach.fallback(1, "review", False)[0], [])]
    assert first.then_prompt and first.slots == {}
    second = coach.not_understood(["out_of_scope", "nlu_fallback"], "blah", "review", in_form=False)
    assert [(m.text, m.buttons) for m in second.messages] == [coach.fallback(2, "review", False)]


def test_not_understood_asks_to_sum_up_a_huge_message():
    huge = "x" * 5000
    result = coach.not_understood(["nlu_fallback"], huge, None, in_form=True)
    assert turn_texts(result) == [coach.too_long(huge)] and result.then_prompt


def test_reply_to_question_answers_then_asks_the_pending_question():
    context = coach.QuestionContext(stage="review")
    result = coach.reply_to_question("ask_definition", "what is co-creation?", ["co_creation"], context)
    assert turn_texts(result) == [
        coach.answer_question("ask_definition", "what is co-creation?", ["co_creation"], context)
    ]
    assert result.then_prompt and result.slots == {}
    huge = "what is " + "x" * 5000
    assert turn_texts(coach.reply_to_question("ask_definition", huge, [], context)) == [coach.too_long(huge)]


def test_what_to_change_goes_back_to_the_review():
    result = coach.what_to_change()
    assert turn_texts(result) == [coach.WHAT_TO_CHANGE] and result.slots == {"stage": "review"}


def test_pause_says_everything_is_kept():
    result = coach.pause()
    assert turn_texts(result) == [coach.PAUSED] and result.slots == {} and not result.then_prompt
