"""What the coach shows, built once as data and then rendered per channel.

A turn's outcome is a TurnResult: the messages to send (text, buttons, and data a
channel may draw) and the slots to change. The Rasa actions only turn it into
events. A block is presented as the `canvas_block` payload (block.to_dict() and
its Markdown), which the web widget draws as a card and other channels render
their own way; the recommendations for a segment carry the `advice` payload, kept
in the conversation's record for the review dashboard and drawn by no channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from bot.coach.canvas import CanvasBlock, Segment
from bot.coach.engine import Advice, check_block
from bot.coach.export import block_file_name, to_markdown, touchpoint_labels
from bot.coach.knowledge import Knowledge, load_knowledge
from bot.coach.markdown import literal
from bot.coach.profile import SegmentProfile


@dataclass
class Message:
    text: Optional[str] = None
    buttons: List[Dict[str, str]] = field(default_factory=list)
    data: Optional[Dict[str, Any]] = None  # a payload a channel may draw (canvas_block)
    advice: Optional[Dict[str, Any]] = None  # what the coach recommended and why, for the record only


@dataclass
class TurnResult:
    """What one turn of the coach says and changes."""

    messages: List[Message] = field(default_factory=list)
    slots: Dict[str, Any] = field(default_factory=dict)  # slot name -> new value
    segments: Optional[List[Segment]] = None  # the finished segments, when they changed (then autosaved)
    then_prompt: bool = False  # afterwards, ask the question the founder has pending

    def say(self, text: str, buttons: Optional[List[Dict[str, str]]] = None, **kwargs: Any) -> "TurnResult":
        self.messages.append(Message(text, list(buttons or []), **kwargs))
        return self


# ---------------------------------------------------------------- recommendations


def advice_payload(index: int, profile: SegmentProfile, advice: Advice) -> Dict[str, Any]:
    """The recommendations for one segment as data: what the review dashboard reads."""
    missing = advice.most_informative_missing
    return {
        "segment_index": index,
        "segment_name": profile.name or f"Segment {index + 1}",
        "profile": profile.to_dict(),
        "recommendations": [
            {
                "type_id": r.type_id,
                "name": r.name,
                "score": r.score,
                "reasons": list(r.reasons),
                # What the founder read under the type (render_advice), word for word.
                "shown": shown_lines(r, rank),
                "rules": [dict(rule, shown=rule["because"] in shown_lines(r, rank)) for rule in r.rules],
                "check": dict(r.check) if r.check else None,
            }
            for rank, r in enumerate(advice.recommendations, start=1)
        ],
        "missing": missing.field if missing else None,
    }


def shown_lines(rec: Any, rank: int) -> List[str]:
    """The reasons, fix and caution the founder reads under a recommended type: its first
    reason (always its own), the check's fix, and the strongest rule against it."""
    lines = rec.reasons[:1]
    if rec.fix:
        lines.append(rec.fix)
    if rec.cautions:
        lines.append(rec.cautions[0])
    return lines


def fix_buttons(advice_by_segment: List[Any], knowledge: Optional[Knowledge] = None) -> List[Dict[str, str]]:
    """One button per touchpoint that fixes a recommended type's meeting-place check: a
    click adds it to the segments that need it ("add a forum"), and the advice is redone."""
    knowledge = knowledge or load_knowledge()
    wanted: List[str] = []
    for advice in advice_by_segment:
        for rec in advice.recommendations:
            for touchpoint in (rec.check or {}).get("touchpoints") or []:
                if touchpoint not in wanted:
                    wanted.append(touchpoint)
    return [
        {
            "title": f"Add: {knowledge.touchpoint_label(t).lower()}",
            "payload": '/add_relationship{"touchpoint": "%s"}' % t,
        }
        for t in wanted
    ]


def render_advice(index: int, profile: SegmentProfile, advice: Advice, knowledge: Optional[Knowledge] = None) -> str:
    """One short chat message with the recommendations for one segment."""
    knowledge = knowledge or load_knowledge()
    lines = [f"**Segment {index + 1}: {literal(profile.name) if profile.name else 'Customers'}**"]
    for rank, rec in enumerate(advice.recommendations, start=1):
        lines.append(f"{rank}. **{rec.name}**: {rec.reasons[0] if rec.reasons else ''}".rstrip(": "))
        if rec.fix:  # in place: the type stays where its evidence puts it, with what it needs
            lines.append(f"   - To make it work: {rec.fix}")
        if rank == 1:
            lines.append(f"   - Get: {rec.tactics.get('acquire', ['-'])[0]}")
            lines.append(f"   - Keep: {rec.tactics.get('keep', ['-'])[0]}")
            lines.append(f"   - Grow: {rec.tactics.get('grow', ['-'])[0]}")
            lines.append(
                f"   - Where: {touchpoint_labels(rec.touchpoints[:3], knowledge)}; watch {', '.join(rec.kpis[:3])}"
            )
        if rec.cost_caveat and rank == 1:
            lines.append(f"   - Cost: {rec.cost_caveat}")
        if rec.cautions:  # the strongest rule that spoke against it
            lines.append(f"   - Against it: {rec.cautions[0]}")
    if advice.most_informative_missing:
        lines.append(f"_Still open: {advice.most_informative_missing.question} {advice.most_informative_missing.why}_")
    return "\n".join(lines)


def advice_message(
    index: int, profile: SegmentProfile, advice: Advice, knowledge: Optional[Knowledge] = None
) -> Message:
    """The chat message that presents one segment's recommendations, with their record."""
    return Message(render_advice(index, profile, advice, knowledge), advice=advice_payload(index, profile, advice))


# ---------------------------------------------------------------- the block


def block_payload(block: CanvasBlock) -> Dict[str, Any]:
    """The block as data, which channels draw (the widget as a card of sticky notes)."""
    return {
        "type": "canvas_block",
        "block": block.to_dict(),
        "markdown": to_markdown(block),
        "file_name": block_file_name(block),  # the downloads' name, without the extension
    }


def render_block(block: CanvasBlock) -> str:
    """The whole block, compact, for the confirmation step."""
    lines = [
        f"**{literal(block.venture_name)}**" + (f": {literal(block.venture_offer)}" if block.venture_offer else "")
    ]
    for i, segment in enumerate(block.segments, start=1):
        names = (
            ", ".join(literal(c.name) + (" (added)" if c.origin == "added" else "") for c in segment.choices)
            or "nothing chosen yet"
        )
        lines.append(f"{i}. {literal(segment.profile.name) if segment.profile.name else 'Customers'}: {names}")
    return "\n".join(lines)


def block_warnings(block: CanvasBlock, knowledge: Optional[Knowledge] = None) -> List[str]:
    pairs = [(s.profile, [c.type_id for c in s.choices]) for s in block.segments]
    return [w.message for w in check_block(pairs, knowledge or load_knowledge())]


def warning_messages(block: CanvasBlock, knowledge: Optional[Knowledge] = None) -> List[Message]:
    return [Message(f"⚠️ {warning}") for warning in block_warnings(block, knowledge)]


def saved_block_messages(block: CanvasBlock) -> List[Message]:
    """The saved block: its Markdown to read, and the same as data for channels that draw it."""
    payload = block_payload(block)
    return [Message(payload["markdown"]), Message(data=payload)]
