"""Invariants of the selection engine and the segment interview (issue 19), checked by
Hypothesis over segment profiles and founders' messages rather than by examples only.

Ranks are positions in the engine's full ranking (a type it does not recommend ranks
below every type there is). Where an answer is meant to raise a family of types together
(personal touch, expertise and value per customer move every type of individual intimacy
together; "both" raises communities and co-creation), a type's rank is counted among the
types outside its family: that one of the family overtakes another is the point of the
answer, not a loss."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, List

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.coach import interview
from bot.coach.engine import TOP_N, check_block, recommend
from bot.coach.knowledge import load_knowledge
from bot.coach.profile import FREQUENCIES, GOALS, LEVELS, MARKETS, PRICE_POSITIONS, SegmentProfile

KB = load_knowledge()
PERSONAL = ("personal_assistance", "dedicated_personal_assistance")
INDIVIDUAL = {t for t, rtype in KB.types.items() if rtype.intimacy == "individual"}
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

maybe = lambda values: st.one_of(st.none(), st.sampled_from(values))  # noqa: E731
profiles = st.builds(
    SegmentProfile,
    market=maybe(MARKETS),
    customer_count=st.one_of(st.none(), st.sampled_from([5, 20, 50, 200, 500, 1000, 5000, 10_000, 200_000])),
    value_per_customer=st.one_of(st.none(), st.sampled_from([5.0, 50.0, 100.0, 300.0, 1000.0, 10_000.0, 100_000.0])),
    purchase_frequency=maybe(FREQUENCIES),
    expertise_needed=maybe(LEVELS),
    personal_touch=maybe(LEVELS),
    price_position=maybe(PRICE_POSITIONS),
    members_help_each_other=st.one_of(st.none(), st.booleans()),
    contributes_ideas=st.one_of(st.none(), st.booleans()),
    touchpoints=st.lists(st.sampled_from(sorted(KB.touchpoints)), max_size=4, unique=True),
    goal=maybe(GOALS),
)


def ranking(profile: SegmentProfile) -> List[str]:
    return [r.type_id for r in recommend(profile, KB, askable=[]).recommendations]


def rank(profile: SegmentProfile, type_id: str, ignoring: Iterable[str] = ()) -> int:
    """0 is first; a type not recommended comes after every type there is."""
    ranked = [t for t in ranking(profile) if t == type_id or t not in set(ignoring)]
    return ranked.index(type_id) if type_id in ranked else len(KB.types)


def more(levels, level):
    return levels[levels.index(level) + 1 :]


# ---------------------------------------------------------------- the engine


@SETTINGS
@given(profiles, st.sampled_from(["personal_touch", "expertise_needed"]), st.data())
def test_more_personal_touch_or_expertise_never_lowers_personal_assistance(profile, field, data):
    level = getattr(profile, field)
    if level is None or level == LEVELS[-1]:
        level = data.draw(st.sampled_from(LEVELS[:-1]))
        profile = replace(profile, **{field: level})
    higher = replace(profile, **{field: data.draw(st.sampled_from(more(LEVELS, level)))})
    for type_id in PERSONAL:
        ignoring = INDIVIDUAL - {type_id}
        assert rank(higher, type_id, ignoring) <= rank(profile, type_id, ignoring), (type_id, profile, higher)


@SETTINGS
@given(profiles, st.integers(1, 100), st.floats(0.0, 1.0))
def test_more_customers_at_a_lower_value_never_raise_personal_assistance(profile, times, cheaper):
    count = profile.customer_count if profile.customer_count is not None else 100
    value = profile.value_per_customer if profile.value_per_customer is not None else 1000.0
    before = replace(profile, customer_count=count, value_per_customer=value)
    after = replace(profile, customer_count=count * times, value_per_customer=round(value * cheaper, 2))
    for type_id in PERSONAL:
        ignoring = INDIVIDUAL - {type_id}
        assert rank(after, type_id, ignoring) >= rank(before, type_id, ignoring), (type_id, before, after)


@SETTINGS
@given(profiles)
def test_both_never_ranks_communities_or_co_creation_below_either_answer_alone(profile):
    both = replace(profile, members_help_each_other=True, contributes_ideas=True)
    helping = replace(profile, members_help_each_other=True, contributes_ideas=False)
    ideas = replace(profile, members_help_each_other=False, contributes_ideas=True)
    assert rank(both, "communities", {"co_creation"}) <= rank(helping, "communities", {"co_creation"})
    assert rank(both, "co_creation", {"communities"}) <= rank(ideas, "co_creation", {"communities"})
    # and "both" keeps the one the founder's answers call for most in the top three
    assert {"communities", "co_creation"} & set(ranking(both)[:TOP_N])


@SETTINGS
@given(profiles)
def test_every_type_in_the_top_three_has_a_reason_of_its_own(profile):
    for rec in recommend(profile, KB, askable=[]).recommendations[:TOP_N]:
        assert rec.own_reasons, (rec.type_id, rec.reasons)
        assert rec.reasons[0] in rec.own_reasons


@SETTINGS
@given(profiles)
def test_every_type_a_check_moved_carries_the_checks_fix(profile):
    recs = recommend(profile, KB, askable=[]).recommendations
    failing = {}
    for warning in check_block([(profile, [r.type_id for r in recs])], KB):
        if warning.segment_index is not None:
            failing.setdefault(warning.code, set()).update(
                r.type_id for r in recs if f": {KB.type_name(r.type_id)} " in warning.message
            )
    fixes = {"cost_vs_value": KB.checks.cost_fix, "no_meeting_place": KB.checks.meeting_fix}
    for rec in recs:
        codes = [code for code, types in failing.items() if rec.type_id in types]
        if codes:
            assert rec.check and rec.check["code"] in codes and rec.fix == fixes[rec.check["code"]], rec.type_id
        else:
            assert rec.check is None, rec.type_id
    demoted = [i for i, r in enumerate(recs) if r.check and r.check["demoted"]]
    assert all(i > j for i in demoted for j, r in enumerate(recs) if not (r.check and r.check["demoted"]))


# ---------------------------------------------------------------- the interview

# What founders write: words that state a fact (any question's), places, numbers, filler.
FACT_WORDS = sorted(
    {phrase for values in KB.vocabulary["purchase_frequency"].phrases.items() for phrase in [" ".join(values[0])]}
    | {" ".join(p) for p in KB.vocabulary["support_level"].phrases}
    | {" ".join(p) for p in KB.vocabulary["community_role"].phrases}
    | {" ".join(p) for p in KB.vocabulary["goal"].phrases}
    | {" ".join(p) for p in KB.vocabulary["touchpoint_in_passing"].phrases}
    | {" ".join(p) for p in KB.vocabulary["market"].phrases}
    | {" ".join(p) for p in KB.vocabulary["price_position"].phrases}
)
FILLER = [
    "people",
    "who",
    "love",
    "our",
    "shop",
    "they",
    "and",
    "about 20 banks at 200k a year",
    "5000 students",
    "at 9 euros a month",
]
messages = st.lists(st.sampled_from(FACT_WORDS + FILLER), min_size=1, max_size=8).map(" ".join)
LATER = interview.SEGMENT_SLOTS[1:]


@SETTINGS
@given(messages, st.sampled_from(interview.SEGMENT_SLOTS), st.data())
def test_no_question_is_skipped_on_a_fact_given_in_answer_to_another(text, answering, data):
    """Whatever a message mentions in passing, it fills only the question it answers
    (and questions interview.yml lets a passing mention fill: none the rules read)."""
    filled = {slot: None for slot in interview.SEGMENT_SLOTS}
    facts = {} if answering == "segment_who" else {"name": "Shops"}
    result = interview.read_segment_message({answering: text}, text, [], "inform", facts, filled)
    fills = {q.slot for q in KB.interview.segment.values() if q.in_passing == "fill"}
    assert set(result.slots) & set(interview.SEGMENT_SLOTS) <= {answering} | fills
    # What was heard is not lost: the question asks to confirm it, naming it.
    facts = result.slots.get("segment_facts") or facts
    for slot in LATER:
        if slot == answering or slot in fills:
            continue
        heard = interview.heard_in_passing(slot, facts, KB)
        asked = interview.ask_question(slot, facts, KB).messages[0].text
        question = KB.interview.segment[slot]
        assert asked == (question.confirm.format(heard=heard[2]) if heard else question.ask)
        if heard:  # and one "yes" confirms it
            yes = interview.read_segment_message({slot: "yes"}, "yes", [], "affirm", facts, filled)
            assert yes.slots[slot] == heard[0]


def test_the_passing_mention_of_issue_19_is_confirmed_not_assumed():
    text = (
        "adult fans who build huge models and post them online; they want new challenging sets, "
        "and to see their own designs become real products"
    )
    result = interview.read_segment_message({"segment_who": text}, text, [], "inform", {}, {})
    assert "segment_touchpoints" not in result.slots
    asked = interview.ask_question("segment_touchpoints", result.slots["segment_facts"], KB)
    assert asked.messages[0].text.startswith(
        "You mentioned website, online shop: where else do they meet your business?"
    )


# The profile fields that decide something: a rule's condition or a block check reads them.
DECISIVE = (
    {c.field for rule in KB.rules for c in rule.when}
    | {c.field for _, conditions in KB.checks.cannot_carry for c in conditions}
    | {"touchpoints"}  # no_meeting_place
)


def play_interview(description: str, replies: List[str]):
    """One segment interview as the form runs it: the description, then each question the
    form asks (interview.questions_to_ask), answered with the next reply (the last one
    repeats). Returns the facts kept and, per question slot, what the coach asked."""
    filled = {slot: None for slot in interview.SEGMENT_SLOTS}
    facts, notes, asked = {}, {}, {}
    slot, text = "segment_who", description
    for turn in range(3 * len(interview.SEGMENT_SLOTS)):
        result = interview.read_segment_message({slot: text}, text, [], "inform", facts, filled, KB, notes)
        filled.update({k: v for k, v in result.slots.items() if k in filled})
        facts = result.slots.get("segment_facts", facts)
        notes = result.slots.get("interview_notes", notes)
        waiting = [s for s in interview.questions_to_ask(facts, filled, KB) if filled.get(s) is None]
        if not waiting:
            return facts, asked
        slot = waiting[0]
        asked.setdefault(slot, []).append(interview.ask_question(slot, facts, KB).messages[0].text)
        text = replies[min(turn, len(replies) - 1)]
    raise AssertionError(f"the interview did not end: {asked}")


@SETTINGS
@given(messages, st.lists(st.sampled_from(["not sure", "yes", "yes, that's right", "skip"]), min_size=1, max_size=4))
def test_every_fact_that_decides_was_answered_or_confirmed(description, replies):
    """No question is skipped on a fact the founder did not give in answer to it, unless it
    was confirmed: every fact of the segment that a rule or a check reads (market and price
    included) was named, as it stands, in the question that asks for it. The founder here
    answers no question with a fact of their own, so each fact kept was heard in passing."""
    facts, asked = play_interview("shops " + description, replies)
    for name in sorted(DECISIVE):
        value = facts.get(name)
        if value is None or value == []:
            continue
        question = next((q for q in KB.interview.segment.values() if name in q.fills), None)
        assert question is not None, f"{name}={value!r} decides unseen: no question asks it ({description!r})"
        assert question.slot in asked, f"{name}={value!r} decides unseen: {question.slot} was skipped"
        confirmations = [t for t in asked[question.slot] if t != question.ask]
        assert confirmations, f"{name}={value!r} was never said back: {asked[question.slot]}"


def test_a_budget_word_in_passing_is_confirmed_before_the_cost_check_reads_it():
    """ "budget" read in passing decided the cost check without the founder seeing it."""
    facts, asked = play_interview("students who want affordable meal kits", ["yes"])
    assert facts["price_position"] == "budget" and facts["market"] == "b2c"
    assert asked["segment_price"] == [
        "You mentioned a budget price: is that right? Is your offer for them budget, mid-range or premium?"
    ]
    assert asked["segment_market"][0].startswith("From what you said, they are consumers (B2C): is that right?")
    # "No" forgets it: the question comes again as asked when nothing was heard.
    text = "no"
    result = interview.read_segment_message(
        {"segment_price": text}, text, [], "deny", facts, {"segment_who": "students"}, KB
    )
    assert result.messages[0].text == interview.MISHEARD and result.slots["segment_price"] is None
    again = result.slots["segment_facts"]
    assert again["price_position"] is None
    assert interview.ask_question("segment_price", again, KB).messages[0].text == (
        KB.interview.segment["segment_price"].ask
    )


def test_questions_asked_only_to_confirm_wait_until_something_is_heard():
    facts, asked = play_interview("people who cook at home", ["not sure"])
    assert "segment_price" not in asked and "price_position" not in facts
    assert "segment_market" in asked  # "people": consumers, said back
