"""A conversation's cohort is fixed at its first message.

The cohort decides which coordinators and mentors see a founder, so what a client
sends later (the widget's customData, REST metadata) must not move it. Every
channel passes a message's metadata through fixed_metadata() before Rasa sees it:
its `cohort` becomes the conversation's own, which is, in order,

1. the one on the founder's record in the canvas store (set at their first save
   from this same value, or by an admin's move on the dashboard, which is recorded
   there: bot/review, "cohort moves");
2. else the cohort of the conversation's first message since its last restart (a
   delete restarts it), as the tracker store holds it;
3. else, for the first message itself, the one it carries.

A message that carries no cohort is left as it is (it moves nothing, and costs no
lookup); one that does costs two indexed reads, one in each store.

So the tracker, the canvas store and the dashboard's read model all agree.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, Optional, Text

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from bot.coach.store import StoreError, founder_channel

logger = logging.getLogger(__name__)


def _first_message_cohort(sender_id: Text) -> Optional[tuple]:
    """(cohort,) of the conversation's first message since its last restart, or None
    when it has none yet (or the tracker store is not the SQL one)."""
    from bot.plugins.tracker_store import CoachTrackerStore

    store = CoachTrackerStore._active
    if store is None:
        return None
    events = store.SQLEvent.__table__
    with store.engine.connect() as connection:
        restart = connection.execute(
            sa.select(sa.func.max(events.c.id)).where(events.c.sender_id == sender_id, events.c.type_name == "restart")
        ).scalar()
        first = connection.execute(
            sa.select(events.c.data)
            .where(
                events.c.sender_id == sender_id,
                events.c.type_name == "user",
                events.c.id > (restart or 0),
            )
            .order_by(events.c.id)
            .limit(1)
        ).scalar()
    if first is None:
        return None
    try:
        metadata = json.loads(first).get("metadata") or {}
    except (ValueError, AttributeError):
        metadata = {}
    cohort = metadata.get("cohort") if isinstance(metadata, dict) else None
    return (cohort if isinstance(cohort, str) and cohort.strip() else None,)


def conversation_cohort(input_channel: Text, sender_id: Text, offered: Optional[str]) -> Optional[str]:
    from bot.plugins.founder_data import canvas_store

    record = canvas_store().founder_record(founder_channel(input_channel), sender_id)
    if record is not None:
        return record["cohort"]
    first = _first_message_cohort(sender_id)
    if first is not None:
        return first[0]
    return offered


def fixed_metadata(input_channel: Text, sender_id: Text, metadata: Optional[Dict[Text, Any]]) -> Dict[Text, Any]:
    """The message's metadata with the conversation's cohort in place of the one it carried."""
    metadata = dict(metadata or {})
    offered = metadata.get("cohort")
    if offered is None:
        # Nothing to move it with: no lookup (a save without a cohort keeps the one on record).
        return metadata
    try:
        cohort = conversation_cohort(input_channel, sender_id, offered if isinstance(offered, str) else None)
    except (StoreError, SQLAlchemyError) as error:
        # Unknown for now: the message carries none, so it can move nothing (the stores keep theirs).
        logger.warning("The conversation's cohort could not be read (%s); this message carries none.", error)
        cohort = None
    if cohort:
        metadata["cohort"] = cohort
    else:
        metadata.pop("cohort", None)
    if offered != metadata.get("cohort"):
        logger.info("A message's cohort was set to its conversation's (fixed at its first message).")
    return metadata


async def fixed_metadata_off_loop(input_channel: Text, sender_id: Text, metadata: Optional[Dict[Text, Any]]) -> Dict:
    """fixed_metadata() on a worker thread: a busy database never stalls the server's loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, fixed_metadata, input_channel, sender_id, metadata)
