"""Without SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or with a malformed setting) the Slack
route answers 404: the channel mounted as Rasa mounts it (channel.register), in a Sanic
server of its own, over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from deploy.launchers import ROOT, free_port

SERVER = """
import logging, sys
from sanic import Sanic
from rasa.core.channels.channel import register
from bot.plugins.channels.slack import SlackInput
logging.basicConfig(level=logging.INFO)
app = Sanic("slack_off")
register([SlackInput.from_credentials(None)], app, route="/webhooks/")
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
"""


def serve(env_changes):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(env_changes)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/webhooks/slack/webhook"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read())
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/webhooks/slack/", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # it answers
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    return process, url


def post(url):
    request = urllib.request.Request(
        url, data=b'{"type": "url_verification", "challenge": "c"}', headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize(
    "settings, logged",
    [
        ({}, "Slack is off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not both set"),
        ({"SLACK_BOT_TOKEN": "xoxb-only-the-token"}, "Slack is off"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s", "SLACK_MENTORS": "maria=SPRING"},
            "Slack is off: SLACK_MENTORS: 'maria=SPRING' is not",
        ),
    ],
)
def test_the_route_answers_404_when_slack_is_not_set_up(settings, logged):
    process, url = serve(settings)
    try:
        status, body = post(url)
        assert status == 404 and b"SLACK_BOT_TOKEN" in body
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert logged in output
    assert "xoxb-" not in output, "the token is never logged"
