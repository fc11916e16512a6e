"""The coach's turn as Slack messages: mrkdwn and Block Kit. Plain functions, no I/O.

A turn's messages (Rasa's collected {"text", "buttons", "custom"} dicts) become one
Slack message: the texts as mrkdwn sections, the finished block (the coach's
`canvas_block` payload) as one section per segment with an Export button, and every
quick reply as a button at the end. Block Kit's limits are kept: 3,000 characters a
section, 50 blocks a message (more makes a second message), 25 buttons an actions
block, 75 characters a button label, 2,000 a button value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

from bot.coach.export import touchpoint_labels, type_label

SECTION_CHARS = 3000
BLOCKS_PER_MESSAGE = 50
BUTTONS_PER_BLOCK = 25
BUTTON_LABEL_CHARS = 75
BUTTON_VALUE_CHARS = 2000
HEADER_CHARS = 150
FALLBACK_CHARS = 3000  # the notification text beside the blocks

# block_id prefixes: what a click is on. The conversation key follows the "|".
CHOICES_BLOCK = "rapport-choices"
EXPORT_BLOCK = "rapport-export"
EXPORT_ACTION = "export"
HOME_START_ACTION = "home-start"


@dataclass
class SlackPost:
    """One chat.postMessage: the notification text and the blocks."""

    text: str
    blocks: List[Dict[str, Any]]


@dataclass
class Turn:
    """What one turn of the coach becomes in Slack."""

    posts: List[SlackPost] = field(default_factory=list)
    uploads: List[Dict[str, str]] = field(default_factory=list)  # {"filename", "mimetype", "content"}
    saved_block: Optional[Dict[str, Any]] = None  # the canvas_block payload, when the turn saved one


# --- Markdown -> mrkdwn ----------------------------------------------------------------

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+|mailto:[^)\s]+)\)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_BOLD_MARK = "\x00"


def escape(text: str) -> str:
    """Slack's three control characters, as its formatting docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# A backslash-escaped character (bot.coach.markdown.literal: what a founder typed) is held
# as a private-use character while the markup is converted, then put back as itself:
# `[Claim](https://example.com)` from a founder stays that text, never a link.
_ESCAPED = re.compile(r"\\([\\`*_\[\]<>~|!&])")
_HELD = 0xF0000  # Unicode's plane 15, private use: never in the coach's text


def _hold_escapes(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(_HELD + ord(m.group(1))), text)


def _put_back(text: str) -> str:
    return re.sub("[\U000f0000-\U000f00ff]", lambda m: escape(chr(ord(m.group(0)) - _HELD)), text)


def to_mrkdwn(markdown: str) -> str:
    """The coach's Markdown as Slack mrkdwn: bold, italics, links, headings and lists;
    what the founder typed (escaped in the Markdown) stays text."""
    lines = []
    for line in escape(_hold_escapes(markdown or "")).split("\n"):
        heading = _HEADING.match(line)
        if heading:
            title = heading.group(1).replace("**", "")
            line = f"{_BOLD_MARK}{title}{_BOLD_MARK}" if title else ""
        bullet = _BULLET.match(line)
        if bullet:
            depth = len(bullet.group(1).expandtabs(4)) // 2
            line = "    " * depth + ("•" if depth == 0 else "◦") + " " + bullet.group(2)
        lines.append(line)
    text = "\n".join(lines)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    text = _BOLD.sub(lambda m: _BOLD_MARK + (m.group(1) or m.group(2)) + _BOLD_MARK, text)
    text = _ITALIC.sub(lambda m: f"_{m.group(1)}_", text)
    return _put_back(text.replace(_BOLD_MARK, "*"))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = SECTION_CHARS) -> List[str]:
    """Pieces of at most `limit` characters, cut at paragraph, then line, then word breaks."""
    pieces: List[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0) or max(window.rfind(" "), 0) or limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def sections(mrkdwn: str) -> List[Dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}} for piece in split_text(mrkdwn)]


# --- buttons ---------------------------------------------------------------------------


def button_blocks(buttons: Sequence[Dict[str, Any]], conversation: str) -> List[Dict[str, Any]]:
    """Every quick reply as a button, 25 to an actions block. A payload too long for a
    button's value is left out (the coach's payloads are short intents)."""
    elements = []
    for button in buttons:
        payload, title = str(button.get("payload") or ""), str(button.get("title") or button.get("payload") or "")
        if not payload or len(payload) > BUTTON_VALUE_CHARS:
            continue
        elements.append(
            {
                "type": "button",
                "action_id": f"choice-{len(elements)}",
                "text": {"type": "plain_text", "text": clip(title, BUTTON_LABEL_CHARS), "emoji": True},
                "value": payload,
            }
        )
    return [
        {
            "type": "actions",
            "block_id": f"{CHOICES_BLOCK}|{conversation}|{n}",
            "elements": elements[start : start + BUTTONS_PER_BLOCK],
        }
        for n, start in enumerate(range(0, len(elements), BUTTONS_PER_BLOCK))
    ]


def after_click(blocks: Iterable[Dict[str, Any]], user: str, title: str) -> List[Dict[str, Any]]:
    """The clicked message as it should then look: the same, without its choice buttons,
    and a line saying who chose what."""
    kept = [b for b in blocks or [] if not str(b.get("block_id") or "").startswith(CHOICES_BLOCK + "|")]
    chosen = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": clip(f"<@{user}> chose *{escape(title)}*", SECTION_CHARS)}],
    }
    return (kept + [chosen])[-BLOCKS_PER_MESSAGE:]


def block_id_conversation(block_id: str, prefix: str) -> Optional[str]:
    """The conversation key a block of ours carries: "prefix|key[|n]" -> key."""
    parts = (block_id or "").split("|")
    return parts[1] if len(parts) >= 2 and parts[0] == prefix and parts[1] else None


# --- the finished block ------------------------------------------------------------------


def canvas_blocks(block: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The block (CanvasBlock.to_dict(), as the coach saved it) in Block Kit: a header,
    what the venture offers, then one section per segment with its relationship types."""
    venture = " ".join(str(block.get("venture_name") or "My venture").split())
    out: List[Dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": clip(f"Customer Relationships: {venture}", HEADER_CHARS),
                "emoji": True,
            },
        }
    ]
    about = []
    if block.get("venture_offer"):
        about.append(f"_{escape(' '.join(str(block['venture_offer']).split()))}_")
    status = "Final" if block.get("status") == "final" else "Draft"
    about.append(status + (f", version {block['version']}" if block.get("version") is not None else ""))
    out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(" · ".join(about), SECTION_CHARS)}]})
    segments = block.get("segments") or []
    if not segments:
        out += sections("_No customer segments yet._")
    for number, segment in enumerate(segments, start=1):
        profile = segment.get("profile") or {}
        name = " ".join(str(profile.get("name") or "").split()) or f"Unnamed segment {number}"
        lines = [f"*Segment {number}: {escape(name)}*"]
        if profile.get("needs"):
            lines.append(f"_Needs:_ {escape(' '.join(str(profile['needs']).split()))}")
        if profile.get("touchpoints"):
            lines.append("_Touchpoints:_ " + escape(touchpoint_labels([str(t) for t in profile["touchpoints"]])))
        choices = segment.get("choices") or []
        for choice in choices:
            reasons = "; ".join(" ".join(str(r).split()) for r in choice.get("reasons") or [] if str(r).strip())
            title = escape(str(choice.get("name") or type_label(str(choice.get("type_id") or ""))))
            lines.append(f"• *{title}*" + (f": {escape(reasons)}" if reasons else ""))
        if not choices:
            lines.append("_No relationship types chosen yet._")
        out.append({"type": "divider"})
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(lines), SECTION_CHARS)}})
    return out


def export_button(block: Dict[str, Any], conversation: str) -> Dict[str, Any]:
    """The Export button under a saved block: its value names the saved version."""
    value = json.dumps({"venture": block.get("venture_name"), "version": block.get("version")})
    return {
        "type": "actions",
        "block_id": f"{EXPORT_BLOCK}|{conversation}",
        "elements": [
            {
                "type": "button",
                "action_id": EXPORT_ACTION,
                "value": value[:BUTTON_VALUE_CHARS],
                "text": {"type": "plain_text", "text": "Export (Markdown and JSON)", "emoji": True},
            }
        ],
    }


# --- one turn --------------------------------------------------------------------------


def render_turn(messages: Sequence[Dict[str, Any]], conversation: str) -> Turn:
    """One turn's collected messages as Slack posts (one, unless over 50 blocks) and uploads."""
    turn = Turn()
    body: List[Dict[str, Any]] = []
    texts: List[str] = []
    buttons: List[Dict[str, Any]] = []
    saved_markdown = {
        str(m["custom"].get("markdown") or "").strip()
        for m in messages
        if isinstance(m.get("custom"), dict) and m["custom"].get("type") == "canvas_block"
    }
    for message in messages:
        text = message.get("text")
        if isinstance(text, str) and text.strip() and text.strip() not in saved_markdown:
            # The block's Markdown is drawn as Block Kit below, not repeated as text.
            mrkdwn = to_mrkdwn(text)
            texts.append(mrkdwn)
            body += sections(mrkdwn)
        for button in message.get("buttons") or message.get("quick_replies") or []:
            if isinstance(button, dict) and button.get("payload") not in {b.get("payload") for b in buttons}:
                buttons.append(button)
        if message.get("image"):
            body += sections(escape(str(message["image"])))
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "canvas_block" and isinstance(custom.get("block"), dict):
            turn.saved_block = custom
            body += canvas_blocks(custom["block"]) + [export_button(custom["block"], conversation)]
            texts.append(f"Customer Relationships: {custom['block'].get('venture_name') or ''}")
        elif isinstance(custom, dict) and custom.get("type") == "data_export":
            turn.uploads += [f for f in custom.get("files") or [] if _valid_file(f)]
        # Any other custom payload, and metadata beside the text, is for other channels.
    actions = button_blocks(buttons, conversation)
    fallback = clip("\n\n".join(texts) or ("Choose one:" if actions else ""), FALLBACK_CHARS)
    room = BLOCKS_PER_MESSAGE - len(actions)
    while len(body) > room:
        turn.posts.append(SlackPost(fallback, body[:BLOCKS_PER_MESSAGE]))
        body = body[BLOCKS_PER_MESSAGE:]
    if body or actions:
        turn.posts.append(SlackPost(fallback, body + actions))
    return turn


def _valid_file(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("filename"), str)
        and item["filename"].strip() != ""
        and isinstance(item.get("content"), str)
    )
