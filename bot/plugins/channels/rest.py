"""Rasa's REST channel, answering only once a turn is stored, and taking a
client's message id.

credentials.yml names this class instead of the stock `rest:` because the stock
channel, in Rasa 3.6:
- answers 200 with whatever replies it collected even when the turn failed
  (it logs the exception and returns the list): a turn whose events could not be
  stored looks answered and saved to the client;
- ignores a message id from the client, so a retry after a timeout is a second
  message.

Here a request is a JSON object with `sender` (1-128 characters), `message` (a
string, may be empty), and optionally `message_id` (1-128 of A-Z a-z 0-9 _ . : -,
processed at most once per conversation: bot/plugins/patches/message_ids.py) and
`metadata` (an object). The id may also come in an `Idempotency-Key` header (the
same id as the body's, if both): nginx then retries the request on the other Rasa
server when the first dies mid-turn (deploy/nginx.conf). Anything else gets 400
with {"error": ...}. A turn that
fails (database or lock store down, say) gets 503 with {"error": ...} and none
of its replies: the client can send the message again, with the same id.
Replies come all at once when the turn is stored (no `?stream=true`).
Conversations appear as channel "rest", as before.

Who may call it: a REST sender id is whatever the caller says, so anyone who can
reach the channel can speak, read and delete as any REST founder. Without
REST_TOKEN it answers only this machine: the caller, and every address a proxy
names, in every X-Forwarded-For line and every `for=` of the standard Forwarded
header, must be loopback (`make shell`, curl, the tests, a local nginx); one
remote address, or one that cannot be read, means remote. With REST_TOKEN set, a
caller from anywhere must send `Authorization: Bearer <REST_TOKEN>`; the token is
compared in constant time and never logged.

Which ids: REST's own namespace, never the widget's (`web:`) nor Slack's
(`slack:`): those conversations belong to their channels' signed users
(bot/plugins/channels/identity.py). A sender in them gets 400, unless
REST_ALLOWED_NAMESPACES names that namespace for an integration. A message's
cohort is its conversation's, fixed at its first message (cohorts.py).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text, Tuple, Union

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as StockRestInput
from rasa.core.lock_store import LockError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.coach.conversation import MESSAGE_NOT_STORED
from bot.plugins.channels import identity
from bot.plugins.channels.client_messages import client_message, valid_message_id
from bot.plugins.channels.cohorts import fixed_metadata_off_loop
from bot.request_limits import install_on_rasa_server

logger = logging.getLogger(__name__)

MAX_SENDER = 128
BUSY = "This conversation is busy or the lock store is unreachable; please send the message again."


def read_request(
    body: bytes, allowed_namespaces: frozenset = frozenset()
) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """The request's fields, or what is wrong with it."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, 'The body must be JSON in UTF-8: {"sender": "...", "message": "..."}.'
    if not isinstance(data, dict):
        return None, 'The body must be a JSON object: {"sender": "...", "message": "..."}.'
    sender, message = data.get("sender"), data.get("message")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER:
        return None, f'"sender" must be a string of 1 to {MAX_SENDER} characters.'
    namespace = identity.namespace_of(sender)
    if namespace and namespace not in allowed_namespaces:
        return None, (
            f'"sender" may not start with "{identity.NAMESPACES[namespace]}": those conversations belong to the '
            f"{namespace} channel's own users (set REST_ALLOWED_NAMESPACES={namespace} for an integration)."
        )
    if not isinstance(message, str):
        return None, '"message" must be a string (it may be empty).'
    message_id = data.get("message_id")
    if message_id is not None and not valid_message_id(message_id):
        return None, '"message_id" must be 1 to 128 of the characters A-Z a-z 0-9 _ . : -'
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return None, '"metadata" must be a JSON object.'
    return {"sender": sender, "message": message, "message_id": message_id, "metadata": metadata or None}, None


def id_from_header(fields: Dict[str, Any], header: Optional[str]) -> Optional[str]:
    """Takes the message id from an Idempotency-Key header into fields; what is wrong, if anything.
    nginx retries a request with this header on another Rasa server (deploy/nginx.conf), so the
    header and the body must name the same id: else a retry would be a second message."""
    if header is None:
        return None
    if not valid_message_id(header):
        return "Idempotency-Key must be 1 to 128 of the characters A-Z a-z 0-9 _ . : -"
    if fields["message_id"] not in (None, header):
        return 'Idempotency-Key and "message_id" must be the same id.'
    fields["message_id"] = header
    return None


def caller_refusal(
    peer: Optional[str],
    forwarded_for: Union[None, str, Sequence[str]],
    authorization: Optional[str],
    token: Optional[str],
    forwarded: Union[None, str, Sequence[str]] = None,
) -> Optional[Tuple[int, str]]:
    """(status, reason) when the caller may not use the channel, else None."""
    if token:
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not given:
            return 401, "This channel needs Authorization: Bearer <REST_TOKEN>."
        if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            return 403, "Wrong token."
        return None
    addresses = [peer or "", *proxied_addresses(forwarded_for, forwarded)]
    if not all(_is_loopback(address) for address in addresses):
        return 403, "The REST channel answers only this machine; set REST_TOKEN to open it to other callers."
    return None


def _lines(value: Union[None, str, Sequence[str]]) -> List[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def proxied_addresses(
    forwarded_for: Union[None, str, Sequence[str]], forwarded: Union[None, str, Sequence[str]]
) -> List[str]:
    """Every address that proxies name: each X-Forwarded-For line's list, and each
    `for=` of each Forwarded line (RFC 7239: quoted, [v6]:port, or a token such as
    "unknown", which is no loopback address and so counts as remote)."""
    addresses = [a.strip() for line in _lines(forwarded_for) for a in line.split(",") if a.strip()]
    for line in _lines(forwarded):
        for element in line.split(","):
            for pair in element.split(";"):
                name, _, value = pair.strip().partition("=")
                if name.strip().lower() == "for":
                    addresses.append(_forwarded_node(value.strip().strip('"')))
    return addresses


def _forwarded_node(node: str) -> str:
    if node.startswith("["):  # "[2001:db8::1]:4711"
        return node[1 : node.find("]")] if "]" in node else node
    host, _, port = node.rpartition(":")
    return host if host and port.isdigit() and host.count(":") == 0 else node


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class RestInput(StockRestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("reliable_rest_webhook", __name__)
        install_on_rasa_server(webhook)
        allowed_namespaces = identity.rest_allowed_namespaces()

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refusal = caller_refusal(
                request.ip,
                request.headers.getall("x-forwarded-for", []),
                request.headers.get("authorization"),
                os.environ.get("REST_TOKEN"),
                request.headers.getall("forwarded", []),
            )
            if refusal:
                return response.json({"error": refusal[1]}, status=refusal[0])
            fields, problem = read_request(request.body or b"", allowed_namespaces)
            if not problem:
                problem = id_from_header(fields, request.headers.get("idempotency-key"))
            if problem:
                return response.json({"error": problem}, status=400)
            collector = CollectingOutputChannel()
            try:
                metadata = await fixed_metadata_off_loop(self.name(), fields["sender"], fields["metadata"])
                message = client_message(
                    fields["message"],
                    collector,
                    fields["sender"],
                    fields["message_id"],
                    input_channel=self.name(),
                    metadata=metadata or None,
                )
                await on_new_message(message)
            except LockError as error:
                logger.error("A REST message was not processed: %s", error)
                return response.json({"error": BUSY}, status=503)
            except Exception:
                logger.exception("A REST message could not be processed and stored.")
                return response.json({"error": MESSAGE_NOT_STORED}, status=503)
            return response.json(collector.messages)

        return webhook
