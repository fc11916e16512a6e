"""Who a conversation belongs to, without servers: the widget's signed ids, each
channel's namespace, the REST channel's reading of proxy headers, the request
limits' table and founder text in the coach's Markdown (tests/test_attacks.py
plays the same attacks against the running servers)."""

from __future__ import annotations

import stat

import pytest

from bot.coach.markdown import literal, unescape
from bot.plugins.channels import identity
from bot.plugins.channels.rest import caller_refusal, proxied_addresses, read_request
from bot.plugins.channels.slack.render import to_mrkdwn
from bot.request_limits import RASA_SERVER_DEFAULT, RASA_SERVER_LIMITS, WEB_APP_LIMITS, WEB_MAX_BYTES, limit_for

SECRET = b"s" * 40


def test_a_new_session_is_the_widgets_own_and_only_its_proof_opens_it():
    sender, session = identity.new_session(SECRET)
    assert sender.startswith("web:") and session.startswith(sender + ".")
    assert identity.verified_sender(session, SECRET) == sender
    other_sender, other_session = identity.new_session(SECRET)
    assert other_sender != sender
    proof = session.split(".")[1]
    for forged in (
        sender,  # the id alone
        f"{sender}.{proof[:-1]}A" if proof[-1] != "A" else f"{sender}.{proof[:-1]}B",
        f"{other_sender}.{proof}",  # another id with this proof
        f"slack:T0:U0.{proof}",
        "rest-founder",
        session + "x",
        None,
        7,
        "web:" + "a" * 200,
    ):
        assert identity.verified_sender(forged, SECRET) is None, forged
    assert identity.verified_sender(session, b"t" * 40) is None, "another secret signed nothing here"


def test_the_secret_is_made_once_owner_only_or_taken_from_the_environment(tmp_path):
    path = tmp_path / "var" / "widget_secret"
    first = identity.widget_secret({"WIDGET_SECRET_FILE": str(path)})
    assert identity.widget_secret({"WIDGET_SECRET_FILE": str(path)}) == first, "made once"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert identity.widget_secret({"WIDGET_SECRET": "e" * 32}) == b"e" * 32
    with pytest.raises(identity.SettingsError, match="too short"):
        identity.widget_secret({"WIDGET_SECRET": "short"})


def test_rest_ids_may_not_be_in_another_channels_namespace_unless_allowed():
    for sender in ("web:abc", "slack:T0:U0"):
        fields, problem = read_request(f'{{"sender": "{sender}", "message": "hi"}}'.encode())
        assert fields is None and "may not start with" in problem
    allowed = identity.rest_allowed_namespaces({"REST_ALLOWED_NAMESPACES": "web"})
    assert read_request(b'{"sender": "web:abc", "message": "hi"}', allowed)[1] is None
    assert "slack" in read_request(b'{"sender": "slack:T0:U0", "message": "hi"}', allowed)[1]
    assert read_request(b'{"sender": "ada", "message": "hi"}')[1] is None
    with pytest.raises(identity.SettingsError, match="unknown namespaces"):
        identity.rest_allowed_namespaces({"REST_ALLOWED_NAMESPACES": "web,email"})


@pytest.mark.parametrize(
    "forwarded_for, forwarded, remote",
    [
        (["127.0.0.1", "203.0.113.9"], [], True),
        (["127.0.0.1, ::1"], [], False),
        ([], ['for=127.0.0.1, for="[2001:db8::17]:4711"'], True),
        ([], ['for="[::1]:4711";proto=https', "For=127.0.0.1:80"], False),
        ([], ["for=unknown"], True),
        ([], ["for=_hidden"], True),
        ([], ["proto=https;by=127.0.0.1"], False),
    ],
)
def test_every_proxy_header_line_counts(forwarded_for, forwarded, remote):
    refusal = caller_refusal("127.0.0.1", forwarded_for, None, None, forwarded)
    assert (refusal is not None) == remote, proxied_addresses(forwarded_for, forwarded)
    if remote:
        assert refusal[0] == 403


def test_each_door_has_its_limit():
    assert limit_for("/webhooks/rest/webhook", RASA_SERVER_LIMITS, RASA_SERVER_DEFAULT) == 64 * 1024
    assert limit_for("/socket.io/", RASA_SERVER_LIMITS, RASA_SERVER_DEFAULT) == 64 * 1024
    assert limit_for("/webhooks/slack/webhook", RASA_SERVER_LIMITS, RASA_SERVER_DEFAULT) == 1024 * 1024
    assert limit_for("/review/login", WEB_APP_LIMITS, WEB_MAX_BYTES) == 4 * 1024
    assert limit_for("/review/users", WEB_APP_LIMITS, WEB_MAX_BYTES) == 64 * 1024


def test_founder_text_marks_up_nothing_in_the_coachs_markdown_and_reads_back_as_typed():
    typed = "[Claim](https://example.com) <b>x</b> *y* a_b ~z~ |t| ![i](https://e.example/i.png) \\"
    markdown = f"**Venture:** {literal(typed)} and [the canvas](https://canvas.example)"
    assert unescape(literal(typed)) == typed
    slack = to_mrkdwn(markdown)
    assert "<https://canvas.example|the canvas>" in slack, "the coach's own link still works"
    assert "<https://example.com|" not in slack and "[Claim](https://example.com)" in slack
    assert "&lt;b&gt;x&lt;/b&gt;" in slack and "<b>" not in slack
    assert slack.startswith("*Venture:*")
