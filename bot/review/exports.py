"""Exports of the dashboard: a filter's conversations with their blocks, as CSV
(cells a spreadsheet would run as a formula escaped) or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from bot.coach.canvas import CanvasBlock

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "founder",
    "cohort",
    "channel",
    "venture",
    "started",
    "last_active",
    "turns",
    "stage",
    "saved",
    "fallbacks",
    "tags",
    "reviewed_by",
    "block_version",
    "offer",
    "segments",
]


def csv_cell(value: Any) -> str:
    """A cell as text; one starting with = + - @ (or tab, CR) gets a leading ' so
    a spreadsheet shows it instead of running it (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def when(timestamp: Optional[float]) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def segments_text(block: Optional[CanvasBlock]) -> str:
    if block is None:
        return ""
    return "; ".join(
        f"{segment.profile.name or 'Unnamed'}: " + ", ".join(choice.name for choice in segment.choices)
        for segment in block.segments
    )


def export_rows(conversations: Iterable[Dict[str, Any]], blocks: Dict[str, CanvasBlock]) -> List[Dict[str, Any]]:
    rows = []
    for c in conversations:
        block = blocks.get(c["sender_id"])
        rows.append(
            {
                "founder": c["sender_id"],
                "cohort": c["cohort"],
                "channel": c["channel"],
                "venture": c["venture"] or "",
                "started": when(c["started_at"]),
                "last_active": when(c["last_active_at"]),
                "turns": c["turns"],
                "stage": c["stage"] or "",
                "saved": "yes" if c["saved"] else "no",
                "fallbacks": c["fallbacks"],
                "tags": " ".join(c.get("tags") or []),
                "reviewed_by": (c.get("reviewed") or ("",))[0],
                "block_version": block.version if block else "",
                "offer": (block.venture_offer or "") if block else "",
                "segments": segments_text(block),
                "block": block,
            }
        )
    return rows


def to_csv(rows: Iterable[Dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def to_json(rows: Iterable[Dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                **{k: v for k, v in row.items() if k != "block"},
                "block": row["block"].to_dict() if row["block"] else None,
            }
            for row in rows
        ],
        ensure_ascii=False,
        indent=1,
        default=str,
    )
