"""A conversation's events as the transcript page and the Markdown export show
them: founder and coach messages in order, the founder's intent and confidence,
the rules behind each recommendation, and everything else (actions, slot
changes, session starts) grouped between messages, to be folded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence

from bot.coach.markdown import unescape
from bot.review.read_model import LOW_CONFIDENCE, after_last_restart, event_data
from bot.review.tracker import TrackerEvents

PAGE_EVENTS = 400  # events per transcript page (about 60 turns of the coach)


@dataclass
class Entry:
    kind: str  # founder | coach | steps
    event_id: int
    timestamp: float
    text: str = ""
    intent: Optional[str] = None
    confidence: Optional[float] = None
    advice: Optional[Dict[str, Any]] = None
    buttons: List[str] = field(default_factory=list)
    steps: List[str] = field(default_factory=list)  # for kind == steps

    @property
    def shown(self) -> str:
        """The text as the dashboard shows it (as text): the coach's escapes of founder text undone."""
        return unescape(self.text) if self.kind == "coach" else self.text

    @property
    def low_confidence(self) -> bool:
        return self.confidence is not None and self.confidence < LOW_CONFIDENCE


def entries(events: Sequence[Sequence[Any]]) -> List[Entry]:
    """Tracker rows (oldest first) as transcript entries."""
    result: List[Entry] = []
    for event_id, _sender, type_name, timestamp, intent_name, action_name, raw in events:
        data = event_data(raw)
        if type_name == "user":
            intent = (data.get("parse_data") or {}).get("intent") or {}
            confidence = intent.get("confidence")
            result.append(
                Entry(
                    "founder",
                    event_id,
                    timestamp or 0.0,
                    str(data.get("text") or ""),
                    intent_name or intent.get("name"),
                    float(confidence) if isinstance(confidence, (int, float)) else None,
                )
            )
        elif type_name == "bot":
            advice = (data.get("metadata") or {}).get("advice")
            payload = data.get("data") or {}
            buttons = [b.get("title", "") for b in (payload.get("buttons") or []) if isinstance(b, dict)]
            text = str(data.get("text") or "") or (
                f"({(payload.get('custom') or {}).get('type') or 'custom'} card)"
                if isinstance(payload.get("custom"), dict)
                else ""
            )
            result.append(
                Entry(
                    "coach",
                    event_id,
                    timestamp or 0.0,
                    text,
                    advice=advice if isinstance(advice, dict) else None,
                    buttons=buttons,
                )
            )
        else:
            step = _step(type_name, action_name, data)
            if step is None:
                continue
            if not result or result[-1].kind != "steps":
                result.append(Entry("steps", event_id, timestamp or 0.0))
            result[-1].steps.append(step)
    return result


def _step(type_name: str, action_name: Optional[str], data: Dict[str, Any]) -> Optional[str]:
    if type_name == "action":
        return None if action_name == "action_listen" else f"action {action_name}"
    if type_name == "slot":
        value = json.dumps(data.get("value"), ensure_ascii=False)
        return f"slot {action_name} = {value[:200]}{'…' if len(value) > 200 else ''}"
    if type_name == "session_started":
        return "session started"
    if type_name == "active_loop":
        return f"form {data.get('name') or 'closed'}"
    if type_name in ("user_featurization",):
        return None
    return type_name.replace("_", " ")


@dataclass
class Page:
    entries: List[Entry]
    earlier: Optional[int]  # the `before` id of the previous page; None at the start


def page(
    tracker: TrackerEvents, sender_id: str, first_event_id: int, before: Optional[int] = None, size: int = PAGE_EVENTS
) -> Page:
    """The latest `size` events of the conversation (before `before`), oldest first."""
    rows = tracker.page_of(sender_id, first_event_id - 1, before, size + 1)
    more = len(rows) > size
    rows = list(reversed(rows[:size]))
    rows = list(after_last_restart(rows))
    return Page(entries(rows), rows[0][0] if more and rows else None)


def to_markdown(summary: Dict[str, Any], events: Sequence[Sequence[Any]]) -> str:
    """The whole conversation as Markdown: who said what, when; the founder's words quoted as text."""
    title = summary.get("venture") or summary["sender_id"]
    out = [
        f"# Conversation: {_escape_markdown(_line(title))}",
        "",
        f"- Founder: `{_line(summary['sender_id']).replace('`', '')}`",
        f"- Cohort: {_escape_markdown(_line(summary.get('cohort') or '(none)'))}",
        f"- Channel: {_escape_markdown(_line(summary.get('channel') or ''))}",
        f"- Turns: {summary.get('turns')}",
        "",
    ]
    for entry in entries(after_last_restart(events)):
        if entry.kind == "steps":
            continue
        when = datetime.fromtimestamp(entry.timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        if entry.kind == "founder":
            confidence = f", {entry.confidence:.2f}" if entry.confidence is not None else ""
            out += [f"**Founder** ({when}, intent {entry.intent}{confidence}):", ""]
            out += ["> " + line for line in _escape_markdown(entry.text).splitlines() or [""]]
        else:
            out += [f"**Coach** ({when}):", "", _no_html(entry.text)]
            for segment_rule in _rule_lines(entry.advice):
                out.append(segment_rule)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _rule_lines(advice: Optional[Dict[str, Any]]) -> List[str]:
    if not advice:
        return []
    segment = _escape_markdown(_line(str(advice.get("segment_name") or "the segment")))
    lines = ["", f"_Rules that fired for {segment}:_"]
    for rec in advice.get("recommendations") or []:
        for rule in rec.get("rules") or []:
            lines.append(
                f"- {_line(str(rec.get('name') or rec.get('type_id')))}: `{_line(str(rule.get('id')))}` "
                f"{_line(str(rule.get('because') or ''))}" + (" (shown to the founder)" if rule.get("shown") else "")
            )
    return lines


def _no_html(markdown: str) -> str:
    """The coach's Markdown without live HTML: the coach writes none, so any `<` (from
    founder text the coach quoted before it escaped it) is shown as the character."""
    return re.sub(r"(?<!\\)<", "&lt;", re.sub(r"(?<!\\)&", "&amp;", markdown))


def _escape_markdown(text: str) -> str:
    """The founder's text as literal text in Markdown (no links, HTML or emphasis from it)."""
    out = []
    for char in text:
        out.append("\\" + char if char in "\\`*_{}[]<>()#+-.!|~" else char)
    return "".join(out)


def _line(text: Any) -> str:
    return " ".join(str(text).split())
