"""Members of Rasa's SQLTrackerStore that CoachTrackerStore (bot/plugins/tracker_store.py)
relies on: not replaced, only checked. CoachTrackerStore overrides the second, which
the first calls: if either changed, a forgotten founder's words could be saved again."""

from __future__ import annotations

from typing import Sequence

from rasa.core.tracker_store import SQLTrackerStore

from bot.plugins.patches import Patch


def patches() -> Sequence[Patch]:
    return (
        Patch(
            SQLTrackerStore,
            "save",
            "57165e46eab3de0866e77f03df0bf7fd5eac2c1de617ed431b934c9a4edfeef6",
            None,
            "a turn's save writes only the events _additional_events gives",
        ),
        Patch(
            SQLTrackerStore,
            "_additional_events",
            "d22f99eb863acb07afee63d9fe3a04ca8464251e67a43eb7d36c2d65ffc1653f",
            None,
            "overridden by CoachTrackerStore to keep forgotten events out",
        ),
    )
