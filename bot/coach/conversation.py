"""The coach's conversation logic, free of Rasa.

The Rasa actions in actions/ are thin adapters: they read a tracker, call these
functions, and turn the results into messages and slot events. Everything a
founder sees in a chat (questions' meaning, answers to questions, recommendations,
edits, the block) is decided here, so it can be tested without a server.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.coach.canvas import CanvasBlock, RelationshipChoice, Segment
from bot.coach.engine import Advice, check_block, recommend
from bot.coach.extract import COMMUNITY_ROLES, SUPPORT_LEVELS, extract_facts, parse_scale, segment_label, values_of
from bot.coach.knowledge import Knowledge, load_knowledge
from bot.coach.profile import FREQUENCIES, GOALS, SegmentProfile

UNKNOWN = "unknown"
MAX_MESSAGE_CHARS = 2000  # longer answers are refused with a request to sum up
RECOMMENDED_PER_SEGMENT = 3

_UNSURE = re.compile(r"\b(?:not sure|no idea|don'?t know|dunno|unknown|unsure|skip|no clue|pass)\b", re.I)


@dataclass(frozen=True)
class Question:
    slot: str
    fields: Tuple[str, ...]  # the profile fields the answer fills
    why: str  # what the coach says when asked "why?" at this question
    entity: Optional[str] = None  # the NLU entity (and button payload) that answers it


# The segment interview, in the order the coach asks. Steps from the seeds:
# segments and their needs, value and cost to serve, channels and touchpoints.
SEGMENT_QUESTIONS: Tuple[Question, ...] = (
    Question("segment_who", ("name", "needs"),
             "Every relationship starts from a segment's needs and expectations: different segments may need different relationships."),
    Question("segment_scale", ("customer_count", "value_per_customer"),
             "How many customers there are and what each is worth decide what you can afford: a named account manager pays off for 20 banks, not for 50,000 students."),
    Question("segment_frequency", ("purchase_frequency",),
             "A one-off purchase suits a transactional relationship; customers who come back every month suit a long-term one such as a subscription.", "purchase_frequency"),
    Question("segment_support", ("expertise_needed", "personal_touch"),
             "The more expertise and personal touch a segment wants, the more it leans to personal or dedicated assistance and advice; the less, the more to self-service and automation.", "support_level"),
    Question("segment_community", ("members_help_each_other", "contributes_ideas"),
             "Customers who help each other make a community possible; customers who bring ideas or designs make co-creation possible.", "community_role"),
    Question("segment_touchpoints", ("touchpoints",),
             "A relationship lives where the segment meets you: a community needs a place to meet, self-service needs a website or an app.", "touchpoint"),
    Question("segment_goal", ("goal",),
             "The relationship should first do what your business needs most: acquire new customers, keep them, or grow them with cross- and up-selling.", "goal"),
)
QUESTION_BY_SLOT = {q.slot: q for q in SEGMENT_QUESTIONS}
SEGMENT_SLOTS = tuple(q.slot for q in SEGMENT_QUESTIONS)
VENTURE_WHY = "Your value proposition shapes the relationship you need: knowing what you offer lets me fit the advice to it."


@dataclass
class Reading:
    """What the coach made of one answer."""

    value: Any = None  # the slot value; None when the answer could not be read
    facts: Dict[str, Any] = field(default_factory=dict)
    problem: Optional[str] = None  # what to tell the founder when value is None


def too_long(text: str) -> Optional[str]:
    if len(text or "") > MAX_MESSAGE_CHARS:
        return (f"That's a lot to take in at once ({len(text):,} characters). "
                f"Could you sum it up in a few sentences (under {MAX_MESSAGE_CHARS:,} characters)?")
    return None


def read_answer(slot: str, text: str, entity_values: Sequence[str] = (), off_topic: bool = False) -> Reading:
    """Reads the founder's answer to one question of the segment interview.

    entity_values are canonical values the NLU or a button gave for this question;
    they win over the free text. off_topic: the NLU took the message for small talk."""
    text = (text or "").strip()
    problem = too_long(text)
    if problem:
        return Reading(problem=problem)
    if not text and not entity_values:
        return Reading(problem="I didn't get an answer there. Could you type it, or pick one of the buttons?")
    unsure = bool(_UNSURE.search(text)) or UNKNOWN in entity_values
    if slot == "segment_who":
        if len(text) < 3 or (unsure and len(_UNSURE.sub("", text).strip(" .,!?")) < 3):
            return Reading(problem="Tell me a little more: who are these customers, and what do they need?")
        facts = extract_facts(text)
        if off_topic and not facts:
            return Reading(problem="That doesn't sound like a group of customers to me. Who buys from you, and what do they need?")
        facts.update(name=segment_label(text), needs=text)
        return Reading(value=text, facts=facts)
    if slot == "segment_scale":
        facts = parse_scale(text)
        if facts or unsure:
            return Reading(value=UNKNOWN if not facts else "given", facts=facts)
        return Reading(problem="I couldn't find a number in that. Roughly how many customers, and what is each worth per year? For example: \"about 300 shops at 2,000 € a year\". If you don't know yet, say \"not sure\".")
    if slot == "segment_touchpoints":
        touchpoints = [v for v in dict.fromkeys([*entity_values, *values_of(text, "touchpoint")]) if v != UNKNOWN]
        if touchpoints:
            return Reading(value=touchpoints, facts={"touchpoints": touchpoints})
        if unsure:
            return Reading(value=UNKNOWN)
        return Reading(problem="Where do they meet you? For example: in store, by phone, email, your website or app, social media, chat, events, or through partners.")
    closed = {
        "segment_frequency": ("purchase_frequency", FREQUENCIES, "How often do they buy: once, now and then, or on a recurring basis?"),
        "segment_support": ("support_level", tuple(SUPPORT_LEVELS), "How much help do they want: serve themselves, quick help when stuck, a personal touch, or expert one-to-one advice?"),
        "segment_community": ("community_role", tuple(COMMUNITY_ROLES), "Would they help each other, contribute ideas, both, or neither?"),
        "segment_goal": ("goal", GOALS, "What should the relationship do first: acquire new customers, keep them, or grow them?"),
    }
    if slot not in closed:
        raise ValueError(f"unknown question slot {slot!r}")
    entity, allowed, ask_again = closed[slot]
    candidates = [v for v in entity_values if v in allowed] or [v for v in values_of(text, entity) if v in allowed]
    if slot == "segment_community" and {"help_each_other", "contribute_ideas"} <= set(candidates):
        candidates = ["both"]
    if candidates:
        value = candidates[0]
        return Reading(value=value, facts=_facts_for(slot, value))
    if unsure:
        return Reading(value=UNKNOWN)
    return Reading(problem=f"Sorry, I didn't catch that. {ask_again}")


def _facts_for(slot: str, value: str) -> Dict[str, Any]:
    if slot == "segment_frequency":
        return {"purchase_frequency": value}
    if slot == "segment_support":
        return dict(SUPPORT_LEVELS[value])
    if slot == "segment_community":
        return dict(COMMUNITY_ROLES[value])
    if slot == "segment_goal":
        return {"goal": value}
    return {}


def prefill(facts: Dict[str, Any], filled: Dict[str, Any]) -> Dict[str, Any]:
    """The interview slots that known facts already answer, so the coach never asks twice.

    filled: the current values of the question slots."""
    answers: Dict[str, Any] = {}
    for question in SEGMENT_QUESTIONS:
        if filled.get(question.slot) is not None or question.slot == "segment_who":
            continue
        if question.slot == "segment_scale":
            if "customer_count" in facts and "value_per_customer" in facts:
                answers[question.slot] = "given"
        elif question.slot == "segment_touchpoints":
            if facts.get("touchpoints"):
                answers[question.slot] = list(facts["touchpoints"])
        elif all(f in facts for f in question.fields):
            answers[question.slot] = _closed_value(question.slot, facts)
    return answers


def _closed_value(slot: str, facts: Dict[str, Any]) -> str:
    if slot == "segment_frequency":
        return facts["purchase_frequency"]
    if slot == "segment_goal":
        return facts["goal"]
    table = SUPPORT_LEVELS if slot == "segment_support" else COMMUNITY_ROLES
    wanted = {f: facts[f] for f in QUESTION_BY_SLOT[slot].fields}
    return next(name for name, sets in table.items() if sets == wanted)


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


# ---------------------------------------------------------------- recommendations


def recommend_segment(profile: SegmentProfile, knowledge: Optional[Knowledge] = None) -> Advice:
    return recommend(profile, knowledge or load_knowledge(), limit=RECOMMENDED_PER_SEGMENT)


def choices_from_advice(advice: Advice) -> List[RelationshipChoice]:
    return [RelationshipChoice(type_id=r.type_id, name=r.name, reasons=list(r.reasons), origin="accepted",
                               score=round(r.score, 3)) for r in advice.recommendations]


def touchpoint_labels(ids: Sequence[str], knowledge: Optional[Knowledge] = None) -> str:
    knowledge = knowledge or load_knowledge()
    return ", ".join(knowledge.touchpoints[i].label if i in knowledge.touchpoints else i for i in ids)


def render_advice(index: int, profile: SegmentProfile, advice: Advice, knowledge: Optional[Knowledge] = None) -> str:
    """One short chat message with the recommendations for one segment."""
    knowledge = knowledge or load_knowledge()
    lines = [f"**Segment {index + 1}: {profile.name or 'Customers'}**"]
    for rank, rec in enumerate(advice.recommendations, start=1):
        lines.append(f"{rank}. **{rec.name}**: {rec.reasons[0] if rec.reasons else ''}".rstrip(": "))
        if rank == 1:
            lines.append(f"   - Get: {rec.tactics.get('acquire', ['-'])[0]}")
            lines.append(f"   - Keep: {rec.tactics.get('keep', ['-'])[0]}")
            lines.append(f"   - Grow: {rec.tactics.get('grow', ['-'])[0]}")
            lines.append(f"   - Where: {touchpoint_labels(rec.touchpoints[:3], knowledge)}; watch {', '.join(rec.kpis[:3])}")
        if rec.cost_caveat and rank == 1:
            lines.append(f"   - Cost: {rec.cost_caveat}")
    if advice.most_informative_missing:
        lines.append(f"_Still open: {advice.most_informative_missing.question} {advice.most_informative_missing.why}_")
    return "\n".join(lines)


def render_block(block: CanvasBlock, knowledge: Optional[Knowledge] = None) -> str:
    """The whole block, compact, for the confirmation step."""
    knowledge = knowledge or load_knowledge()
    lines = [f"**{block.venture_name}**" + (f": {block.venture_offer}" if block.venture_offer else "")]
    for i, segment in enumerate(block.segments, start=1):
        names = ", ".join(c.name + (" (added)" if c.origin == "added" else "") for c in segment.choices) or "nothing chosen yet"
        lines.append(f"{i}. {segment.profile.name or 'Customers'}: {names}")
    return "\n".join(lines)


def block_warnings(block: CanvasBlock, knowledge: Optional[Knowledge] = None) -> List[str]:
    pairs = [(s.profile, [c.type_id for c in s.choices]) for s in block.segments]
    return [w.message for w in check_block(pairs, knowledge or load_knowledge())]


# ---------------------------------------------------------------- edits

_ORDINALS = {"first": 0, "1st": 0, "one": 0, "second": 1, "2nd": 1, "two": 1, "third": 2, "3rd": 2, "three": 2,
             "fourth": 3, "4th": 3, "four": 3, "fifth": 4, "5th": 4, "five": 4, "last": -1}


def find_segment(text: str, segments: Sequence[Segment]) -> Optional[int]:
    """Which segment the founder refers to: by ordinal ("the second segment",
    "segment 2") or by a word of its name ("for the small shops")."""
    if not segments:
        return None
    lowered = (text or "").lower()
    lowered = re.sub(r"\bsegment\s+(one|two|three|four|five)\b",
                     lambda m: f"segment {_ORDINALS[m.group(1)] + 1}", lowered)
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
        name_words = {w for w in re.findall(r"[a-z]{3,}", (segment.profile.name or "").lower())} - {"the", "and", "who", "with"}
        scores.append((sum(1 for w in name_words if re.search(rf"\b{w}", lowered)), -index))
    best, neg_index = max(scores)
    return -neg_index if best else None


@dataclass
class EditResult:
    block: CanvasBlock
    message: str
    changed: bool


def apply_edit(intent: str, text: str, entity_types: Sequence[str], block: CanvasBlock,
               knowledge: Optional[Knowledge] = None) -> EditResult:
    """add_relationship, drop_relationship or swap_relationship on the block.

    The types come from the NLU entities when there are any, else from the text;
    the segment from the text, or the only segment there is."""
    knowledge = knowledge or load_knowledge()
    types = [t for t in dict.fromkeys([*entity_types, *values_of(text, "relationship_type")]) if t in knowledge.types]
    if not block.segments:
        return EditResult(block, "We have no segments yet, so there is nothing to change. Let's describe one first.", False)
    index = find_segment(text, block.segments)
    if index is None:
        if len(block.segments) == 1:
            index = 0
        elif intent in ("drop_relationship", "swap_relationship") and types:
            # "drop communities", "swap communities for ...": the one segment that holds it
            holders = [i for i, s in enumerate(block.segments) if any(c.type_id in types for c in s.choices)]
            index = holders[0] if len(holders) == 1 else None
    if index is None:
        names = "; ".join(f"{i + 1}. {s.profile.name}" for i, s in enumerate(block.segments))
        return EditResult(block, f"Which segment should I change? {names}. For example: \"{_example_edit(intent)} for segment 1\".", False)
    segment = block.segments[index]
    held = [c.type_id for c in segment.choices]
    label = segment.profile.name or f"segment {index + 1}"
    name = knowledge.type_name
    if intent == "add_relationship":
        if not types:
            return EditResult(block, "Which relationship type should I add? For example: \"add self-service for the small shops\".", False)
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
            return EditResult(block, f"{label} doesn't have {what}. It has: {', '.join(name(t) for t in held) or 'nothing yet'}.", False)
        segment.choices = [c for c in segment.choices if c.type_id not in gone]
        return EditResult(block, f"Dropped {', '.join(name(t) for t in gone)} from {label}.", True)
    if intent == "swap_relationship":
        # "swap A for B", "replace A with B": the held one goes, the other comes in.
        if len(types) < 2:
            return EditResult(block, "Tell me both types, for example: \"swap communities for co-creation\".", False)
        old, new = (types[0], types[1]) if types[0] in held or types[1] not in held else (types[1], types[0])
        if re.search(r"\binstead of\b", text or "", re.I) and types[1] in held:
            old, new = types[1], types[0]
        if old not in held:
            return EditResult(block, f"{label} doesn't have {name(old)}, so there is nothing to swap. It has: {', '.join(name(t) for t in held)}.", False)
        if new in held:  # swapping in a type the segment already has: keep it once
            segment.choices = [c for c in segment.choices if c.type_id != old]
            return EditResult(block, f"{label} already has {name(new)}, so I dropped {name(old)}.", True)
        position = held.index(old)
        segment.choices[position] = _founder_choice(new, segment.profile, "edited", knowledge)
        return EditResult(block, f"Swapped {name(old)} for {name(new)} in {label}.", True)
    raise ValueError(f"not an edit intent: {intent}")


def _example_edit(intent: str) -> str:
    return {"add_relationship": "add self-service", "drop_relationship": "drop communities"}.get(intent, "swap communities for co-creation")


def _founder_choice(type_id: str, profile: SegmentProfile, origin: str, knowledge: Knowledge) -> RelationshipChoice:
    """A type the founder chose; it keeps the engine's reasons when the engine has any."""
    advice = recommend(profile, knowledge)
    match = next((r for r in advice.recommendations if r.type_id == type_id), None)
    reasons = list(match.reasons) if match else ["Chosen by the founder."]
    return RelationshipChoice(type_id=type_id, name=knowledge.type_name(type_id), reasons=reasons, origin=origin,
                              score=round(match.score, 3) if match else None)


# ---------------------------------------------------------------- questions


@dataclass
class QuestionContext:
    requested_slot: Optional[str] = None  # the form question pending, if any
    stage: Optional[str] = None
    segments: Sequence[Segment] = ()


def answer_question(intent: str, text: str, entity_types: Sequence[str], context: QuestionContext,
                    knowledge: Optional[Knowledge] = None) -> str:
    """The coach's answer to a founder's question, from the knowledge files."""
    knowledge = knowledge or load_knowledge()
    types = [t for t in dict.fromkeys([*entity_types, *values_of(text, "relationship_type")]) if t in knowledge.types]
    if intent == "ask_capabilities":
        return CAPABILITIES
    if intent == "ask_why":
        return _answer_why(types, context, knowledge)
    if intent == "ask_difference":
        if len(types) >= 2:
            return _difference(types[0], types[1], knowledge)
        return "Which two relationship types should I compare? For example: \"self-service vs automated services\"."
    if not types:
        types = _types_in_focus(context)
    if not types:
        return ("Which relationship type do you mean? I know: "
                + ", ".join(t.name for t in knowledge.types.values()) + ".")
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


def _types_in_focus(context: QuestionContext) -> List[str]:
    """The types the founder is probably asking about: the last recommended ones."""
    for segment in reversed(list(context.segments)):
        if segment.choices:
            return [segment.choices[0].type_id]
    return []


def _answer_why(types: Sequence[str], context: QuestionContext, knowledge: Knowledge) -> str:
    if context.requested_slot in QUESTION_BY_SLOT:
        return f"I ask because: {QUESTION_BY_SLOT[context.requested_slot].why}"
    if context.requested_slot in ("venture_name", "venture_offer"):
        return f"I ask because: {VENTURE_WHY}"
    for index, segment in enumerate(context.segments):
        for choice in segment.choices:
            if not types or choice.type_id in types:
                reasons = "\n".join(f"- {r}" for r in choice.reasons) or "- You chose it yourself."
                return f"Why **{choice.name}** for {segment.profile.name or f'segment {index + 1}'}:\n{reasons}"
    if types:
        rtype = knowledge.types[types[0]]
        return (f"I haven't recommended {rtype.name} for any of your segments. "
                f"It fits when: {' '.join(rtype.definition.split())}")
    return ("Every question I ask feeds the recommendation: who the segment is, what each customer is worth, "
            "how often they buy, how much help they want, whether they'd help each other, where they meet you, "
            "and what the relationship should do first.")


def _difference(first: str, second: str, knowledge: Knowledge) -> str:
    a, b = knowledge.types[first], knowledge.types[second]
    lines = [f"**{a.name}** vs **{b.name}**:",
             f"- {a.name}: {' '.join(a.definition.split())}",
             f"- {b.name}: {' '.join(b.definition.split())}"]
    for label, attr in (("Link", "link"), ("Intimacy", "intimacy"), ("Cost to serve", "cost_to_serve")):
        va, vb = getattr(a, attr), getattr(b, attr)
        if va != vb:
            lines.append(f"- {label}: {str(va).replace('_', ' ')} vs {str(vb).replace('_', ' ')}")
    return "\n".join(lines)


# ---------------------------------------------------------------- what the coach says

INTRO = ("Hi, I'm Rapport, your coach for the **Customer Relationships** block of your Business Model Canvas. "
         "It says how you get, keep and grow each of your customer segments: personal help, self-service, "
         "communities, co-creation, subscriptions and more.\n"
         "In about fifteen minutes you'll leave with a finished block: a relationship for each segment, with the "
         "reasons, ready to export. Ready?")
CAPABILITIES = ("I walk you through your customer segments, what each needs, and where they meet you. Then I "
                "recommend relationship types for each segment, with reasons, tactics to get, keep and grow "
                "customers, and the KPIs to watch. You can change anything (\"swap communities for co-creation\"), "
                "ask me \"what is co-creation?\" or \"why?\" at any time, and you leave with a saved block you can "
                "export. You can also say \"show my canvas\", \"start over\", \"let's stop here\" or \"delete my data\".")
WHAT_TO_CHANGE = ("What would you like to change? For example: \"swap communities for co-creation\", "
                  "\"add self-service for the small shops\", \"drop subscription\", or \"change the second segment\".")
EDIT_TOO_EARLY = "We'll choose relationship types once your segments are described; then you can add, drop or swap any of them."
SAVE_FAILED = ("I couldn't save your block just now: the database is busy. Nothing is lost, your answers are all "
               "still here. Shall I try again?")
STORE_BUSY = "The database is busy right now, so I can't do that this minute. Nothing is lost: please try again shortly."
NOTHING_TO_SHOW = "There's no canvas yet. Once we've described a segment, \"show my canvas\" shows it."
PAUSED = ("Let's stop here. Everything so far is kept. When you come back, say \"continue\" and we'll pick up "
          "right where we left off.")
STARTING_OVER = "Starting over with a clean sheet. Blocks you saved before stay saved."
CONFIRM_DELETE = "Delete all your saved blocks and answers? This can't be undone."
DELETE_BUTTONS = [{"title": "Yes, delete everything", "payload": "/confirm_delete"}, {"title": "No, keep it", "payload": "/deny"}]
NOT_DELETED = "Good, nothing was deleted."
DELETED = ("Done: I've deleted your saved blocks and forgotten this conversation and your answers. "
           "Say \"hi\" if you want to start again.")
DELETE_INCOMPLETE = ("I couldn't delete your data just now: the database is busy. Nothing was deleted, so nothing is "
                     "half gone. Shall I try again?")
EXPORTED = ("Here is everything I have saved about you: every version of your blocks, as Markdown and as JSON. "
            "Besides these, I keep this conversation; \"delete my data\" removes both.")
NOTHING_TO_EXPORT = ("I have no saved block of yours yet, only this conversation. Once a block is saved, "
                     "\"export my data\" sends you every version of it.")


def yes_no_buttons(yes: str = "Yes", no: str = "No") -> List[Dict[str, str]]:
    return [{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}]


def ask_segment_who(number: int) -> str:
    lead = "First segment" if number == 1 else f"Segment {number}"
    return f"{lead}: who are these customers, and what do they need and expect from you?"


def segments_intro(venture_name: Optional[str]) -> str:
    return (f"Thanks! Now the customer segments of {venture_name or 'your venture'}, one at a time: "
            "different segments often need different relationships.")


def welcome_back(venture_name: Optional[str]) -> str:
    return f"Welcome back! We're working on {venture_name}." if venture_name else "Welcome back!"


def saved_message(version: Optional[int]) -> str:
    return (f"Saved as version {version} of your block. Say \"show my canvas\" any time to see it again, "
            "\"change the second segment\" to revise it, or \"start over\" for a new venture.")


def which_segment(segments: Sequence[Segment]) -> str:
    if not segments:
        return "We haven't described any segment yet. Let's get there first."
    names = "; ".join(f"{i + 1}. {s.profile.name}" for i, s in enumerate(segments))
    return f"Which segment should we change? {names}. For example: \"change segment 2\"."


def redo_segment(index: int, segment: Segment) -> str:
    return f"Let's redo segment {index + 1} ({segment.profile.name}). I'll ask its questions again."


def pending_prompt(stage: Optional[str], paused_form: Optional[str], saved_segment: Optional[str] = None
                   ) -> Tuple[str, List[Dict[str, str]]]:
    """The question the founder has pending at this stage, with its quick replies."""
    if paused_form:
        return "Say \"continue\" when you want to pick up where we left off.", [{"title": "Continue", "payload": "/resume"}]
    if stage == "more_segments":
        lead = f"Got it, {saved_segment} noted. " if saved_segment else ""
        return lead + "Is there another customer segment to describe?", yes_no_buttons("Yes, another one", "No, that's all")
    if stage == "review":
        return ("Do these fit? Accept them, or tell me what to change, e.g. \"swap communities for co-creation\".",
                yes_no_buttons("Looks good", "Change something"))
    if stage == "confirm":
        return "Shall I save this block?", yes_no_buttons("Save it", "Not yet")
    if stage == "saved":
        return ("Your block is saved. Say \"show my canvas\" to see it, \"change the second segment\" to revise it, "
                "or \"start over\".", [{"title": "Show my canvas", "payload": "/show_canvas"}])
    if stage == "segments":
        return "Say \"continue\" to go on with your segments.", [{"title": "Continue", "payload": "/resume"}]
    return INTRO, [{"title": "I'm ready", "payload": "/affirm"}, {"title": "What will I get?", "payload": "/ask_capabilities"}]


def fallback(misses: int, stage: Optional[str], in_form: bool) -> Tuple[str, List[Dict[str, str]]]:
    """What the coach says when it did not understand; buttons from the second miss in a row."""
    text = ("Sorry, I didn't understand that. I'm here to help with the Customer Relationships block: "
            "your segments, the relationship that fits each, and questions like \"what is co-creation?\".")
    if misses < 2:
        return text, []
    buttons = [{"title": "What can you do?", "payload": "/ask_capabilities"},
               {"title": "Show my canvas", "payload": "/show_canvas"}]
    if in_form:
        buttons.insert(0, {"title": "Not sure, skip it", "payload": "not sure"})
    elif stage in (None, "intro"):
        buttons.insert(0, {"title": "Let's start", "payload": "/affirm"})
    else:
        buttons.insert(0, {"title": "Continue", "payload": "/resume"})
    return text + " Here are some things you can do:", buttons
