"""What a founder takes away: a block as Markdown (to read) or JSON (to keep).

A block in JSON is ``CanvasBlock.to_dict()`` with a header::

    {"format": "rapport.canvas-block", "format_version": 1, "venture_name": ..., "segments": [...]}

The founder's data export (founder_data_files) holds every saved block that way.
``from_export_dict`` reads such a block back: it checks the header and the shape
before building the block, so a bad file fails with a ValueError that says what is
wrong and where.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

from bot.coach.canvas import CanvasBlock
from bot.coach.knowledge import Knowledge, load_knowledge
from bot.coach.markdown import literal

FORMAT = "rapport.canvas-block"
FORMAT_VERSION = 1

_ORIGIN_MARKERS = {"added": "added by the founder", "edited": "edited by the founder"}


# --- Markdown -----------------------------------------------------------------


def _line(text: Any) -> str:
    """Text on one line, so a stray newline cannot break the layout."""
    return " ".join(str(text).split())


def _founders(text: Any) -> str:
    """What the founder typed, on one line and as literal text: it marks up nothing (bot.coach.markdown)."""
    return literal(_line(text))


def touchpoint_labels(ids: Sequence[str], knowledge: Optional[Knowledge] = None) -> str:
    """Touchpoints in touchpoints.yml's words, as the chat and the exports name them.
    An id the knowledge no longer has (a block saved before it changed) is shown as it is."""
    knowledge = knowledge or load_knowledge()
    return ", ".join(knowledge.touchpoint_label(i) if i in knowledge.touchpoints else i for i in ids)


def type_label(type_id: str, knowledge: Optional[Knowledge] = None) -> str:
    """A relationship type's name, as relationship_types.yml words it (else its id)."""
    knowledge = knowledge or load_knowledge()
    return knowledge.type_name(type_id) if type_id in knowledge.types else type_id


def _profile_facts(profile, knowledge: Knowledge) -> List[tuple]:
    """The closed answers that are known, in words."""
    facts = []
    if profile.customer_count is not None or profile.value_per_customer is not None:
        size = [
            f"about {profile.customer_count:,} customers" if profile.customer_count is not None else "",
            f"{profile.value_per_customer:,.0f} a year each" if profile.value_per_customer is not None else "",
        ]
        facts.append(("Size", ", ".join(p for p in size if p)))
    known = profile.to_dict()
    for question in knowledge.interview.segment.values():  # interview.yml words them
        answer = question.answer_for(known) if question.export_label else None
        if answer:
            facts.append((question.export_label, answer.label))
    return facts


def to_markdown(block: CanvasBlock, knowledge: Optional[Knowledge] = None) -> str:
    """The block as canvas sticky notes: one section per segment, its relationship types and why."""
    knowledge = knowledge or load_knowledge()
    out: List[str] = [f"# Customer Relationships: {_founders(block.venture_name) or 'My venture'}", ""]
    if block.venture_offer and _line(block.venture_offer):
        out += [f"*{_founders(block.venture_offer)}*", ""]
    about = ["Final" if block.status == "final" else "Draft"]
    if block.version is not None:
        about.append(f"version {block.version}")
    if block.created_at is not None:
        about.append(f"saved {block.created_at:%Y-%m-%d}")
    out += [", ".join(about), ""]

    if not block.segments:
        out += ["_No customer segments yet._", ""]
    for number, segment in enumerate(block.segments, start=1):
        profile = segment.profile
        name = _founders(profile.name or "") or f"Unnamed segment {number}"
        out += [f"## Segment: {name}", ""]
        if profile.needs and _line(profile.needs):
            out.append(f"- **Needs:** {_founders(profile.needs)}")
        if profile.touchpoints:
            out.append(f"- **Touchpoints:** {_line(touchpoint_labels(profile.touchpoints, knowledge))}")
        out += [f"- **{label}:** {value}" for label, value in _profile_facts(profile, knowledge)]
        if out[-1] != "":
            out.append("")
        if not segment.choices:
            out += ["_No relationship types chosen yet._", ""]
        for choice in segment.choices:
            title = _line(choice.name) or _line(type_label(choice.type_id, knowledge))
            marker = _ORIGIN_MARKERS.get(choice.origin)
            out.append(f"### {title}" + (f" *({marker})*" if marker else ""))
            out.append("")
            reasons = [_line(r) for r in choice.reasons if _line(r)]
            if reasons:
                out += [f"- {reason}" for reason in reasons] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


# --- JSON -----------------------------------------------------------------------


def file_stem(venture_name: Optional[str]) -> str:
    """The venture's name as the start of an export's file name, the same on every
    channel: lower case, runs of anything but letters and digits as one dash."""
    slug = "".join(c if c.isalnum() else "-" for c in (venture_name or "").lower())
    return "-".join(filter(None, slug.split("-")))[:60] or "block"


def block_file_name(block: CanvasBlock) -> str:
    """A block export's file name, without its extension: the version when it has one."""
    stem = f"{file_stem(block.venture_name)}-customer-relationships"
    return f"{stem}-v{block.version}" if block.version else stem


def _with_header(data_format: str, body: Dict[str, Any]) -> Dict[str, Any]:
    """The header every JSON file Rapport writes starts with: what it is, and which version of that."""
    return {"format": data_format, "format_version": FORMAT_VERSION, **body}


def export_dict(block: CanvasBlock) -> Dict[str, Any]:
    """Every field of the block, behind the format header; from_export_dict reads it back."""
    return _with_header(FORMAT, block.to_dict())


# --- A founder's data: everything the canvas store holds about them -------------

DATA_FORMAT = "rapport.founder-data"


def founder_data_files(
    channel: str,
    sender_id: str,
    blocks: List[CanvasBlock],
    founder: Optional[Dict[str, Any]] = None,
    conversation: Sequence[Dict[str, Any]] = (),
) -> List[Dict[str, str]]:
    """Everything the stores hold about one founder: their record (cohort, first seen),
    every saved version of every venture, and the conversation ({"from": "founder" or
    "coach", "at": ISO time, "text"}), as a Markdown file to read and a JSON file whose
    blocks from_export_dict reads back. Files as channels hand them over: filename,
    mimetype, content."""
    stem = "rapport-my-data"
    cohort = (founder or {}).get("cohort")
    markdown = [
        "# Everything Rapport stores about you",
        "",
        f"Channel: {_line(channel)}. Your id there: {_line(sender_id)}."
        + (f" Cohort: {_founders(cohort)}." if cohort else "")
        + f" Saved blocks: {len(blocks)}. Messages: {len(conversation)}.",
        "",
    ]
    for block in blocks:
        markdown += ["---", "", to_markdown(block), ""]
    if not blocks:
        markdown += ["No block saved yet.", ""]
    if conversation:
        markdown += ["---", "", "## Our conversation", ""]
        markdown += [
            f"- **{'You' if m['from'] == 'founder' else 'Coach'}** ({m.get('at') or '?'}): "
            + (_founders(m["text"]) if m["from"] == "founder" else _line(m["text"]))
            for m in conversation
        ]
    data = _with_header(
        DATA_FORMAT,
        {
            "channel": channel,
            "sender_id": sender_id,
            "founder": founder,
            "blocks": [export_dict(b) for b in blocks],
            "conversation": list(conversation),
        },
    )
    return [
        {"filename": f"{stem}.md", "mimetype": "text/markdown", "content": "\n".join(markdown).rstrip() + "\n"},
        {
            "filename": f"{stem}.json",
            "mimetype": "application/json",
            "content": json.dumps(data, indent=2, ensure_ascii=False),
        },
    ]


def from_export_dict(data: Any) -> CanvasBlock:
    """Reads a block written by export_dict (parsed from JSON); ValueError with a clear message on anything else."""
    if not isinstance(data, dict):
        raise ValueError("not a Rapport canvas export: expected a JSON object at the top level")
    if data.get("format") != FORMAT:
        raise ValueError(f"not a Rapport canvas export: 'format' is {data.get('format')!r}, expected {FORMAT!r}")
    version = data.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValueError(f"unsupported canvas export version {version!r}; this Rapport reads version {FORMAT_VERSION}")
    _check_block(data)
    try:
        return CanvasBlock.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:  # e.g. a bad date or a closed answer out of range
        raise ValueError(f"invalid canvas export: {exc}") from None


# The JSON types each SegmentProfile answer may have (None is always allowed);
# touchpoints are checked apart. Format version 1 requires each of these keys.
_PROFILE_TYPES = {
    "name": (str,),
    "needs": (str,),
    "market": (str,),
    "customer_count": (int,),
    "value_per_customer": (int, float),
    "purchase_frequency": (str,),
    "expertise_needed": (str,),
    "personal_touch": (str,),
    "price_position": (str,),
    "members_help_each_other": (bool,),
    "contributes_ideas": (bool,),
    "goal": (str,),
}


def _fail(where: str, problem: str) -> None:
    raise ValueError(f"invalid canvas export: {where}: {problem}")


def _require(obj: Dict[str, Any], key: str, types: tuple, where: str, nullable: bool = False) -> None:
    if key not in obj:
        _fail(where, f"missing field {key!r}")
    value = obj[key]
    if value is None and nullable:
        return
    # bool is an int in Python; a JSON true is not a count.
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        _fail(where, f"field {key!r} has the wrong type ({type(value).__name__})")


def _require_str_list(obj: Dict[str, Any], key: str, where: str) -> None:
    _require(obj, key, (list,), where)
    if not all(isinstance(item, str) for item in obj[key]):
        _fail(where, f"field {key!r} must be a list of strings")


def _check_block(data: Dict[str, Any]) -> None:
    _require(data, "venture_name", (str,), "block")
    _require(data, "venture_offer", (str,), "block", nullable=True)
    _require(data, "status", (str,), "block")
    _require(data, "segments", (list,), "block")
    for s, segment in enumerate(data["segments"], start=1):
        where = f"segment {s}"
        if not isinstance(segment, dict):
            _fail(where, "expected an object")
        _require(segment, "profile", (dict,), where)
        _require(segment, "choices", (list,), where)
        profile = segment["profile"]
        for key, types in _PROFILE_TYPES.items():
            _require(profile, key, types, f"{where} profile", nullable=True)
        _require_str_list(profile, "touchpoints", f"{where} profile")
        for c, choice in enumerate(segment["choices"], start=1):
            cwhere = f"{where}, choice {c}"
            if not isinstance(choice, dict):
                _fail(cwhere, "expected an object")
            _require(choice, "type_id", (str,), cwhere)
            _require(choice, "name", (str,), cwhere)
            _require(choice, "origin", (str,), cwhere)
            _require(choice, "score", (int, float), cwhere, nullable=True)
            _require_str_list(choice, "reasons", cwhere)


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "DATA_FORMAT",
    "to_markdown",
    "touchpoint_labels",
    "type_label",
    "export_dict",
    "founder_data_files",
    "from_export_dict",
]
