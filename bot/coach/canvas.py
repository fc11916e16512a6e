"""A Customer Relationships block, as the founder leaves with it.

Plain data: the store persists it, the exports render it, the conversation
builds it. A choice keeps the type's name and reasons as they were when it was
made, so an old version reads the same after the knowledge files change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional

from bot.coach.profile import SegmentProfile

# How a relationship type got into the block.
ORIGINS = ("accepted", "edited", "added")  # as recommended / swapped in / added by the founder
STATUSES = ("draft", "final")


@dataclass
class RelationshipChoice:
    type_id: str
    name: str
    reasons: List[str] = field(default_factory=list)
    origin: str = "accepted"
    score: Optional[float] = None

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, not {self.origin!r}")

    def to_dict(self) -> Dict[str, Any]:
        return {
            "type_id": self.type_id,
            "name": self.name,
            "reasons": list(self.reasons),
            "origin": self.origin,
            "score": self.score,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "RelationshipChoice":
        return cls(
            type_id=data["type_id"],
            name=data.get("name") or data["type_id"],
            reasons=list(data.get("reasons") or []),
            origin=data.get("origin") or "accepted",
            score=data.get("score"),
        )


@dataclass
class Segment:
    profile: SegmentProfile
    choices: List[RelationshipChoice] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {"profile": self.profile.to_dict(), "choices": [c.to_dict() for c in self.choices]}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Segment":
        return cls(
            profile=SegmentProfile.from_dict(data.get("profile") or {}),
            choices=[RelationshipChoice.from_dict(c) for c in data.get("choices") or []],
        )


@dataclass
class CanvasBlock:
    venture_name: str
    venture_offer: Optional[str] = None
    segments: List[Segment] = field(default_factory=list)
    status: str = "draft"
    version: Optional[int] = None  # set by the store
    created_at: Optional[datetime] = None  # set by the store

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")

    def to_dict(self) -> Dict[str, Any]:
        return {
            "venture_name": self.venture_name,
            "venture_offer": self.venture_offer,
            "status": self.status,
            "version": self.version,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "segments": [s.to_dict() for s in self.segments],
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "CanvasBlock":
        created = data.get("created_at")
        return cls(
            venture_name=data["venture_name"],
            venture_offer=data.get("venture_offer"),
            status=data.get("status") or "draft",
            version=data.get("version"),
            created_at=datetime.fromisoformat(created) if created else None,
            segments=[Segment.from_dict(s) for s in data.get("segments") or []],
        )
