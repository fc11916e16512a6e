"""slack/manifest.yml against the code: the events the code handles are subscribed, the
Web API methods it calls have their scopes, and it asks for no scope it does not use."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from bot.plugins.channels.slack.channel import (
    COMMAND_SCOPE,
    EVENT_SUBSCRIPTIONS,
    HANDLED_EVENT_TYPES,
    SLASH_COMMAND,
    WEB_API_SCOPES,
    SlackInput,
)

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8"))
PACKAGE = ROOT / "bot" / "plugins" / "channels" / "slack"
# What slack_sdk's files_upload_v2 calls (slack_sdk/web/async_client.py).
FILES_UPLOAD_V2 = {"files.getUploadURLExternal", "files.completeUploadExternal"}


def web_api_calls_in_code():
    """The method names the package passes to SlackApi.call, and the AsyncWebClient
    methods it calls directly (files_upload_v2)."""
    called, direct = set(), set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            target = node.func
            if target.attr == "call" and node.args and isinstance(node.args[0], ast.Constant):
                called.add(node.args[0].value)
            if isinstance(target.value, ast.Attribute) and target.value.attr == "client":
                direct.add(target.attr)
    return called, direct


def test_every_called_method_is_in_the_table_and_every_listed_one_is_called():
    called, direct = web_api_calls_in_code()
    assert "chat.postMessage" in called, "the scan found the calls"
    assert direct == {"files_upload_v2"}, "Web API calls go through SlackApi.call (or files_upload_v2)"
    assert called | FILES_UPLOAD_V2 == set(WEB_API_SCOPES)


def test_the_manifest_grants_exactly_the_scopes_the_code_needs():
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    needed = {scope for scopes in WEB_API_SCOPES.values() for scope in scopes}
    needed |= {scope for scope, _ in EVENT_SUBSCRIPTIONS.values() if scope} | {COMMAND_SCOPE}
    assert needed - granted == set(), "scopes the code needs and the manifest lacks"
    assert granted - needed == set(), "scopes the manifest asks for and the code does not use"
    # The list, for the record.
    assert granted == {
        "chat:write",
        "im:history",
        "app_mentions:read",
        "commands",
        "files:write",
        "channels:history",
        "groups:history",
    }


def test_every_handled_event_is_subscribed():
    subscribed = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert subscribed == set(EVENT_SUBSCRIPTIONS)
    assert HANDLED_EVENT_TYPES == {"message", "app_mention", "app_home_opened"}
    # The dispatcher reads HANDLED_EVENT_TYPES: no event type is compared against in the code
    # that the table does not hold.
    compared = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and ast.unparse(node.left) in (
                "event.get('type')",
                "envelope.get('type')",
            ):
                for comparator in node.comparators:
                    if isinstance(comparator, (ast.Constant, ast.Tuple, ast.List, ast.Set)):
                        value = ast.literal_eval(comparator)
                        compared |= {value} if isinstance(value, str) else set(value)
    assert "message" in compared, "the scan found the dispatch"
    envelope_types = {"url_verification", "event_callback"}
    assert compared - envelope_types <= HANDLED_EVENT_TYPES


def test_one_url_for_events_interactivity_and_the_command():
    path = f"/webhooks/{SlackInput.name()}/webhook"
    settings, features = MANIFEST["settings"], MANIFEST["features"]
    assert settings["event_subscriptions"]["request_url"].endswith(path)
    assert settings["interactivity"]["is_enabled"] and settings["interactivity"]["request_url"].endswith(path)
    [command] = features["slash_commands"]
    assert command["command"] == SLASH_COMMAND and command["url"].endswith(path)
    assert command["should_escape"] is True, "/canvas @founder must arrive as <@U...>"
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert features["bot_user"]["display_name"]
    assert settings["socket_mode_enabled"] is False
