"""The venture and segment interviews, turn by turn, free of Rasa.

The questions themselves (text, buttons, what each answer means, re-ask texts,
"why") are in bot/knowledge/interview.yml. Here the coach reads an answer and
everything else the message says, fills every other question the message already
answers, and, once a segment is described, keeps it and chooses what comes next.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.coach.canvas import Segment
from bot.coach.conversation import (
    STARTING_OVER,
    choices_from_advice,
    find_segment,
    pending_prompt,
    recommend_segment,
    redo_segment,
    segments_intro,
    too_long,
    which_segment,
)
from bot.coach.extract import extract_facts, names_people, parse_scale, segment_label, split_venture, values_of
from bot.coach.knowledge import UNKNOWN, Interview, Knowledge, load_knowledge
from bot.coach.markdown import literal
from bot.coach.numbers import Scale, read_scale
from bot.coach.own_words import scale_check, touchpoints_in_own_words
from bot.coach.presentation import TurnResult, advice_message
from bot.coach.profile import SegmentProfile

_UNSURE = re.compile(r"\b(?:not sure|no idea|don'?t know|dunno|unknown|unsure|skip|no clue|pass)\b", re.I)
# "Yes" to a question that names what the coach heard in passing: it stands.
_YES = re.compile(
    r"^\W*(?:yes|yep|yeah|yup|yea|ya|right|correct|exactly|true|sure|ok|okay|indeed|spot on|that'?s (?:right|it|correct))\b",
    re.I,
)
# "That's all" to "where else do they meet you?": the places heard stand alone.
_NO_MORE = re.compile(
    r"^\W*(?:no(?:pe)?|nowhere else|that'?s (?:all|it)|nothing (?:else|more)|none|only (?:that|those|there)|just (?:that|those|there))\b",
    re.I,
)
# "No" to a question that names what the coach heard in passing: it was misread.
_NO = re.compile(
    r"^\W*(?:no|nope|nah|wrong|incorrect|not (?:really|quite|right|true|correct)|that'?s (?:wrong|not (?:right|it|true)))\b",
    re.I,
)
MISHEARD = "Sorry, I misread that."
# A reply that only says yes or no: no place, no answer in the founder's own words.
_YES_OR_NO_WORDS = re.compile(
    r"\b(?:yes|yep|yeah|yup|yea|ya|ok|okay|sure|right|correct|exactly|indeed|true|fine|no|nope|nah|that'?s|that|is|it)\b",
    re.I,
)
NO_ANSWER = "I didn't get an answer there. Could you type it, or pick one of the buttons?"
NOT_CAUGHT = "Sorry, I didn't catch that."
KEPT_AS_SAID = "I've noted {places} as you said it."
LEFT_OPEN = "Let's leave that open for now and go on."
NUMBERS_LEFT_OPEN = "Let's leave the numbers open for now and go on."
NO_DESCRIPTION = (
    'Let\'s go on: I\'ll call them "{name}" for now, and you can describe them later ("change segment {number}").'
)
NUMBERS_CORRECTED = "Thanks, corrected: {summary}."
MAX_ASKS = 2  # no question is asked more often; then the coach keeps what it has and moves on
MAX_NAME_CHARS = 120


def interview_of(knowledge: Optional[Knowledge] = None) -> Interview:
    return (knowledge or load_knowledge()).interview


# The slots of the segment interview, in the order the coach asks them.
SEGMENT_SLOTS: Tuple[str, ...] = interview_of().segment_slots

# Which finished segment is being described again ("change the second segment").
REDO_SLOTS = ("editing_segment", "redoing_segment")


def segment_answer_slots(knowledge: Optional[Knowledge] = None) -> Tuple[str, ...]:
    """The slots of the segment being described: its questions' answers, the facts read
    from them, and what the coach noted while asking (re-asks, numbers to check)."""
    return (*interview_of(knowledge).segment_slots, "segment_facts", "interview_notes")


def coaching_slots(knowledge: Optional[Knowledge] = None) -> Tuple[str, ...]:
    """Every slot that holds the coaching, the list "start over" clears: both
    interviews' answers (interview.yml), the finished segments, and where the
    founder was."""
    return ("paused_form", *interview_of(knowledge).venture, *segment_answer_slots(knowledge), "segments", *REDO_SLOTS)


@dataclass
class Reading:
    """What the coach made of one answer."""

    value: Any = None  # the slot value; None when the answer could not be read
    facts: Dict[str, Any] = field(default_factory=dict)
    problem: Optional[str] = None  # what to tell the founder when value is None
    note: Optional[str] = None  # what to tell the founder about an answer kept as it was said, or left open


def segment_number(editing: Optional[float], segments_so_far: int) -> int:
    """The number of the segment being described: the one redone, else the next."""
    return int(editing) + 1 if editing is not None else segments_so_far + 1


def ask_segment_who(number: int, knowledge: Optional[Knowledge] = None) -> str:
    lead = "First segment" if number == 1 else f"Segment {number}"
    return interview_of(knowledge).segment["segment_who"].ask.format(segment=lead)


def ask_who(editing: Optional[float], segments_so_far: int, knowledge: Optional[Knowledge] = None) -> TurnResult:
    """The first question about a segment, naming which segment it is."""
    return TurnResult().say(ask_segment_who(segment_number(editing, segments_so_far), knowledge))


def questions_to_ask(facts: Dict[str, Any], filled: Dict[str, Any], knowledge: Optional[Knowledge] = None) -> List[str]:
    """The segment questions the form asks, in order: every question, except one asked only
    to confirm what was heard in passing (interview.yml's asked: when_heard) when nothing
    was heard and it is not answered."""
    return [
        slot
        for slot, question in interview_of(knowledge).segment.items()
        if question.asked != "when_heard"
        or (filled or {}).get(slot) is not None
        or heard_in_passing(slot, facts or {}, knowledge) is not None
    ]


def heard_in_passing(
    slot: str, facts: Dict[str, Any], knowledge: Optional[Knowledge] = None
) -> Optional[Tuple[Any, Dict[str, Any], str]]:
    """What the known facts already answer for a question whose passing mentions are to be
    confirmed (interview.yml's in_passing: confirm): (the slot's value, the facts, the words
    to say it back), or None."""
    kb = knowledge or load_knowledge()
    question = kb.interview.segment.get(slot)
    if question is None or question.in_passing != "confirm":
        return None
    facts = facts or {}
    if question.kind == "scale":
        # one number heard is confirmed too: "5,000 students" decides as much as both would
        if any(facts.get(f) is not None for f in question.fills):
            said = Scale(customer_count=facts.get("customer_count"), value_per_customer=facts.get("value_per_customer"))
            return "given", {f: facts[f] for f in question.fills if facts.get(f) is not None}, said.summary()
        return None
    if question.kind == "touchpoints":
        places = [t for t in facts.get("touchpoints") or [] if t in kb.touchpoints]
        if places:
            said = ", ".join(kb.touchpoint_label(t).lower() for t in places)
            return places, {"touchpoints": places}, said
        return None
    if question.kind == "choice" and all(f in facts for f in question.fills):
        answer = question.answer_for(facts)
        if answer:
            return answer.value, dict(answer.means), (answer.label or answer.button.lower())
    return None


def ask_question(slot: str, facts: Dict[str, Any], knowledge: Optional[Knowledge] = None) -> TurnResult:
    """A segment question as the coach asks it: as interview.yml words it, or, when its
    answer was mentioned in passing, in one line that names it (`confirm`), with a first
    button that confirms it."""
    question = interview_of(knowledge).segment[slot]
    buttons = question.buttons()
    heard = heard_in_passing(slot, facts, knowledge)
    if heard is None:
        return TurnResult().say(question.ask, buttons)
    value, _, said = heard
    if question.kind == "choice":
        same = next(b for b in buttons if b["payload"].endswith(json.dumps({question.entity: value})))
        first = {"title": f"Yes: {said}", "payload": same["payload"]}
        buttons = [first] + [b for b in buttons if b is not same]
    elif question.kind == "touchpoints":
        buttons = [{"title": "That's all", "payload": "that's all"}]
    else:
        buttons = [{"title": "Yes, that's right", "payload": "yes, that's right"}, *buttons]
    return TurnResult().say(question.confirm.format(heard=said), buttons)


def read_answer(
    slot: str,
    text: str,
    entity_values: Sequence[str] = (),
    off_topic: bool = False,
    knowledge: Optional[Knowledge] = None,
    heard: Optional[Tuple[Any, Dict[str, Any], str]] = None,
) -> Reading:
    """Reads the founder's answer to one question of the segment interview.

    entity_values are canonical values the NLU or a button gave for this question;
    they win over the free text. off_topic: the NLU took the message for small talk.
    heard: what the question named as heard in passing (heard_in_passing): a "yes", a
    "not sure" or, for the places, "that's all" keeps it; places named join it."""
    question = interview_of(knowledge).segment.get(slot)
    if question is None:
        raise ValueError(f"unknown question slot {slot!r}")
    text = (text or "").strip()
    problem = too_long(text)
    if problem:
        return Reading(problem=problem)
    if not text and not entity_values:
        return Reading(problem=NO_ANSWER)
    unsure = bool(_UNSURE.search(text)) or UNKNOWN in entity_values
    if question.kind == "description":
        if len(text) < 3 or (unsure and len(_UNSURE.sub("", text).strip(" .,!?")) < 3):
            return Reading(problem=question.ask_again)
        facts = extract_facts(text)
        if off_topic and not facts and not names_people(text):
            return Reading(problem=question.off_topic or question.ask_again)
        facts.update(name=segment_label(text), needs=text)
        return Reading(value=text, facts=facts)
    kept = Reading(value=heard[0], facts=dict(heard[1])) if heard else None
    if question.kind == "scale":
        facts = parse_scale(text)
        if facts:
            return Reading(value="given", facts=facts)
        if kept and (unsure or _YES.search(text)):
            return kept
        if kept and _NO.search(text):
            return _misheard(question)
        if unsure:
            return Reading(value=UNKNOWN)
        return Reading(problem=question.ask_again)
    if question.kind == "touchpoints":
        touchpoints = [v for v in dict.fromkeys([*entity_values, *values_of(text, "touchpoint")]) if v != UNKNOWN]
        if not touchpoints and kept and (unsure or _YES.search(text) or _NO_MORE.search(text)):
            return kept
        if not touchpoints and not unsure:
            touchpoints = _close_places(text, knowledge)
        if touchpoints:
            if kept:  # "where else?": what was heard, and the places named now
                touchpoints = list(dict.fromkeys([*kept.value, *touchpoints]))
            return Reading(value=touchpoints, facts={"touchpoints": touchpoints})
        if unsure:
            return Reading(value=UNKNOWN)
        return Reading(problem=question.ask_again)
    # a choice: a button or the NLU's entity first, else the founder's words
    answers = question.answers
    candidates = [v for v in entity_values if v in answers] or [
        v for v in values_of(text, question.entity) if v in answers
    ]
    combined = next((a.value for a in answers.values() if a.combines and set(a.combines) <= set(candidates)), None)
    if combined:
        candidates = [combined]
    if not candidates and kept and (unsure or _YES.search(text)):
        return kept
    if not candidates and kept and _NO.search(text):
        return _misheard(question)
    if not candidates and not unsure:
        # typos ("reguarly", "quik help"): the answer whose words are closest, when one is
        candidates = [
            v for v in (knowledge or load_knowledge()).vocabulary[question.entity].find_close(text) if v in answers
        ]
    if candidates:
        return Reading(value=candidates[0], facts=dict(answers[candidates[0]].means))
    if unsure:
        return Reading(value=UNKNOWN)
    return Reading(problem=f"{NOT_CAUGHT} {question.ask_again}")


def _only_yes_or_no(text: str) -> bool:
    return not re.sub(r"\W+", "", _YES_OR_NO_WORDS.sub("", text or ""))


def _misheard(question: Any) -> Reading:
    """ "No" to what the coach heard in passing: the fact is forgotten, and the question comes
    again as it is asked when nothing was heard."""
    return Reading(problem=MISHEARD, facts={f: None for f in question.fills})


def answered_elsewhere(
    new: Dict[str, Any], filled: Dict[str, Any], knowledge: Optional[Knowledge] = None
) -> Dict[str, Any]:
    """The facts a message states in passing, without those whose question is answered already:
    a question answered (even "not sure") is not reopened, nor decided unseen, by a later mention."""
    answered = {
        f for q in interview_of(knowledge).segment.values() if (filled or {}).get(q.slot) is not None for f in q.fills
    }
    return {k: v for k, v in new.items() if k not in answered}


def _close_places(text: str, knowledge: Optional[Knowledge]) -> List[str]:
    """Touchpoints typed with a typo ("instagarm, the webshp"), one per part of a list."""
    matcher = (knowledge or load_knowledge()).vocabulary["touchpoint"]
    parts = re.split(r"[,;/&+]|\band\b|\bor\b", text or "")
    return list(dict.fromkeys(v for part in parts if part.strip() for v in matcher.find_close(part)))


def prefill(facts: Dict[str, Any], filled: Dict[str, Any], knowledge: Optional[Knowledge] = None) -> Dict[str, Any]:
    """The interview slots that known facts already answer, so the coach never asks twice:
    only questions whose passing mentions may fill them (in_passing: fill); the others are
    asked, naming what was heard (ask_question).

    filled: the current values of the question slots."""
    answers: Dict[str, Any] = {}
    for question in interview_of(knowledge).segment.values():
        if filled.get(question.slot) is not None or question.kind == "description" or question.in_passing != "fill":
            continue
        if question.kind == "scale":
            if all(f in facts for f in question.fills):
                answers[question.slot] = "given"
        elif question.kind == "touchpoints":
            if facts.get("touchpoints"):
                answers[question.slot] = list(facts["touchpoints"])
        elif all(f in facts for f in question.fills):
            answer = question.answer_for(facts)
            if answer:  # facts no answer states (expert know-how, no personal touch) leave the question open
                answers[question.slot] = answer.value
    return answers


def merge_facts(known: Dict[str, Any], new: Dict[str, Any], answering: Sequence[str] = ()) -> Dict[str, Any]:
    """Adds new facts to the known ones. A fact the founder gives while answering
    the question that asks for it replaces the old one; a fact said in passing only
    fills a gap."""
    merged = dict(known or {})
    for key, value in new.items():
        if key in answering or key not in merged or merged[key] in (None, []):
            merged[key] = value
    return merged


def build_profile(facts: Dict[str, Any]) -> SegmentProfile:
    return SegmentProfile.from_dict(facts)


# ---------------------------------------------------------------- a turn of the interview


def read_segment_message(
    slots_to_validate: Dict[str, Any],
    text: str,
    entities: Sequence[Dict[str, Any]],
    intent: Optional[str],
    facts: Dict[str, Any],
    filled: Dict[str, Any],
    knowledge: Optional[Knowledge] = None,
    notes: Optional[Dict[str, Any]] = None,
    number: int = 1,
) -> TurnResult:
    """One message during the segment interview: the answer to each question it
    was taken for, every other fact it states, and the questions those facts answer.

    No dead ends: a question the coach could not read an answer to twice is not asked
    a third time; what the founder said is kept, or the answer is left open. Numbers
    the coach is unsure of are said back in one line, and the next message may
    correct them.

    slots_to_validate: the slots Rasa filled from this message; entities: the NLU's;
    facts: what is known of the segment so far; filled: the question slots' values;
    notes: the interview's own bookkeeping (the `interview_notes` slot): how often
    each question went unanswered, and whether numbers were just said back."""
    interview = interview_of(knowledge)
    text = (text or "").strip()
    typed = "" if text.startswith("/") else text  # a button's payload is not the founder's words
    off_topic = intent == "out_of_scope"
    result = TurnResult()
    facts = dict(facts or {})
    notes = dict(notes or {})
    misses: Dict[str, int] = dict(notes.get("misses") or {})
    scale_fields = tuple(next((q.fills for q in interview.segment.values() if q.kind == "scale"), ()))
    # "No, about 50 of them": a correction of the numbers just said back, whatever is asked now.
    correction = read_scale(typed) if notes.get("numbers_said_back") and typed else None
    if (
        correction is not None
        and correction.facts()
        and not any(interview.segment[s].kind == "scale" for s in slots_to_validate if s in interview.segment)
    ):
        facts = merge_facts(facts, correction.facts(), answering=scale_fields)
        result.say(NUMBERS_CORRECTED.format(summary=correction.summary()))
    else:
        correction = None
    before = {f: facts.get(f) for f in scale_fields}
    for slot in slots_to_validate:
        question = interview.segment.get(slot)
        if question is None:
            continue
        values = [e.get("value") for e in entities if question.entity and e.get("entity") == question.entity]
        heard = heard_in_passing(slot, facts, knowledge)  # what its question named, if anything
        reading = read_answer(slot, typed, values, off_topic, knowledge, heard)
        if reading.problem and misses.get(slot, 0) + 1 >= MAX_ASKS:
            reading = _move_on(question, number, typed, off_topic, knowledge, heard)  # asked twice: no third time
        if reading.problem:
            misses[slot] = misses.get(slot, 0) + 1
            if correction is None:  # a correction is no failed answer: the question simply comes again
                result.say(reading.problem)
            if reading.facts:  # "no" to what was heard in passing: forgotten
                facts = merge_facts(facts, reading.facts, answering=question.fills)
            result.slots[slot] = None
            continue
        misses.pop(slot, None)
        if reading.note:
            result.say(reading.note)
        result.slots[slot] = reading.value
        # Facts said in passing only fill gaps of questions still to come (which confirm them);
        # the answer to this question may correct one.
        facts = merge_facts(facts, answered_elsewhere(extract_facts(typed), {**filled, **result.slots}, knowledge))
        facts = merge_facts(facts, reading.facts, answering=question.fills)
    said_back = False
    # Numbers said in passing are said back by their own question (in_passing: confirm), not here.
    in_passing = not any(interview.segment[s].kind == "scale" for s in slots_to_validate if s in interview.segment)
    confirmed_later = in_passing and any(
        q.kind == "scale" and q.in_passing == "confirm" for q in interview.segment.values()
    )
    if correction is None and typed and not confirmed_later and any(facts.get(f) != before[f] for f in scale_fields):
        check = scale_check(read_scale(typed))
        if check:  # "I understood about 20 accounts, each worth about €30,000 a year: right?"
            result.say(check)
            said_back = True
    if correction is not None:
        result.slots["segment_facts"] = facts
    if any(slot in interview.segment for slot in result.slots):
        result.slots.update(prefill(facts, {**filled, **result.slots}, knowledge))
        result.slots["segment_facts"] = facts
    kept = {"misses": misses, "numbers_said_back": said_back}
    if kept != {"misses": dict(notes.get("misses") or {}), "numbers_said_back": bool(notes.get("numbers_said_back"))}:
        result.slots["interview_notes"] = kept
    return result


def _move_on(
    question: Any,
    number: int,
    text: str,
    off_topic: bool,
    knowledge: Optional[Knowledge],
    heard: Optional[Tuple[Any, Dict[str, Any], str]] = None,
) -> Reading:
    """What the coach keeps when it could not read an answer to a question asked twice, and
    what it says: what the founder said in passing, if anything, stands."""
    if question.kind == "touchpoints" and heard and not off_topic:
        own = [] if _only_yes_or_no(text) else touchpoints_in_own_words(text, knowledge)
        kept = list(dict.fromkeys([*heard[0], *own]))
        said = [k for k in kept if k not in (knowledge or load_knowledge()).touchpoints]
        note = KEPT_AS_SAID.format(places=", ".join(f'"{literal(p)}"' for p in said)) if said else None
        return Reading(value=kept, facts={"touchpoints": kept}, note=note)
    if heard:
        return Reading(value=heard[0], facts=dict(heard[1]))
    if question.kind == "description":
        name = segment_label("")
        return Reading(value=UNKNOWN, facts={"name": name}, note=NO_DESCRIPTION.format(name=name, number=number))
    if question.kind == "touchpoints" and not off_topic and not _only_yes_or_no(text):
        # Places the vocabulary lacks ("our stand at the farmers' market") stand as said ("yes" is none).
        kept = touchpoints_in_own_words(text, knowledge)
        if kept:
            known = (knowledge or load_knowledge()).touchpoints
            said = [k for k in kept if k not in known]
            return Reading(
                value=kept,
                facts={"touchpoints": kept},
                note=KEPT_AS_SAID.format(places=", ".join(f'"{literal(p)}"' for p in said)) if said else None,
            )
    return Reading(value=UNKNOWN, note=NUMBERS_LEFT_OPEN if question.kind == "scale" else LEFT_OPEN)


# A name is a few words: a longer message the NLU took for small talk is small talk.
MAX_NAME_WORDS = 5
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
# "hi, I'm Sam" or "this is Ana": the founder's own name, small talk at the venture's name.
_INTRODUCTION = re.compile(r"\b(?:my name is|my name's|i'm|i am|this is)\s+[a-z]+", re.I)
# "Hi, it's Brewbox": a greeting before the answer is no part of it.
_GREETING_LEAD = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|heya|good (?:morning|afternoon|evening))(?:\s+there)?\s*[,!.:;]+\s*", re.I
)


def answers_despite_small_talk(
    slot: Optional[str], text: str, intent: Optional[str], knowledge: Optional[Knowledge] = None
) -> bool:
    """Whether a message the NLU took for small talk (interview.yml's small_talk: a greeting,
    a pause) answers the free-text question being asked: "Hello Fresh Bakes" or "Later Labs"
    asked for the venture's name is its name; "hi there" or "let's stop for now" is not.
    The question asked decides: only the venture's name and offer (kind text) read it so."""
    plan = interview_of(knowledge)
    question = plan.question(slot)
    small_talk = plan.small_talk.get(intent or "")
    text = str(text or "").strip().replace("\u2019", "'")
    if question is None or question.kind != "text" or not small_talk or not text or text.startswith("/"):
        return False
    words = _WORD.findall(text.lower())
    if not words or len(words) > MAX_NAME_WORDS or too_long(text):
        return False
    rest = _WORD.findall(_INTRODUCTION.sub(" ", text.lower()))
    return any(w not in small_talk and not w.isdigit() for w in rest)


def read_venture_name(text: str, knowledge: Optional[Knowledge] = None) -> TurnResult:
    """The venture's name; "It's called Brewbox, we deliver coffee to offices" answers the offer too."""
    text = str(text or "").strip()
    text = _GREETING_LEAD.sub("", text) or text
    problem = too_long(text) or (None if text else interview_of(knowledge).venture["venture_name"].ask_again)
    if problem:
        return TurnResult(slots={"venture_name": None}).say(problem)
    name, offer = split_venture(text)
    return TurnResult(slots={"venture_name": name[:MAX_NAME_CHARS], **({"venture_offer": offer} if offer else {})})


def read_venture_offer(text: str, knowledge: Optional[Knowledge] = None) -> TurnResult:
    text = str(text or "").strip()
    problem = too_long(text) or (None if len(text) >= 3 else interview_of(knowledge).venture["venture_offer"].ask_again)
    if problem:
        return TurnResult(slots={"venture_offer": None}).say(problem)
    return TurnResult(slots={"venture_offer": text})


def venture_done(venture_name: Optional[str]) -> TurnResult:
    """The venture interview is over: on to its customer segments."""
    return TurnResult(slots={"stage": "segments", "paused_form": None}).say(segments_intro(venture_name))


def start_over(knowledge: Optional[Knowledge] = None) -> TurnResult:
    """A clean sheet: no answers, back at the introduction. Saved blocks stay saved."""
    slots: Dict[str, Any] = {name: None for name in coaching_slots(knowledge)}
    slots.update(confirming_delete=False, stage="intro")
    return TurnResult(slots=slots).say(STARTING_OVER)


def save_segment(
    facts: Dict[str, Any], segments: List[Segment], editing: Optional[float], knowledge: Optional[Knowledge] = None
) -> TurnResult:
    """Keeps the segment just described and chooses what comes next.

    A new segment: "another one?". A segment redone before any recommendation: back
    to "another one?". A segment redone after the recommendations: its own new
    recommendations, and back to the review."""
    profile = build_profile(facts or {})
    segments = list(segments)
    result = TurnResult(slots={name: None for name in (*segment_answer_slots(knowledge), *REDO_SLOTS, "paused_form")})
    redoing = editing is not None and int(editing) < len(segments)
    if redoing and any(s.choices for s in segments):
        index = int(editing)
        advice = recommend_segment(profile, knowledge)
        segments[index] = Segment(profile, choices_from_advice(advice))
        result.messages.append(advice_message(index, profile, advice, knowledge))
        stage = "review"
    elif redoing:
        segments[int(editing)] = Segment(profile)
        stage = "more_segments"
    else:
        segments.append(Segment(profile))
        stage = "more_segments"
    result.segments = segments
    result.slots["stage"] = stage
    text, buttons = pending_prompt(stage, None, saved_segment=profile.name)
    return result.say(text, buttons)


def change_segment(text: str, segments: Sequence[Segment], knowledge: Optional[Knowledge] = None) -> TurnResult:
    """ "Change the second segment": its questions are asked again, and the answers replace it."""
    index = find_segment(text, segments)
    if index is None:
        return TurnResult(slots={"redoing_segment": False}).say(which_segment(segments))
    slots: Dict[str, Any] = {name: None for name in segment_answer_slots(knowledge)}
    slots.update(editing_segment=float(index), redoing_segment=True, stage="segments")
    return TurnResult(slots=slots).say(redo_segment(index, segments[index]))
