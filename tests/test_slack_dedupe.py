"""Exactly once across several Rasa servers: SharedSeen keeps the Slack app's dedupe memory in
a real Redis (Debian's redis-server, started here on a free loopback port), so a retry or the
app_mention twin of a message that lands on another server is still seen."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from bot.plugins.channels.slack.routing import SharedSeen
from bot.plugins.channels.slack.settings import SlackSettings
from deploy.services import Redis, free_port

REDIS = shutil.which("redis-server")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    if REDIS is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = Redis(tmp_path_factory.mktemp("redis"))  # the scaled set-up's own private redis-server
    server.start()
    yield f"redis://127.0.0.1:{server.port}/0"
    server.stop()


def test_two_servers_share_what_they_have_seen(redis_url):
    async def scenario():
        first, second = SharedSeen(redis_url), SharedSeen(redis_url)  # two Rasa servers
        assert await first.first_time("event:Ev1", "message:C1:1.0")
        assert not await second.first_time("event:Ev1", "message:C1:1.0"), "a retry on the other server"
        assert not await second.first_time("event:Ev2", "message:C1:1.0"), "the app_mention twin"
        assert not await first.first_time("event:Ev2"), "the twin's event id was recorded too"
        assert await second.first_time("event:Ev3", "message:C1:2.0")
        assert await first.first_time("click:C1:5.0") and not await second.first_time("click:C1:5.0")
        await first.redis.close()
        await second.redis.close()

    asyncio.run(scenario())


def test_when_redis_is_down_the_servers_own_memory_answers(caplog):
    async def scenario():
        seen = SharedSeen(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
        assert await seen.first_time("event:Ev1")
        assert not await seen.first_time("event:Ev1"), "still once on this server"
        await seen.redis.close()

    asyncio.run(scenario())
    assert "Slack dedupe in Redis failed" in caplog.text


def test_the_setting_and_its_password_stay_out_of_the_logs():
    settings = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y", "SLACK_DEDUPE_REDIS_URL": "redis://:hunter2@redis:6379/2"}
    )
    assert settings.dedupe_redis_url == "redis://:hunter2@redis:6379/2" and "hunter2" not in repr(settings)
