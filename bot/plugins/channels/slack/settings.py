"""The Slack app's settings, from the environment (README, "Slack"; .env.example).

SLACK_MENTORS and SLACK_CHANNEL_COHORTS use one readable line format, so they fit
in a .env file: entries separated by ";", each "ID:VALUE[,VALUE...]":

    SLACK_MENTORS="U01ABC:SPRING-25,FALL-25; U02DEF:SPRING-25"
    SLACK_CHANNEL_COHORTS="C01XYZ:SPRING-25; C02XYZ:FALL-25"

The token and the signing secret are never logged: __repr__ hides them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Mapping, Optional, Tuple

DEFAULT_API_URL = "https://slack.com/api/"
_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")


class SettingsError(ValueError):
    """A Slack setting is malformed; the message names the variable and the entry."""


def parse_id_map(variable: str, text: Optional[str]) -> Dict[str, Tuple[str, ...]]:
    """'U01:A,B; U02:A' -> {'U01': ('A', 'B'), 'U02': ('A',)}. Empty -> {}."""
    result: Dict[str, Tuple[str, ...]] = {}
    for entry in (text or "").split(";"):
        entry = entry.strip()
        if not entry:
            continue
        slack_id, sep, values = entry.partition(":")
        slack_id = slack_id.strip().lstrip("@#")
        cohorts = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not _SLACK_ID.match(slack_id) or not cohorts:
            raise SettingsError(
                f"{variable}: {entry!r} is not 'SLACK_ID:COHORT[,COHORT...]' "
                f"(entries separated by ';', e.g. U01ABC:SPRING-25,FALL-25)"
            )
        result[slack_id] = result.get(slack_id, ()) + tuple(c for c in cohorts if c not in result.get(slack_id, ()))
    return result


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    mentors: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)  # Slack user id -> the cohorts they mentor
    channel_cohorts: Mapping[str, str] = field(default_factory=dict)  # Slack channel id -> cohort
    default_cohort: Optional[str] = None
    dedupe_redis_url: Optional[str] = field(default=None, repr=False)  # may hold a password

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Optional["SlackSettings"]:
        """The settings, or None when the token or the signing secret is missing (Slack is off)."""
        env = os.environ if env is None else env
        token = (env.get("SLACK_BOT_TOKEN") or "").strip()
        secret = (env.get("SLACK_SIGNING_SECRET") or "").strip()
        if not token or not secret:
            return None
        api_url = (env.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL
        if not api_url.endswith("/"):
            api_url += "/"  # slack_sdk joins method names onto it
        channels = {}
        for channel, cohorts in parse_id_map("SLACK_CHANNEL_COHORTS", env.get("SLACK_CHANNEL_COHORTS")).items():
            if len(cohorts) != 1:
                raise SettingsError(f"SLACK_CHANNEL_COHORTS: channel {channel} has {len(cohorts)} cohorts, not one")
            channels[channel] = cohorts[0]
        return cls(
            bot_token=token,
            signing_secret=secret,
            api_url=api_url,
            mentors=parse_id_map("SLACK_MENTORS", env.get("SLACK_MENTORS")),
            channel_cohorts=channels,
            default_cohort=(env.get("SLACK_DEFAULT_COHORT") or "").strip() or None,
            dedupe_redis_url=(env.get("SLACK_DEDUPE_REDIS_URL") or "").strip() or None,
        )

    def cohort_of(self, channel: Optional[str]) -> Optional[str]:
        return self.channel_cohorts.get(channel or "", self.default_cohort)

    def cohorts_mentored_by(self, user: Optional[str]) -> FrozenSet[str]:
        return frozenset(self.mentors.get(user or "", ()))
