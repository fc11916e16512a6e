"""The coach as a Slack app (README, "Slack"): credentials.yml mounts SlackInput at
/webhooks/slack/webhook. Pure parts: routing.py (conversation keys, who gets an
answer, dedupe), render.py (mrkdwn and Block Kit), lookup.py (/canvas, App Home),
settings.py (the environment)."""

from bot.plugins.channels.slack.channel import SlackInput

__all__ = ["SlackInput"]
