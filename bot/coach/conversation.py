"""The coach's conversation logic, free of Rasa.

The Rasa actions in actions/ are thin adapters: they read a tracker, call these
functions, and turn the results into messages and slot events. What the coach
says outside the interview (answers to questions, recommendations, edits, the
block, prompts) is decided here, so it can be tested without a server; the
interview itself is in bot/coach/interview.py, what it shows in presentation.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.coach.canvas import CanvasBlock, RelationshipChoice, Segment
from bot.coach.engine import Advice, recommend
from bot.coach.export import founder_data_files, to_markdown
from bot.coach.extract import find_mentions, values_of
from bot.coach.knowledge import Knowledge, load_knowledge, load_texts
from bot.coach.markdown import literal
from bot.coach.phrases import tokens
from bot.coach.presentation import (
    Message,
    TurnResult,
    advice_message,
    fix_buttons,
    render_block,
    saved_block_messages,
    warning_messages,
)
from bot.coach.profile import SegmentProfile

MAX_MESSAGE_CHARS = 2000  # longer answers are refused with a request to sum up
RECOMMENDED_PER_SEGMENT = 3


def too_long(text: str) -> Optional[str]:
    if len(text or "") > MAX_MESSAGE_CHARS:
        return (
            f"That's a lot to take in at once ({len(text):,} characters). "
            f"Could you sum it up in a few sentences (under {MAX_MESSAGE_CHARS:,} characters)?"
        )
    return None


# ---------------------------------------------------------------- recommendations


# The profile fields the interview asks about: the only missing answers worth naming
# (market and price position among them: asked to confirm a mention, else left open).
def asked_fields(knowledge: Optional[Knowledge] = None) -> Tuple[str, ...]:
    return tuple(f for q in (knowledge or load_knowledge()).interview.segment.values() for f in q.fills)


def recommend_segment(profile: SegmentProfile, knowledge: Optional[Knowledge] = None) -> Advice:
    knowledge = knowledge or load_knowledge()
    return recommend(profile, knowledge, limit=RECOMMENDED_PER_SEGMENT, askable=asked_fields(knowledge))


def choices_from_advice(advice: Advice) -> List[RelationshipChoice]:
    return [
        RelationshipChoice(
            type_id=r.type_id, name=r.name, reasons=list(r.reasons), origin="accepted", score=round(r.score, 3)
        )
        for r in advice.recommendations
    ]


def recommend_block(block: CanvasBlock, knowledge: Optional[Knowledge] = None) -> TurnResult:
    """Recommends relationship types for every segment, then asks whether they fit."""
    result = TurnResult()
    segments: List[Segment] = []
    advices = []
    for index, segment in enumerate(block.segments):
        advice = recommend_segment(segment.profile, knowledge)
        advices.append(advice)
        segments.append(Segment(segment.profile, choices_from_advice(advice)))
        result.messages.append(advice_message(index, segment.profile, advice, knowledge))
    block.segments = segments
    result.messages += warning_messages(block, knowledge)
    result.segments = segments
    result.slots["stage"] = "review"
    return result.say(*review_prompt(advices, knowledge))


def review_prompt(advices: Sequence[Advice], knowledge: Optional[Knowledge] = None) -> Tuple[str, List[Dict[str, str]]]:
    """ "Do these fit?", with a button for each touchpoint that fixes a recommended type."""
    text, buttons = pending_prompt("review", None)
    return text, buttons + fix_buttons(list(advices), knowledge)


def _places_named(text: str, entity_touchpoints: Sequence[str], knowledge: Knowledge) -> List[str]:
    """The touchpoints an "add ..." names when it names no relationship type: a button's
    entity, or words that name only a place ("a forum" names both: the place wins)."""
    if (text or "").startswith("/"):  # a button: its entities say it all
        return [t for t in dict.fromkeys(entity_touchpoints) if t in knowledge.touchpoints]
    mentions = find_mentions(text, ["relationship_type", "touchpoint"])
    places = {(m.start, m.end) for m in mentions if m.entity == "touchpoint"}
    if any(m.entity == "relationship_type" and (m.start, m.end) not in places for m in mentions):
        return []
    return list(dict.fromkeys(m.value for m in mentions if m.entity == "touchpoint"))


TOUCHPOINT_ADDED = "Added {places} to where {segment} meet you."


def add_touchpoints(
    text: str, touchpoints: Sequence[str], block: CanvasBlock, knowledge: Optional[Knowledge] = None
) -> TurnResult:
    """A check's fix accepted in one step ("add a forum", or its button): the touchpoints
    join the segment named, or else every segment whose recommended types need a place to
    meet, and those segments' recommendations are made again. Types the founder added or
    swapped in stay."""
    knowledge = knowledge or load_knowledge()
    named = find_segment(text, block.segments) if not text.startswith("/") else None
    if named is not None:
        indexes = [named]
    else:
        indexes = [
            i
            for i, s in enumerate(block.segments)
            if any(t in knowledge.checks.meeting_types for t in (c.type_id for c in s.choices))
            and not any(
                knowledge.touchpoints[t].meeting_place for t in s.profile.touchpoints if t in knowledge.touchpoints
            )
        ] or ([0] if len(block.segments) == 1 else [])
    if not indexes:
        names = "; ".join(f"{i + 1}. {literal(s.profile.name)}" for i, s in enumerate(block.segments))
        return TurnResult().say(
            f'Which segment should meet you there? {names}. For example: "add a forum for segment 1".'
        )
    result = TurnResult()
    segments = list(block.segments)
    advices = []
    for index in indexes:
        segment = segments[index]
        profile = SegmentProfile.from_dict(
            {**segment.profile.to_dict(), "touchpoints": [*segment.profile.touchpoints, *touchpoints]}
        )
        advice = recommend_segment(profile, knowledge)
        advices.append(advice)
        kept = [c for c in segment.choices if c.origin != "accepted"]
        fresh = [c for c in choices_from_advice(advice) if c.type_id not in {k.type_id for k in kept}]
        segments[index] = Segment(profile, fresh + kept)
        places = ", ".join(knowledge.touchpoint_label(t).lower() for t in touchpoints)
        segment_name = literal(profile.name) if profile.name else f"segment {index + 1}"
        result.say(TOUCHPOINT_ADDED.format(places=places, segment=segment_name))
        result.messages.append(advice_message(index, profile, advice, knowledge))
    block.segments = segments
    result.messages += warning_messages(block, knowledge)
    result.segments = segments
    result.slots["stage"] = "review"
    return result.say(*review_prompt(advices, knowledge))


def confirm_block(block: CanvasBlock, knowledge: Optional[Knowledge] = None) -> TurnResult:
    """Shows the whole block and asks whether to save it."""
    result = TurnResult(slots={"stage": "confirm"}).say(
        "Here is your Customer Relationships block:\n" + render_block(block)
    )
    result.messages += warning_messages(block, knowledge)
    return result.say(*pending_prompt("confirm", None))


def edit_block(
    intent: str,
    text: str,
    entity_types: Sequence[str],
    block: CanvasBlock,
    stage: Optional[str],
    knowledge: Optional[Knowledge] = None,
    entity_touchpoints: Sequence[str] = (),
) -> TurnResult:
    """An add, drop or swap the founder asked for; once there are recommendations to change.
    "Add a forum" (a touchpoint, no relationship type) accepts a check's fix."""
    if stage not in ("review", "confirm", "saved"):
        return TurnResult(then_prompt=True).say(EDIT_TOO_EARLY)
    knowledge = knowledge or load_knowledge()
    if intent == "add_relationship" and block.segments:
        places = _places_named(text, entity_touchpoints, knowledge)
        if places:
            return add_touchpoints(text, places, block, knowledge)
    edit = apply_edit(intent, text, entity_types, block, knowledge)
    result = TurnResult().say(edit.message)
    if not edit.changed:
        return result
    result.say(render_block(edit.block))
    result.messages += warning_messages(edit.block, knowledge)
    result.segments = edit.block.segments
    result.slots["stage"] = "review"
    return result.say(*pending_prompt("review", None))


def block_saved(block: CanvasBlock) -> TurnResult:
    """The saved block, to read and (where the channel can) to see as a card."""
    result = TurnResult(slots={"stage": "saved"})
    result.messages += saved_block_messages(block)
    return result.say(saved_message(block.version))


def save_failed() -> TurnResult:
    # Nothing is lost: the answers stay in the conversation, and "yes" tries again.
    return TurnResult(slots={"stage": "confirm"}).say(SAVE_FAILED, yes_no_buttons("Try again", "Not now"))


# ---------------------------------------------------------------- edits

_ORDINALS = {
    "first": 0,
    "1st": 0,
    "one": 0,
    "second": 1,
    "2nd": 1,
    "two": 1,
    "third": 2,
    "3rd": 2,
    "three": 2,
    "fourth": 3,
    "4th": 3,
    "four": 3,
    "fifth": 4,
    "5th": 4,
    "five": 4,
    "last": -1,
}


def find_segment(text: str, segments: Sequence[Segment]) -> Optional[int]:
    """Which segment the founder refers to: by ordinal ("the second segment",
    "segment 2") or by a word of its name ("for the small shops")."""
    if not segments:
        return None
    lowered = (text or "").lower()
    lowered = re.sub(
        r"\bsegment\s+(one|two|three|four|five)\b", lambda m: f"segment {_ORDINALS[m.group(1)] + 1}", lowered
    )
    match = re.search(r"\bsegment\s*(?:#|no\.?|number)?\s*(\d+)\b", lowered)
    if match and 1 <= int(match.group(1)) <= len(segments):
        return int(match.group(1)) - 1
    for word, index in _ORDINALS.items():
        if re.search(rf"\b(?:the\s+)?{word}\s+(?:segment|one|group)\b", lowered):
            index = index if index >= 0 else len(segments) - 1
            if index < len(segments):
                return index
    scores = []
    for index, segment in enumerate(segments):
        name_words = {w for w in re.findall(r"[a-z]{3,}", (segment.profile.name or "").lower())} - {
            "the",
            "and",
            "who",
            "with",
        }
        scores.append((sum(1 for w in name_words if re.search(rf"\b{w}", lowered)), -index))
    best, neg_index = max(scores)
    return -neg_index if best else None


@dataclass
class EditResult:
    block: CanvasBlock
    message: str
    changed: bool


def apply_edit(
    intent: str, text: str, entity_types: Sequence[str], block: CanvasBlock, knowledge: Optional[Knowledge] = None
) -> EditResult:
    """add_relationship, drop_relationship or swap_relationship on the block.

    The types come from the NLU entities when there are any, else from the text;
    the segment from the text, or the only segment there is."""
    knowledge = knowledge or load_knowledge()
    types = [t for t in dict.fromkeys([*entity_types, *values_of(text, "relationship_type")]) if t in knowledge.types]
    if not block.segments:
        return EditResult(
            block, "We have no segments yet, so there is nothing to change. Let's describe one first.", False
        )
    index = find_segment(text, block.segments)
    if index is None:
        if len(block.segments) == 1:
            index = 0
        elif intent in ("drop_relationship", "swap_relationship") and types:
            # "drop communities", "swap communities for ...": the one segment that holds it
            holders = [i for i, s in enumerate(block.segments) if any(c.type_id in types for c in s.choices)]
            index = holders[0] if len(holders) == 1 else None
    if index is None:
        names = "; ".join(f"{i + 1}. {literal(s.profile.name)}" for i, s in enumerate(block.segments))
        return EditResult(
            block,
            f'Which segment should I change? {names}. For example: "{_example_edit(intent)} for segment 1".',
            False,
        )
    segment = block.segments[index]
    held = [c.type_id for c in segment.choices]
    label = literal(segment.profile.name) if segment.profile.name else f"segment {index + 1}"
    name = knowledge.type_name
    if intent == "add_relationship":
        if not types:
            return EditResult(
                block,
                'Which relationship type should I add? For example: "add self-service for the small shops".',
                False,
            )
        new = [t for t in types if t not in held]
        if not new:
            return EditResult(block, f"{label} already has {name(types[0])}.", False)
        for type_id in new:
            segment.choices.append(_founder_choice(type_id, segment.profile, "added", knowledge))
        return EditResult(block, f"Added {', '.join(name(t) for t in new)} to {label}.", True)
    if intent == "drop_relationship":
        gone = [t for t in types if t in held]
        if not gone:
            what = name(types[0]) if types else "that type"
            return EditResult(
                block,
                f"{label} doesn't have {what}. It has: {', '.join(name(t) for t in held) or 'nothing yet'}.",
                False,
            )
        segment.choices = [c for c in segment.choices if c.type_id not in gone]
        return EditResult(block, f"Dropped {', '.join(name(t) for t in gone)} from {label}.", True)
    if intent == "swap_relationship":
        # "swap A for B", "replace A with B": the held one goes, the other comes in.
        if len(types) < 2:
            return EditResult(block, 'Tell me both types, for example: "swap communities for co-creation".', False)
        old, new = (types[0], types[1]) if types[0] in held or types[1] not in held else (types[1], types[0])
        if re.search(r"\binstead of\b", text or "", re.I) and types[1] in held:
            old, new = types[1], types[0]
        if old not in held:
            return EditResult(
                block,
                f"{label} doesn't have {name(old)}, so there is nothing to swap. It has: {', '.join(name(t) for t in held)}.",
                False,
            )
        if new in held:  # swapping in a type the segment already has: keep it once
            segment.choices = [c for c in segment.choices if c.type_id != old]
            return EditResult(block, f"{label} already has {name(new)}, so I dropped {name(old)}.", True)
        position = held.index(old)
        segment.choices[position] = _founder_choice(new, segment.profile, "edited", knowledge)
        return EditResult(block, f"Swapped {name(old)} for {name(new)} in {label}.", True)
    raise ValueError(f"not an edit intent: {intent}")


def _example_edit(intent: str) -> str:
    return {"add_relationship": "add self-service", "drop_relationship": "drop communities"}.get(
        intent, "swap communities for co-creation"
    )


def _founder_choice(type_id: str, profile: SegmentProfile, origin: str, knowledge: Knowledge) -> RelationshipChoice:
    """A type the founder chose; it keeps the engine's reasons when the engine has any."""
    advice = recommend(profile, knowledge)
    match = next((r for r in advice.recommendations if r.type_id == type_id), None)
    reasons = list(match.reasons) if match else ["Chosen by the founder."]
    return RelationshipChoice(
        type_id=type_id,
        name=knowledge.type_name(type_id),
        reasons=reasons,
        origin=origin,
        score=round(match.score, 3) if match else None,
    )


# ---------------------------------------------------------------- questions


@dataclass
class QuestionContext:
    requested_slot: Optional[str] = None  # the form question pending, if any
    stage: Optional[str] = None
    segments: Sequence[Segment] = ()


def answer_question(
    intent: str, text: str, entity_types: Sequence[str], context: QuestionContext, knowledge: Optional[Knowledge] = None
) -> str:
    """The coach's answer to a founder's question, from the knowledge files."""
    knowledge = knowledge or load_knowledge()
    types = [t for t in dict.fromkeys([*entity_types, *values_of(text, "relationship_type")]) if t in knowledge.types]
    if intent == "ask_capabilities":
        return CAPABILITIES
    if intent == "ask_why":
        return _answer_why(types, context, knowledge)
    if intent == "ask_advice":
        return answer_advice(text, types, knowledge)
    if intent == "ask_difference":
        if len(types) >= 2:
            return _difference(types[0], types[1], knowledge)
        return 'Which two relationship types should I compare? For example: "self-service vs automated services".'
    if not types:
        types = _types_in_focus(context)
    if not types:
        return (
            "Which relationship type do you mean? I know: " + ", ".join(t.name for t in knowledge.types.values()) + "."
        )
    rtype = knowledge.types[types[0]]
    if intent == "ask_example":
        return f"**{rtype.name}**, examples:\n" + "\n".join(f"- {e.case}: {e.what}" for e in rtype.examples[:3])
    if intent == "ask_measure":
        lines = [f"To see whether **{rtype.name}** works, watch:"]
        for kpi_id in rtype.kpis[:3]:
            kpi = knowledge.kpis[kpi_id]
            lines.append(f"- **{kpi.name}**: {kpi.definition}")
        return "\n".join(lines)
    # ask_definition, and anything else about one type
    example = rtype.examples[0] if rtype.examples else None
    answer = f"**{rtype.name}**: {' '.join(rtype.definition.split())}"
    if example:
        answer += f"\nFor example, {example.case}: {example.what}"
    return answer


def reply_to_question(
    intent: str, text: str, entity_types: Sequence[str], context: QuestionContext, knowledge: Optional[Knowledge] = None
) -> TurnResult:
    """A founder's question answered, then the pending question."""
    # A huge message may look like a question to the NLU; it gets asked to sum up, like any answer.
    return TurnResult(then_prompt=True).say(
        too_long(text) or answer_question(intent, text, entity_types, context, knowledge)
    )


# Which part of the seeds' playbook (playbook.yml) a request for advice asks for, by its words;
# anything else gets the best practices.
_ADVICE_SECTIONS = (
    (
        "challenges",
        re.compile(
            r"\b(?:mistakes?|errors?|pitfalls?|challenges?|go(?:es)? wrong|problems?|avoid|traps?|"
            r"risks?|hard|difficult|don'?ts?|watch out)\b",
            re.I,
        ),
    ),
    ("tips", re.compile(r"\btips?\b|\brules? of thumb\b", re.I)),
)
_FAQ_MATCH = 0.6  # the share of an FAQ question's words a message must use to be that question
_FILLER = {
    "what",
    "the",
    "is",
    "are",
    "a",
    "an",
    "of",
    "my",
    "i",
    "do",
    "how",
    "for",
    "to",
    "and",
    "can",
    "your",
    "you",
    "me",
    "in",
    "with",
    "should",
    "does",
    "it",
    "this",
    "that",
    "which",
    "there",
}


def _content_words(text: str) -> set:
    return set(tokens(text)) - _FILLER


def answer_advice(text: str, types: Sequence[str], knowledge: Knowledge) -> str:
    """The seeds' advice: for a relationship type named, how to make it work; else the
    FAQ's answer to the question asked, the common challenges, tips or best practices."""
    if types:
        rtype = knowledge.types[types[0]]
        lines = [f"To make **{rtype.name}** work, from the seeds:"]
        for stage, label in (("acquire", "Get"), ("keep", "Keep"), ("grow", "Grow")):
            lines += [f"- {label}: {tactic}" for tactic in rtype.tactics.get(stage, [])]
        if rtype.cost_caveat:
            lines.append(f"- Watch the cost: {rtype.cost_caveat}")
        return "\n".join(lines)
    book = knowledge.playbook
    words = _content_words(text)
    scored = [
        (len(words & _content_words(item["question"])) / max(len(_content_words(item["question"])), 1), n)
        for n, item in enumerate(book["faq"])
    ]
    share, best = max(scored)
    if share >= _FAQ_MATCH:
        item = book["faq"][best]
        return f"**{item['question']}**\n{item['answer']}"
    section = next((name for name, words_of in _ADVICE_SECTIONS if words_of.search(text or "")), "best_practices")
    if section == "challenges":
        return "Common challenges, and how founders overcome them:\n" + "\n".join(
            f"- **{c['challenge']}** {' '.join(c['how_to_overcome'])}" for c in book["challenges"]
        )
    if section == "tips":
        return "A few tips:\n" + "\n".join(f"- {t['text']}" for t in book["tips"])
    return "Best practices for customer relationships:\n" + "\n".join(
        f"- **{p['title']}**: {p['text']}" for p in book["best_practices"]
    )


def _types_in_focus(context: QuestionContext) -> List[str]:
    """The types the founder is probably asking about: the last recommended ones."""
    for segment in reversed(list(context.segments)):
        if segment.choices:
            return [segment.choices[0].type_id]
    return []


def _answer_why(types: Sequence[str], context: QuestionContext, knowledge: Knowledge) -> str:
    question = knowledge.interview.question(context.requested_slot)
    if question:
        return f"I ask because: {question.why}"
    for index, segment in enumerate(context.segments):
        for choice in segment.choices:
            if not types or choice.type_id in types:
                reasons = "\n".join(f"- {r}" for r in choice.reasons) or "- You chose it yourself."
                segment_name = literal(segment.profile.name) if segment.profile.name else f"segment {index + 1}"
                return f"Why **{literal(choice.name)}** for {segment_name}:\n{reasons}"
    if types:
        rtype = knowledge.types[types[0]]
        return (
            f"I haven't recommended {rtype.name} for any of your segments. "
            f"It fits when: {' '.join(rtype.definition.split())}"
        )
    return (
        "Every question I ask feeds the recommendation: who the segment is, what each customer is worth, "
        "how often they buy, how much help they want, whether they'd help each other, where they meet you, "
        "and what the relationship should do first."
    )


def _difference(first: str, second: str, knowledge: Knowledge) -> str:
    a, b = knowledge.types[first], knowledge.types[second]
    lines = [
        f"**{a.name}** vs **{b.name}**:",
        f"- {a.name}: {' '.join(a.definition.split())}",
        f"- {b.name}: {' '.join(b.definition.split())}",
    ]
    for label, attr in (("Link", "link"), ("Intimacy", "intimacy"), ("Cost to serve", "cost_to_serve")):
        va, vb = getattr(a, attr), getattr(b, attr)
        if va != vb:
            lines.append(f"- {label}: {str(va).replace('_', ' ')} vs {str(vb).replace('_', ' ')}")
    return "\n".join(lines)


# ---------------------------------------------------------------- what the coach says

INTRO = (
    "Hi, I'm Rapport, your coach for the **Customer Relationships** block of your Business Model Canvas. "
    "It says how you get, keep and grow each of your customer segments: personal help, self-service, "
    "communities, co-creation, subscriptions and more.\n"
    "In about fifteen minutes you'll leave with a finished block: a relationship for each segment, with the "
    "reasons, ready to export. Ready?"
)
CAPABILITIES = (
    "I walk you through your customer segments, what each needs, and where they meet you. Then I "
    "recommend relationship types for each segment, with reasons, tactics to get, keep and grow "
    'customers, and the KPIs to watch. You can change anything ("swap communities for co-creation"), '
    'ask me "what is co-creation?" or "why?" at any time, and you leave with a saved block you can '
    'export. You can also say "show my canvas", "start over", "let\'s stop here" or "delete my data".'
)
WHAT_TO_CHANGE = (
    'What would you like to change? For example: "swap communities for co-creation", '
    '"add self-service for the small shops", "drop subscription", or "change the second segment".'
)
EDIT_TOO_EARLY = (
    "We'll choose relationship types once your segments are described; then you can add, drop or swap any of them."
)
SAVE_FAILED = (
    "I couldn't save your block just now: the database is busy. Nothing is lost, your answers are all "
    "still here. Shall I try again?"
)
# What every channel says when something outside the conversation goes wrong (bot/knowledge/texts.yml).
ACTIONS_UNREACHABLE = load_texts()["actions_unreachable"]
STORE_BUSY = load_texts()["store_busy"]
MESSAGE_NOT_STORED = load_texts()["message_not_stored"]
NOTHING_TO_SHOW = "There's no canvas yet. Once we've described a segment, \"show my canvas\" shows it."
PAUSED = (
    "Let's stop here. Everything so far is kept. When you come back, say \"continue\" and we'll pick up "
    "right where we left off."
)
STARTING_OVER = "Starting over with a clean sheet. Blocks you saved before stay saved."
CONFIRM_DELETE = "Delete all your saved blocks and answers? This can't be undone."
DELETE_BUTTONS = [
    {"title": "Yes, delete everything", "payload": "/confirm_delete"},
    {"title": "No, keep it", "payload": "/deny"},
]
NOT_DELETED = "Good, nothing was deleted."
DELETED = (
    "Done: I've deleted your saved blocks and forgotten this conversation and your answers. "
    'Say "hi" if you want to start again.'
)
DELETE_INCOMPLETE = (
    "I couldn't delete your data just now: the database is busy. Nothing was deleted, so nothing is "
    "half gone. Shall I try again?"
)
EXPORTED = (
    "Here is everything I have stored about you: every version of your blocks and our whole conversation, "
    'as Markdown and as JSON. "Delete my data" removes all of it.'
)
NOTHING_TO_EXPORT = (
    "I have no saved block of yours yet, only our conversation, which is in these files. Once a "
    'block is saved, "export my data" sends you every version of it too.'
)


def yes_no_buttons(yes: str = "Yes", no: str = "No") -> List[Dict[str, str]]:
    return [{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}]


def segments_intro(venture_name: Optional[str]) -> str:
    return (
        f"Thanks! Now the customer segments of {literal(venture_name) if venture_name else 'your venture'}, one at a time: "
        "different segments often need different relationships."
    )


def welcome_back(venture_name: Optional[str]) -> str:
    return f"Welcome back! We're working on {literal(venture_name)}." if venture_name else "Welcome back!"


def saved_message(version: Optional[int]) -> str:
    return (
        f'Saved as version {version} of your block. Say "show my canvas" any time to see it again, '
        '"change the second segment" to revise it, or "start over" for a new venture.'
    )


def which_segment(segments: Sequence[Segment]) -> str:
    if not segments:
        return "We haven't described any segment yet. Let's get there first."
    names = "; ".join(f"{i + 1}. {literal(s.profile.name)}" for i, s in enumerate(segments))
    return f'Which segment should we change? {names}. For example: "change segment 2".'


def redo_segment(index: int, segment: Segment) -> str:
    return f"Let's redo segment {index + 1} ({literal(segment.profile.name)}). I'll ask its questions again."


def what_to_change() -> TurnResult:
    """The founder wants changes to the recommendations: back to the review, asking what."""
    return TurnResult(slots={"stage": "review"}).say(WHAT_TO_CHANGE)


def pause() -> TurnResult:
    return TurnResult().say(PAUSED)


def delete_request() -> TurnResult:
    """ "Delete my data": asked to confirm first; until then only yes or no goes on."""
    return TurnResult(slots={"confirming_delete": True}).say(CONFIRM_DELETE, DELETE_BUTTONS)


def greet(venture_name: Optional[str], stage: Optional[str]) -> TurnResult:
    """A greeting: a returning founder is welcomed back; then the pending question."""
    result = TurnResult(then_prompt=True)
    if venture_name or stage not in (None, "intro"):
        result.say(welcome_back(venture_name))
    return result


def resume(
    confirming_delete: bool, venture_name: Optional[str], stage: Optional[str], paused_form: Optional[str]
) -> TurnResult:
    """Back from a pause, or from saying no to deleting everything."""
    result = TurnResult(slots={"confirming_delete": False}).say(
        NOT_DELETED if confirming_delete else welcome_back(venture_name)
    )
    if not paused_form:  # else the rules run the paused form next, which asks
        result.say(*pending_prompt(stage, None))
    return result


def shows_saved_copy(block: CanvasBlock, stage: Optional[str]) -> bool:
    """Whether "show my canvas" shows the last saved block rather than the one in progress:
    once saved, the store's copy is the one with its version number."""
    return not block.segments or stage == "saved"


def show_canvas(block: Optional[CanvasBlock]) -> TurnResult:
    result = TurnResult(then_prompt=True)
    if block is None or not block.segments:
        return result.say(NOTHING_TO_SHOW)
    return result.say(to_markdown(block))


def data_export(
    channel: str,
    sender_id: str,
    blocks: List[CanvasBlock],
    founder: Optional[Dict[str, Any]] = None,
    conversation: Sequence[Dict[str, Any]] = (),
) -> TurnResult:
    """Everything the stores hold about a founder, as files; then the pending question."""
    result = TurnResult(then_prompt=True).say(EXPORTED if blocks else NOTHING_TO_EXPORT)
    # Channels that can hand over files (the widget's downloads, Slack's uploads) draw this.
    files = founder_data_files(channel, sender_id, blocks, founder, conversation)
    result.messages.append(Message(data={"type": "data_export", "files": files}))
    return result


def pending_prompt(
    stage: Optional[str],
    paused_form: Optional[str],
    saved_segment: Optional[str] = None,
    confirming_delete: bool = False,
) -> Tuple[str, List[Dict[str, str]]]:
    """The question the founder has pending at this stage, with its quick replies."""
    if confirming_delete:  # only yes or no goes on from here
        return CONFIRM_DELETE, DELETE_BUTTONS
    if paused_form:
        return 'Say "continue" when you want to pick up where we left off.', [
            {"title": "Continue", "payload": "/resume"}
        ]
    if stage == "more_segments":
        lead = f"Got it, {saved_segment} noted. " if saved_segment else ""
        return lead + "Is there another customer segment to describe?", yes_no_buttons(
            "Yes, another one", "No, that's all"
        )
    if stage == "review":
        return (
            'Do these fit? Accept them, or tell me what to change, e.g. "swap communities for co-creation".',
            yes_no_buttons("Looks good", "Change something"),
        )
    if stage == "confirm":
        return "Shall I save this block?", yes_no_buttons("Save it", "Not yet")
    if stage == "saved":
        return (
            'Your block is saved. Say "show my canvas" to see it, "change the second segment" to revise it, '
            'or "start over".',
            [{"title": "Show my canvas", "payload": "/show_canvas"}],
        )
    if stage == "segments":
        return 'Say "continue" to go on with your segments.', [{"title": "Continue", "payload": "/resume"}]
    return INTRO, [
        {"title": "I'm ready", "payload": "/affirm"},
        {"title": "What will I get?", "payload": "/ask_capabilities"},
    ]


FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope"}  # the NLU's ways of saying it did not understand


def consecutive_misses(recent_intents: Sequence[Optional[str]]) -> int:
    """How many of the founder's latest messages in a row the coach did not understand.

    recent_intents: the intents of the founder's messages, the latest first."""
    misses = 0
    for intent in recent_intents:
        if intent not in FALLBACK_INTENTS:
            break
        misses += 1
    return misses


def not_understood(
    recent_intents: Sequence[Optional[str]], text: str, stage: Optional[str], in_form: bool
) -> TurnResult:
    """The answer to a message the coach did not understand, then the pending question.

    recent_intents: the intents of the founder's messages, the latest (this one) first."""
    message, buttons = fallback(consecutive_misses(recent_intents), stage, in_form)
    return TurnResult(then_prompt=True).say(too_long(text) or message, buttons)


def fallback(misses: int, stage: Optional[str], in_form: bool) -> Tuple[str, List[Dict[str, str]]]:
    """What the coach says when it did not understand; buttons from the second miss in a row."""
    text = (
        "Sorry, I didn't understand that. I'm here to help with the Customer Relationships block: "
        'your segments, the relationship that fits each, and questions like "what is co-creation?".'
    )
    if misses < 2:
        return text, []
    buttons = [
        {"title": "What can you do?", "payload": "/ask_capabilities"},
        {"title": "Show my canvas", "payload": "/show_canvas"},
    ]
    if in_form:
        buttons.insert(0, {"title": "Not sure, skip it", "payload": "not sure"})
    elif stage in (None, "intro"):
        buttons.insert(0, {"title": "Let's start", "payload": "/affirm"})
    else:
        buttons.insert(0, {"title": "Continue", "payload": "/resume"})
    return text + " Here are some things you can do:", buttons
