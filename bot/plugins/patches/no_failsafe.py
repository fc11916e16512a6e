"""No FailSafeTrackerStore: a turn that cannot be stored fails visibly.

Rasa wraps every tracker store in FailSafeTrackerStore, which, when the database
cannot save a turn, logs the error and keeps the turn's events in memory only: the
founder is answered, and the events are lost at the next restart (or never seen by
the other Rasa servers). Without the wrapper the error reaches the channel, which
answers with a clear error and sends none of the turn's replies.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from rasa.core.agent import Agent
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore

from bot.plugins.patches import Patch


def _tracker_store_as_configured(store: Optional[TrackerStore], domain: Any) -> TrackerStore:
    """Agent._create_tracker_store without the FailSafeTrackerStore wrapper."""
    if store is None:
        return InMemoryTrackerStore(domain)
    store.domain = domain
    return store


def patches() -> Sequence[Patch]:
    return (
        Patch(
            Agent,
            "_create_tracker_store",
            "97499b594b45581b2c6d8ff7adb9083af24eba85654995a40350de65633ca574",
            lambda: staticmethod(_tracker_store_as_configured),
            "no FailSafeTrackerStore: a turn that cannot be stored fails visibly",
        ),
    )
