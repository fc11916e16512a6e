"""`/canvas` and App Home: who may see which saved block, read from the canvas store.

Plain functions over a CanvasStore (synchronous: the channel runs them in a thread).
A founder sees their own blocks; a mentor (Mentors: the review dashboard's, else
SLACK_MENTORS) also sees the blocks of the founders in the cohorts they mentor, from
any channel (Slack or the web widget).
"""

from __future__ import annotations

import re
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple

from bot.coach.canvas import CanvasBlock
from bot.coach.store import CanvasStore
from bot.plugins.channels.slack.render import (
    HOME_START_ACTION,
    SECTION_CHARS,
    SlackPost,
    canvas_blocks,
    clip,
    escape,
)
from bot.plugins.channels.slack.routing import keys_of_user, place_of
from bot.review.mentors import DashboardMentors

CHANNEL = "slack"  # the founders' channel in the canvas store, as Rasa names this input channel
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")

HELP = (
    "*Rapport* coaches founders through the *Customer Relationships* block of their Business Model Canvas: "
    "their customer segments, what each needs, where they meet the business, and the relationship types "
    "that fit, with the reasons.\n"
    "• Talk to me in a direct message, or @mention me in a channel to start a coaching thread.\n"
    "• `/canvas` shows your saved block (only to you).\n"
    "• Mentors: `/canvas Venture name` or `/canvas @founder` shows a founder's block from your cohorts.\n"
    "• The *Home* tab shows your block, and mentors their founders.\n"
    '• Say "delete my data" in our conversation to delete your blocks and answers.'
)
NO_BLOCK_YET = 'You have no saved block yet. Send me a direct message ("hi") to start.'
NOT_ALLOWED = "You may only look up your own block: only mentors can see other founders' blocks."


class Mentors:
    """Who mentors which cohorts, by Slack user id: the review dashboard's mentors
    (users with the mentor role and a Slack user id, read at each lookup) and
    SLACK_MENTORS. When both name the same Slack user, the dashboard wins: its
    cohorts replace the setting's, so an admin's change there always counts, and a
    mentor it revoked, or any while it cannot be read, gets none."""

    def __init__(self, setting: Mapping[str, Tuple[str, ...]], dashboard: Optional[DashboardMentors]) -> None:
        self.setting = setting
        self.dashboard = dashboard

    def cohorts_of(self, user: Optional[str]) -> FrozenSet[str]:
        in_dashboard = self.dashboard.cohorts_of(user) if self.dashboard and user else None
        return in_dashboard if in_dashboard is not None else frozenset(self.setting.get(user or "", ()))

    def of_cohort(self, cohort: Optional[str]) -> List[str]:
        """The Slack users who mentor this cohort (none while the dashboard cannot be read)."""
        if self.dashboard and not self.dashboard.readable():
            return []
        in_dashboard = self.dashboard.all() if self.dashboard else {}
        merged = {**{user: frozenset(cohorts) for user, cohorts in self.setting.items()}, **in_dashboard}
        return sorted(user for user, cohorts in merged.items() if cohort in cohorts)


def _text(text: str) -> SlackPost:
    return SlackPost(text, [{"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_CHARS)}}])


def own_founders(store: CanvasStore, team: str, user: str) -> List[Dict[str, Any]]:
    """The user's founder records (their DM and the threads they own), most recent first."""
    return [f for f in store.founders() if f["channel"] == CHANNEL and keys_of_user(team, user, f["sender_id"])]


def latest_own_block(store: CanvasStore, team: str, user: str) -> Optional[CanvasBlock]:
    for founder in own_founders(store, team, user):
        if founder["latest_version"] is not None:
            return store.latest_block(CHANNEL, founder["sender_id"], venture_name=founder["venture_name"])
    return None


def _show(block: CanvasBlock, whose: str) -> SlackPost:
    return SlackPost(f"{whose} Customer Relationships block: {block.venture_name}", canvas_blocks(block.to_dict()))


def founder_label(founder: Dict[str, Any]) -> str:
    """A founder as a mentor reads it: the Slack user, or the web widget's session."""
    place = place_of(founder["sender_id"]) if founder["channel"] == CHANNEL else None
    if place is not None:
        return f"<@{place.owner}>"
    return f"a {escape(founder['channel'])} founder ({escape(founder['sender_id'][:8])})"


def canvas_command(store: CanvasStore, team: str, user: str, text: str, mentored: FrozenSet[str]) -> SlackPost:
    """What `/canvas [help | Venture name | @someone]` answers, ephemeral, to `user`."""
    query = " ".join((text or "").split())
    if query.lower() in ("help", "?", "-h", "--help"):
        return _text(HELP)
    mention = _MENTION.match(query)
    if not query or (mention and mention.group(1) == user):
        block = latest_own_block(store, team, user)
        return _show(block, "Your") if block else _text(NO_BLOCK_YET)
    if not mentored:
        return _text(NOT_ALLOWED)
    founders = [f for cohort in sorted(mentored) for f in store.founders(cohort)]
    if mention:
        matches = [
            f for f in founders if f["channel"] == CHANNEL and keys_of_user(team, mention.group(1), f["sender_id"])
        ]
        wanted = f"<@{mention.group(1)}>"
    else:
        name = query.lower()
        matches = [f for f in founders if (f["venture_name"] or "").lower() == name] or [
            f for f in founders if name in (f["venture_name"] or "").lower()
        ]
        wanted = f"*{escape(query)}*"
    matches = [f for f in matches if f["latest_version"] is not None]
    if not matches:
        return _text(
            f"No founder in your cohorts ({escape(', '.join(sorted(mentored)))}) has a saved block "
            f"matching {wanted}. (Another cohort's founders are not shown to you.)"
        )
    founder = matches[0]  # founders() is most recently active first
    block = store.latest_block(founder["channel"], founder["sender_id"], venture_name=founder["venture_name"])
    if block is None:
        return _text(f"{wanted} has no saved block.")
    answer = _show(block, f"{founder_label(founder)}'s")
    if len(matches) > 1:
        others = ", ".join(f"{escape(f['venture_name'] or '')}" for f in matches[1:6])
        answer.blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip(f"Also matching: {others}", SECTION_CHARS)}],
            }
        )
    return answer


def mentor_founders(store: CanvasStore, mentored: FrozenSet[str]) -> List[Tuple[str, List[Dict[str, Any]]]]:
    """(cohort, its founders) for each cohort the mentor follows."""
    return [(cohort, store.founders(cohort)) for cohort in sorted(mentored)]


VIEW_BLOCKS = 100  # Block Kit's limit for a Home tab
FOUNDERS_SHOWN = 40  # per cohort on a mentor's Home tab


def home_view(store: CanvasStore, team: str, user: str, mentored: FrozenSet[str]) -> Dict[str, Any]:
    """The user's App Home tab: their saved block and a button to coach; for a mentor, their founders."""
    started = bool(own_founders(store, team, user))
    block = latest_own_block(store, team, user)
    blocks: List[Dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Rapport: your Customer Relationships coach"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    "I help you write the *Customer Relationships* block of your Business Model Canvas, segment by segment. "
                    "Talk to me in the *Messages* tab, or @mention me in a channel."
                ),
            },
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": HOME_START_ACTION,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Continue coaching" if started else "Start coaching"},
                }
            ],
        },
    ]
    blocks += (
        canvas_blocks(block.to_dict())
        if block
        else [{"type": "section", "text": {"type": "mrkdwn", "text": "_You have no saved block yet._"}}]
    )
    for cohort, founders in mentor_founders(store, mentored):
        blocks += [
            {"type": "divider"},
            {"type": "header", "text": {"type": "plain_text", "text": clip(f"Your founders: {cohort}", 150)}},
        ]
        lines = []
        for founder in founders[:FOUNDERS_SHOWN]:
            status = {
                "final": f"saved a block (version {founder['latest_version']})",
                "draft": "started, no final block yet",
            }.get(founder["latest_status"] or "", "started")
            venture = f" · *{escape(founder['venture_name'])}*" if founder["venture_name"] else ""
            lines.append(f"• {founder_label(founder)}{venture}: {status}")
        if len(founders) > FOUNDERS_SHOWN:
            lines.append(f"…and {len(founders) - FOUNDERS_SHOWN} more: `/canvas Venture name` looks one up.")
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": clip("\n".join(lines) or "_No founder of this cohort has started yet._", SECTION_CHARS),
                },
            }
        )
    if len(blocks) > VIEW_BLOCKS:
        blocks = blocks[: VIEW_BLOCKS - 1] + [
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "More founders than fit here: `/canvas Venture name` looks one up."}
                ],
            }
        ]
    return {"type": "home", "blocks": blocks}
