"""A Slack DM to the mentors of a founder's cohort when the founder saves a block:
the block's card (as the Slack app shows it) and a link to the conversation on the
dashboard (REVIEW_ORIGIN). Sent by the web app, from the read model: when it reads
a conversation again and finds a save it has not sent (review_block_notices,
claimed before sending, so several web app processes send it once). Saves older
than RECENT_S are history (a rebuilt read model, a restart) and are not sent.

Mentors are dashboard users with the mentor role, a Slack user id and
slack_notify on (they turn it off on the app's Home tab). Needs SLACK_BOT_TOKEN
(SLACK_API_URL for another API host, as the Slack app); without it, nothing is sent.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from bot.coach.store import CanvasStore
from bot.plugins.channels.slack.render import canvas_blocks, clip, escape
from bot.review.db import ReviewDB
from bot.review.models import BlockNotice, User, UserCohort
from bot.review.read_model import Summary

log = logging.getLogger(__name__)
RECENT_S = 600.0
DEFAULT_API_URL = "https://slack.com/api/"


def mentors_to_tell(db: ReviewDB, cohort: str) -> List[str]:
    """The Slack user ids of the cohort's mentors who want the DM."""
    if not cohort:
        return []
    with db.read() as conn:
        return sorted(
            conn.execute(
                select(User.slack_user_id)
                .join(UserCohort, UserCohort.user_id == User.id)
                .where(
                    User.role == "mentor",
                    User.slack_user_id.is_not(None),
                    User.slack_notify.is_(True),
                    UserCohort.cohort == cohort,
                )
                .distinct()
            ).scalars()
        )


def claim(db: ReviewDB, sender_id: str, event_id: int) -> bool:
    """True for the one process that may send this save's notice."""
    try:
        with db.begin() as conn:
            conn.execute(insert(BlockNotice).values(sender_id=sender_id, event_id=event_id, notified_at=time.time()))
        return True
    except IntegrityError:
        return False


def message(block: Optional[Dict[str, Any]], summary: Summary, link: Optional[str]) -> Dict[str, Any]:
    venture = (block or {}).get("venture_name") or summary.venture or "A founder"
    text = f"{venture} ({summary.cohort}) saved their Customer Relationships block."
    blocks: List[Dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(f"*{escape(text)}*", 3000)}}
    ]
    if block:
        blocks += canvas_blocks(block)
    if link:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{link}|Read the conversation on the dashboard>"}}
        )
    return {"text": text + (f" {link}" if link else ""), "blocks": blocks[:50]}


class SavedBlockNotifier:
    def __init__(
        self,
        db: ReviewDB,
        canvas: CanvasStore,
        token: str,
        api_url: str = DEFAULT_API_URL,
        origin: Optional[str] = None,
    ) -> None:
        self.db = db
        self.canvas = canvas
        self.client = WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/", timeout=10)
        self.origin = (origin or "").rstrip("/")
        if not self.origin:
            log.warning("REVIEW_ORIGIN is not set: mentors' DMs about saved blocks carry no link to the dashboard")

    @classmethod
    def from_env(cls, db: ReviewDB, canvas: CanvasStore) -> Optional["SavedBlockNotifier"]:
        token = (os.environ.get("SLACK_BOT_TOKEN") or "").strip()
        if not token:
            return None
        origins = [o.strip() for o in (os.environ.get("REVIEW_ORIGIN") or "").split(",") if o.strip()]
        api_url = (os.environ.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL
        return cls(db, canvas, token, api_url, origins[0] if origins else None)

    def __call__(self, summary: Summary) -> None:
        recent = time.time() - RECENT_S
        for event_id, saved_at in summary.saves:
            if saved_at < recent:
                continue
            mentors = mentors_to_tell(self.db, summary.cohort)
            if not mentors or not claim(self.db, summary.sender_id, event_id):
                continue
            versions = self.canvas.block_versions(summary.channel or "rest", summary.sender_id)
            block = versions[-1].to_dict() if versions else None
            link = (
                f"{self.origin}/review/conversation?sender={quote(summary.sender_id, safe='')}" if self.origin else None
            )
            for mentor in mentors:
                try:
                    self.client.chat_postMessage(channel=mentor, unfurl_links=False, **message(block, summary, link))
                except (SlackApiError, SlackClientError, OSError) as error:
                    log.error("Slack DM to mentor %s about a saved block failed: %s", mentor, type(error).__name__)
