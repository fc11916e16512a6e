"""A fake Slack for the Slack app's tests, served on loopback.

- FakeSlack: a real HTTP server (aiohttp, in its own thread) playing Slack's Web API
  at /api/<method>, the file upload URLs files.getUploadURLExternal hands out, and
  response_url endpoints. It records every call, keeps the messages as Slack would
  (chat.update and response_url replace them), checks the bot token and Block Kit's
  limits, and answers like Slack.
- SlackUser: sends what Slack sends to the app (events, button clicks, /canvas),
  signed as Slack signs them.
- ActionGate: a loopback proxy between the Rasa server and the action server that a
  test can hold (a slow action server) or fail (one that is down).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import aiohttp
from aiohttp import web

TEAM = "T0TEAM"
BOT_USER = "U0BOT"
TOKEN = "xoxb-test-token-not-a-secret"
SIGNING_SECRET = "test-signing-secret"
WAIT_S = 120  # how long a test waits for something to happen before it fails


class LoopbackServer:
    """An aiohttp app on 127.0.0.1, run on its own event loop in a thread."""

    def __init__(self, app: web.Application):
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(self.app)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._runner = runner
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def start(self) -> "LoopbackServer":
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Call:
    method: str
    args: Dict[str, Any]
    at: int  # position in the call log


@dataclass
class Message:
    channel: str
    ts: str
    thread_ts: Optional[str]
    text: str
    blocks: List[Dict[str, Any]] = field(default_factory=list)
    updates: int = 0
    posted_text: str = ""  # as first posted, before any update

    def __post_init__(self) -> None:
        self.posted_text = self.posted_text or self.text

    @property
    def all_text(self) -> str:
        """The text and every text in the blocks, as a reader sees it."""
        found: List[str] = [self.text or ""]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("text"), str):
                    found.append(node["text"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.blocks)
        return "\n".join(found)

    @property
    def buttons(self) -> List[Dict[str, Any]]:
        return [e for b in self.blocks if b.get("type") == "actions" for e in b.get("elements") or []]


class BlockKitError(ValueError):
    pass


def check_blocks(blocks: Any, limit: int = 50) -> None:
    """Block Kit's limits, as Slack enforces them (invalid_blocks)."""
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise BlockKitError(f"more than {limit} blocks")
    for block in blocks:
        if block.get("type") == "section" and len((block.get("text") or {}).get("text") or "") > 3000:
            raise BlockKitError("section text over 3000 characters")
        if block.get("type") == "header" and len(block["text"]["text"]) > 150:
            raise BlockKitError("header over 150 characters")
        if block.get("type") == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 25:
                raise BlockKitError("an actions block holds 1 to 25 elements")
            for element in elements:
                if len(element["text"]["text"]) > 75 or len(element.get("value") or "") > 2000:
                    raise BlockKitError("button label over 75 or value over 2000 characters")
        if len(str(block.get("block_id") or "")) > 255:
            raise BlockKitError("block_id over 255 characters")


class FakeSlack:
    def __init__(self) -> None:
        self.calls: List[Call] = []
        self.errors: List[Tuple[str, Dict[str, Any]]] = []  # calls Slack would have refused
        self.messages: Dict[Tuple[str, str], Message] = {}
        self.uploads: Dict[str, Dict[str, Any]] = {}  # file_id -> {"filename", "bytes", "channel", "thread_ts"}
        self.responses: List[Dict[str, Any]] = []  # response_url posts
        self.thread_starters: Dict[Tuple[str, str], str] = {}  # (channel, ts) -> user, for conversations.replies
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        app = web.Application(client_max_size=10_000_000)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{channel}/{ts}", self._response_url)
        self.server = LoopbackServer(app)

    # --- the server ---------------------------------------------------------------------

    def start(self) -> "FakeSlack":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def api_url(self) -> str:
        return self.server.url + "/api/"

    def response_url(self, channel: str, ts: str) -> str:
        return f"{self.server.url}/response/{channel}/{ts}"

    def _record(self, method: str, args: Dict[str, Any]) -> None:
        with self._changed:
            self.calls.append(Call(method, args, len(self.calls)))
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: Dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            answer = {"ok": False, "error": "invalid_auth"}
        elif any(value is None for value in args.values()):
            answer = {"ok": False, "error": "invalid_arguments", "detail": "a null argument"}
        else:
            try:
                answer = self._answer(method, args)
            except BlockKitError as error:
                answer = {"ok": False, "error": "invalid_blocks", "detail": str(error)}
        if not answer["ok"]:
            self.errors.append((method, answer))
        self._record(method, args)
        return web.json_response(answer)

    def _answer(self, method: str, args: Dict[str, Any]) -> Dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "team_id": TEAM, "bot_id": "B0BOT"}
        if method == "chat.postMessage":
            blocks = _parsed(args.get("blocks")) or []
            check_blocks(blocks)
            channel = args["channel"]
            if channel.startswith("U"):
                channel = "D" + channel[1:]  # posting to a user id opens the DM with them
            ts = f"{1_800_000_000 + next(self._ts)}.000100"
            message = Message(channel, ts, args.get("thread_ts"), args.get("text") or "", blocks)
            with self._changed:
                self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": message.text, "ts": ts}}
        if method == "chat.update":
            message = self.messages.get((args["channel"], args["ts"]))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            blocks = _parsed(args.get("blocks")) or []
            check_blocks(blocks)
            with self._changed:
                message.text, message.blocks, message.updates = args.get("text") or "", blocks, message.updates + 1
            return {"ok": True, "channel": message.channel, "ts": message.ts}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1_800_000_000 + next(self._ts)}.000200"}
        if method == "views.publish":
            view = _parsed(args.get("view")) or {}
            check_blocks(view.get("blocks") or [], limit=100)
            return {"ok": True, "view": {"id": "V1", **view}}
        if method == "conversations.replies":
            user = self.thread_starters.get((args.get("channel"), args.get("ts")))
            if user is None:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": [{"type": "message", "user": user, "ts": args["ts"]}], "has_more": False}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):06d}"
            self.uploads[file_id] = {
                "filename": args.get("filename"),
                "length": int(args.get("length") or 0),
                "bytes": None,
                "channel": None,
                "thread_ts": None,
            }
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.server.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = json.loads(args["files"])
            for item in files:
                upload = self.uploads.get(item["id"])
                if upload is None or upload["bytes"] is None:
                    return {"ok": False, "error": "file_not_found"}
                upload.update(
                    channel=args.get("channel_id"), thread_ts=args.get("thread_ts"), comment=args.get("initial_comment")
                )
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        return {"ok": False, "error": "unknown_method"}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        if file_id not in self.uploads:
            return web.Response(status=404)
        self.uploads[file_id]["bytes"] = data
        self._record("(upload)", {"file_id": file_id, "size": len(data)})
        return web.Response(text="OK")

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = (request.match_info["channel"], request.match_info["ts"])
        with self._changed:
            self.responses.append({"channel": key[0], "ts": key[1], **body})
            message = self.messages.get(key)
            if body.get("replace_original") and message is not None:
                check_blocks(body.get("blocks") or [])
                message.text, message.blocks, message.updates = (
                    body.get("text") or "",
                    body.get("blocks") or [],
                    message.updates + 1,
                )
        self._record("(response_url)", {"channel": key[0], "ts": key[1]})
        return web.Response(text="ok")

    # --- what tests read --------------------------------------------------------------------

    def mark(self) -> int:
        return len(self.calls)

    def calls_since(self, mark: int, method: Optional[str] = None) -> List[Call]:
        return [c for c in self.calls[mark:] if method is None or c.method == method]

    def wait_for(self, what: Callable[[], Any], description: str, timeout: float = WAIT_S) -> Any:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = what()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out waiting for {description}; calls: {[c.method for c in self.calls[-20:]]}"
                    )
                self._changed.wait(min(left, 0.5))

    def thread(self, channel: str, thread_ts: Optional[str]) -> List[Message]:
        """The bot's messages in a DM (thread_ts None) or a thread, oldest first."""
        return [
            m
            for (c, _), m in sorted(self.messages.items(), key=lambda kv: kv[0][1])
            if c == channel and m.thread_ts == thread_ts
        ]

    def methods_called(self) -> set:
        return {c.method for c in self.calls if not c.method.startswith("(")}


def _parsed(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


# --- the Slack side: signed requests ---------------------------------------------------------


def sign(body: bytes, timestamp: Optional[int] = None, secret: str = SIGNING_SECRET) -> Dict[str, str]:
    """Slack's v0 signature: HMAC-SHA256 of "v0:<timestamp>:<body>" with the signing secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), b"v0:%d:" % timestamp + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class SlackUser:
    """Sends Slack's requests to the app's URL: events, clicks and /canvas, signed."""

    _ids = itertools.count(1)

    def __init__(self, webhook_url: str, fake: FakeSlack):
        self.url = webhook_url
        self.fake = fake

    @classmethod
    def new_ts(cls) -> str:
        return f"{1_700_000_000 + next(cls._ids)}.{next(cls._ids):06d}"

    def post(
        self, body: bytes, content_type: str, headers: Optional[Dict[str, str]] = None, signed: bool = True
    ) -> Reply:
        all_headers = {"Content-Type": content_type, **(sign(body) if signed else {}), **(headers or {})}
        request = urllib.request.Request(self.url, data=body, headers=all_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read())

    def send_event(
        self, event: Dict[str, Any], event_id: Optional[str] = None, headers: Optional[Dict[str, str]] = None
    ) -> Reply:
        envelope = {
            "token": "deprecated",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event": event,
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
        return self.post(json.dumps(envelope).encode(), "application/json", headers)

    @staticmethod
    def dm_event(user: str, text: str, ts: Optional[str] = None) -> Dict[str, Any]:
        return {
            "type": "message",
            "channel": dm_channel(user),
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": ts or SlackUser.new_ts(),
            "team": TEAM,
        }

    def channel_event(
        self,
        user: str,
        channel: str,
        text: str,
        thread_ts: Optional[str] = None,
        parent_user: Optional[str] = None,
        kind: str = "message",
        ts: Optional[str] = None,
    ) -> Dict[str, Any]:
        ts = ts or self.new_ts()
        event = {"type": kind, "channel": channel, "user": user, "text": text, "ts": ts, "team": TEAM}
        if kind == "message":
            event["channel_type"] = "channel"
        if thread_ts:
            event["thread_ts"] = thread_ts
            if parent_user:
                event["parent_user_id"] = parent_user
        else:
            self.fake.thread_starters[(channel, ts)] = user
        return event

    def click(self, message: Message, title: str, user: str) -> Reply:
        """A click on the button titled `title` of a message the bot posted."""
        for block in message.blocks:
            for element in block.get("elements") or [] if block.get("type") == "actions" else []:
                if element["text"]["text"] == title:
                    return self._block_action(message, block, element, user)
        raise AssertionError(f"no button {title!r} in {[b['text']['text'] for b in message.buttons]}")

    def _block_action(self, message: Message, block: Dict[str, Any], element: Dict[str, Any], user: str) -> Reply:
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0APP",
            "trigger_id": "1.2.3",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
                **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
            },
            "channel": {"id": message.channel},
            "response_url": self.fake.response_url(message.channel, message.ts),
            "message": {
                "type": "message",
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
                **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
            },
            "actions": [
                {
                    "type": "button",
                    "action_id": element["action_id"],
                    "block_id": block.get("block_id"),
                    "text": element["text"],
                    "value": element.get("value"),
                    "action_ts": str(time.time()),
                }
            ],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def home_button(self, user: str, action_id: str) -> Reply:
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user, "team_id": TEAM},
            "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "home"},
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "home",
                    "text": {"type": "plain_text", "text": "Start coaching"},
                }
            ],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def command(self, user: str, text: str, channel: str = "C0GENERAL", command: str = "/canvas") -> Reply:
        form = {
            "token": "deprecated",
            "team_id": TEAM,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0APP",
            "response_url": self.fake.response_url(channel, "cmd"),
            "trigger_id": "1.2.3",
        }
        return self.post(urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")


def dm_channel(user: str) -> str:
    return "D" + user[1:]


# --- a slow or failing action server ---------------------------------------------------------


class ActionGate:
    """Forwards the Rasa server's action calls to the action server, unless held or failing."""

    def __init__(self, actions_url: str):
        self.actions_url = actions_url.rstrip("/")
        self.mode = "open"  # "open", "hold" (wait until released), "fail" (answer 502)
        self.held = 0  # requests waiting now
        self._release: Optional[asyncio.Event] = None
        self._lock = threading.Condition()
        app = web.Application(client_max_size=50_000_000)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self.server = LoopbackServer(app)

    def start(self) -> "ActionGate":
        self.server.start()
        self._release = asyncio.Event()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def port(self) -> int:
        return self.server.port

    def hold(self) -> None:
        self.server.loop.call_soon_threadsafe(self._release.clear)
        self.mode = "hold"

    def release(self) -> None:
        self.mode = "open"
        self.server.loop.call_soon_threadsafe(self._release.set)

    def wait_until_held(self, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.held == 0:
                if time.monotonic() > deadline:
                    raise AssertionError("no action call reached the gate")
                self._lock.wait(0.5)

    async def _forward(self, request: web.Request) -> web.Response:
        if self.mode == "fail":
            return web.Response(status=502, text="action server down")
        if self.mode == "hold":
            with self._lock:
                self.held += 1
                self._lock.notify_all()
            try:
                await self._release.wait()
            finally:
                with self._lock:
                    self.held -= 1
        body = await request.read()
        async with aiohttp.ClientSession() as session:
            async with session.request(
                request.method,
                self.actions_url + request.path_qs,
                data=body,
                headers={
                    "Content-Type": request.headers.get("Content-Type", "application/json"),
                    # The Rasa server's token (endpoints.yml sends it as this header), passed on.
                    **{k: v for k, v in request.headers.items() if k.lower() == "authorization"},
                },
            ) as answer:
                return web.Response(status=answer.status, body=await answer.read(), content_type=answer.content_type)
