"""The coach as a Slack app (README, "Slack"): credentials.yml mounts SlackInput at
/webhooks/slack/webhook. Pure parts: routing.py (conversation keys, who gets an
answer, dedupe), render.py (mrkdwn and Block Kit), lookup.py (/canvas, App Home),
settings.py (the environment).

SlackInput is imported when first asked for, so that the pure parts load without
Rasa (the web app renders a block's card with render.py for the mentors' DM)."""

from typing import Any

__all__ = ["SlackInput"]


def __getattr__(name: str) -> Any:
    if name == "SlackInput":
        from bot.plugins.channels.slack.channel import SlackInput

        return SlackInput
    raise AttributeError(name)
