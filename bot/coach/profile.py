"""What the coach learns about one customer segment.

Every answer may be unknown (None, or an empty touchpoint list): the selection
engine still recommends, and says which missing answer matters most.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional

# The closed answers, and what each one means to a founder. The engine, the
# conversation's buttons and the text extractor all use these tuples.
MARKETS = ("b2b", "b2c")
FREQUENCIES = ("one_off", "occasional", "recurring")
LEVELS = ("low", "medium", "high")
PRICE_POSITIONS = ("budget", "mid", "premium")
GOALS = ("acquire", "keep", "grow")

CHOICES: Dict[str, tuple] = {
    "market": MARKETS,
    "purchase_frequency": FREQUENCIES,
    "expertise_needed": LEVELS,
    "personal_touch": LEVELS,
    "price_position": PRICE_POSITIONS,
    "goal": GOALS,
}


@dataclass
class SegmentProfile:
    """One customer segment, as far as the founder has described it."""

    name: Optional[str] = None  # who they are, in the founder's words
    needs: Optional[str] = None  # what they need and expect
    market: Optional[str] = None  # b2b or b2c
    customer_count: Optional[int] = None  # how many customers (or accounts)
    value_per_customer: Optional[float] = None  # revenue per customer per year
    purchase_frequency: Optional[str] = None  # one_off, occasional, recurring
    expertise_needed: Optional[str] = None  # low, medium, high
    personal_touch: Optional[str] = None  # low, medium, high
    price_position: Optional[str] = None  # budget, mid, premium
    members_help_each_other: Optional[bool] = None
    contributes_ideas: Optional[bool] = None
    touchpoints: List[str] = field(default_factory=list)  # touchpoint ids
    goal: Optional[str] = None  # acquire, keep, grow

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if self.customer_count is not None:
            self.customer_count = int(self.customer_count)
            if self.customer_count < 0:
                raise ValueError("customer_count cannot be negative")
        if self.value_per_customer is not None:
            self.value_per_customer = float(self.value_per_customer)
            if self.value_per_customer < 0:
                raise ValueError("value_per_customer cannot be negative")
        self.touchpoints = list(dict.fromkeys(self.touchpoints or []))

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "SegmentProfile":
        """Build a profile from a dict, ignoring keys it does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def unknown_fields(self) -> List[str]:
        """The answers the founder has not given yet (name and needs aside)."""
        return [
            f.name
            for f in fields(self)
            if f.name not in ("name", "needs") and (getattr(self, f.name) is None or getattr(self, f.name) == [])
        ]

    @property
    def annual_value(self) -> Optional[float]:
        """What the whole segment is worth per year, when both parts are known."""
        if self.customer_count is None or self.value_per_customer is None:
            return None
        return self.customer_count * self.value_per_customer
