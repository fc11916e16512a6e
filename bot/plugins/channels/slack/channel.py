"""The coach as a Slack app: Rasa's input channel for /webhooks/slack/webhook.

One URL takes Slack's events, interactivity (button clicks) and the /canvas command.
Every request is checked (v0 signature, timestamp within 5 minutes), acknowledged at
once, and the coach's turn runs after the ack, as a task on the server's loop, so a
slow action server never makes Slack retry. The turn's messages are collected and
posted as one Block Kit message (render.py).

Built on slack_sdk rather than Rasa's SlackInput (README, "Slack", says why) or Slack
Bolt: what Bolt would add (signature checks, dispatch by event type, the ack) is a few
lines over slack_sdk here, while what the coach needs (one conversation per thread,
dedupe of retries of any reason and of message/app_mention, a Rasa turn after the ack)
Bolt does not do, and it would be a second framework to bridge into this blueprint.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any, Awaitable, Callable, Dict, Optional, Set, Text, Tuple
from urllib.parse import parse_qs, urlparse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.coach.conversation import ACTIONS_UNREACHABLE, STORE_BUSY
from bot.coach.export import block_file_name, export_dict, to_markdown
from bot.coach.store import CanvasStore, StoreError
from bot.plugins.channels.cohorts import fixed_metadata_off_loop
from bot.plugins.channels.slack import lookup, render, routing
from bot.plugins.channels.slack.settings import SettingsError, SlackSettings
from bot.request_limits import SLACK_MAX_BYTES, install_on_rasa_server
from bot.review.mentors import DashboardMentors

logger = logging.getLogger(__name__)

# Every Web API method the app calls, and the bot scope each needs (slack/manifest.yml
# must grant them: tests/test_slack_manifest.py). SlackApi refuses any other method.
WEB_API_SCOPES: Dict[str, Tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "views.publish": (),
    # Who started a thread, when the event does not say (channels, private channels).
    "conversations.replies": ("channels:history", "groups:history"),
    # files_upload_v2 calls these two.
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
# The events the app subscribes to (manifest: settings.event_subscriptions.bot_events),
# the scope each needs, and the event type that reaches handle_event.
EVENT_SUBSCRIPTIONS: Dict[str, Tuple[str, str]] = {
    "message.im": ("im:history", "message"),  # a DM
    "message.channels": ("channels:history", "message"),  # thread follow-ups in public channels
    "message.groups": ("groups:history", "message"),  # ... and in private ones
    "app_mention": ("app_mentions:read", "app_mention"),
    "app_home_opened": ("", "app_home_opened"),
}
HANDLED_EVENT_TYPES = {event_type for _, event_type in EVENT_SUBSCRIPTIONS.values()}
SLASH_COMMAND = "/canvas"
COMMAND_SCOPE = "commands"

MAX_BODY_BYTES = SLACK_MAX_BYTES  # Slack's requests are a few kB; Sanic refuses more before reading it
PATIENCE_S = 3.0  # a turn still running after this gets a "one moment" message, updated with the answer
LOOKUP_TIMEOUT_S = 2.0  # /canvas answers inside Slack's 3 seconds, or says the store is busy

# What only a thread's owner may ask of the coach: their data is theirs (intents of domain.yml).
OWNER_ONLY_INTENTS = frozenset({"delete_data", "confirm_delete", "export_data"})
OWNER_ONLY = "Only <@{owner}> can ask me to delete or export their data."
AWAITING_OWNER = "I'm waiting for <@{owner}>'s answer about deleting their data."

ONE_MOMENT = "_One moment, I'm thinking…_"
BLOCK_GONE = "That block is no longer stored (it may have been deleted), so there is nothing to export."


class SlackApi:
    """The Web API calls the app makes, through slack_sdk's AsyncWebClient (base URL from
    SLACK_API_URL, so tests point it at a fake). Failures are logged, never raised."""

    def __init__(self, settings: SlackSettings):
        self.client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url, timeout=15)
        self._api_origin = urlparse(settings.api_url)

    async def call(self, method: str, **arguments: Any) -> Optional[Dict[str, Any]]:
        if method not in WEB_API_SCOPES:
            raise ValueError(f"{method} is not in WEB_API_SCOPES (and the manifest)")
        # slack_sdk sends JSON bodies as given: a None would go out as null.
        arguments = {name: value for name, value in arguments.items() if value is not None}
        try:
            result = await getattr(self.client, method.replace(".", "_"))(**arguments)
            return result.data if isinstance(result.data, dict) else {}
        except (SlackApiError, SlackClientError, asyncio.TimeoutError, OSError) as error:
            logger.error("Slack %s failed: %s", method, _slack_error(error))
            return None

    async def upload(self, channel: str, thread_ts: Optional[str], files: list, comment: Optional[str]) -> bool:
        """files_upload_v2 (files.getUploadURLExternal, the upload, files.completeUploadExternal)."""
        uploads = [
            {"filename": f["filename"], "content": f["content"].encode("utf-8"), "title": f["filename"]} for f in files
        ]
        try:
            await self.client.files_upload_v2(
                file_uploads=uploads, channel=channel, thread_ts=thread_ts, initial_comment=comment
            )
            return True
        except (SlackApiError, SlackClientError, asyncio.TimeoutError, OSError) as error:
            logger.error("Slack file upload failed: %s", _slack_error(error))
            return False

    def trusted_response_url(self, url: Any) -> bool:
        """Slack's hooks, or the configured API host (a proxy, or the tests' fake)."""
        if not isinstance(url, str):
            return False
        parsed = urlparse(url)
        if parsed.scheme == "https" and parsed.hostname == "hooks.slack.com":
            return True
        return (parsed.scheme, parsed.netloc) == (self._api_origin.scheme, self._api_origin.netloc)

    async def respond(self, url: str, **body: Any) -> bool:
        if not self.trusted_response_url(url):
            logger.warning("A response_url outside hooks.slack.com was ignored.")
            return False
        try:
            result = await AsyncWebhookClient(url, timeout=15).send_dict(body)
            if result.status_code != 200:
                logger.error("Slack response_url answered %s", result.status_code)
            return result.status_code == 200
        except (SlackClientError, asyncio.TimeoutError, OSError) as error:
            logger.error("Slack response_url failed: %s", _slack_error(error))
            return False


def _slack_error(error: Exception) -> str:
    """What went wrong, without the request (which carries the token in its headers)."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") if error.response is not None else "error")
    return type(error).__name__ + (f": {error}" if str(error) else "")


class SlackInput(InputChannel):
    """POST /webhooks/slack/webhook. Off (404) without SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        # Nothing secret lives in credentials.yml: the settings come from the environment.
        try:
            return cls(SlackSettings.from_env())
        except SettingsError as error:
            logger.error("Slack is off: %s", error)
            return cls(None)

    def __init__(self, settings: Optional[SlackSettings]):
        self.settings = settings
        self.api = SlackApi(settings) if settings else None
        self.verifier = SignatureVerifier(settings.signing_secret) if settings else None
        self.seen = routing.SeenRecently()
        self.shared_seen = (
            routing.SharedSeen(settings.dedupe_redis_url, local=self.seen)
            if settings and settings.dedupe_redis_url
            else None
        )
        self._tasks: Set[asyncio.Task] = set()
        self._store: Optional[CanvasStore] = None
        self._bot_user: Optional[str] = None
        self._thread_owners: Dict[Tuple[str, str], str] = {}
        self.mentors = lookup.Mentors(settings.mentors, DashboardMentors()) if settings else None
        if settings:
            logger.info(
                "Slack is on: %d mentors in SLACK_MENTORS (and the review dashboard's), %d channels mapped to cohorts, API %s, dedupe %s",
                len(settings.mentors),
                len(settings.channel_cohorts),
                settings.api_url,
                "shared in Redis" if self.shared_seen else "in this process",
            )
        else:
            logger.info("Slack is off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not both set.")

    # --- the route -----------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack = Blueprint("slack_webhook", __name__)
        install_on_rasa_server(slack)  # 413 over SLACK_MAX_BYTES, before the body is read

        @slack.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings else "off"}, status=200 if self.settings else 404)

        @slack.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if self.settings is None:
                return response.json(
                    {"error": "Slack is not set up: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"}, status=404
                )
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return response.json({"error": "request too large"}, status=413)
            if not self._signed(request, body):
                return response.json({"error": "invalid signature"}, status=401)
            agent = request.app.ctx.agent
            if (request.content_type or "").startswith("application/json"):
                return await self._on_event_request(_json(body), request, on_new_message, agent)
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if v}
            if "payload" in form:
                return self._on_interaction(_json(form["payload"].encode()), on_new_message, agent)
            if "command" in form:
                return await self._on_command(form)
            return response.json({"error": "not a Slack event, interaction or command"}, status=400)

        return slack

    def _signed(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if not timestamp or not signature or not timestamp.strip().isdigit():
            return False
        try:
            return self.verifier.is_valid(body.decode("utf-8", "replace"), timestamp, signature)
        except (ValueError, TypeError):
            return False

    def _later(self, coroutine: Awaitable[Any]) -> None:
        """Runs after the ack, on the server's loop; errors are logged."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("A Slack task failed", exc_info=finished.exception())

        task.add_done_callback(done)

    # --- events ----------------------------------------------------------------------------

    async def _first_time(self, *keys: Optional[str]) -> bool:
        """Exactly once: in Redis when several Rasa servers share the work, else in this process."""
        if self.shared_seen is not None:
            return await self.shared_seen.first_time(*keys)
        return self.seen.first_time(*keys)

    async def _on_event_request(self, envelope: Any, request: Request, on_new_message, agent) -> HTTPResponse:
        if not isinstance(envelope, dict):
            return response.json({"error": "the body is not a JSON object"}, status=400)
        if envelope.get("type") == "url_verification":
            return response.json({"challenge": envelope.get("challenge")})
        if envelope.get("type") != "event_callback" or not isinstance(envelope.get("event"), dict):
            return response.json({"ok": True})
        event = envelope["event"]
        if event.get("type") not in HANDLED_EVENT_TYPES:
            return response.json({"ok": True})
        # Exactly once: by event_id (a retry, whatever its X-Slack-Retry-Reason), and by the
        # message itself (its mention comes both as `message` and as `app_mention`).
        # (A subtype, such as an edit, is not the message itself and is ignored anyway.)
        message_key = (
            f"message:{event.get('channel')}:{event.get('ts')}"
            if event.get("type") in ("message", "app_mention") and event.get("ts") and not event.get("subtype")
            else None
        )
        if not await self._first_time(
            f"event:{envelope.get('event_id')}" if envelope.get("event_id") else None, message_key
        ):
            logger.info(
                "Slack event %s seen before (retry %s): ignored.",
                envelope.get("event_id"),
                request.headers.get("X-Slack-Retry-Num", "-"),
            )
            return response.json({"ok": True})
        if event.get("type") in ("message", "app_mention"):
            self._later(self._on_message(envelope, on_new_message, agent))
        elif event.get("tab", "home") == "home":  # app_home_opened
            self._later(self._publish_home(_team_of(envelope), event.get("user")))
        return response.json({"ok": True})

    async def _bot_user_id(self, envelope: Dict[str, Any]) -> Optional[str]:
        for authorization in envelope.get("authorizations") or []:
            if isinstance(authorization, dict) and authorization.get("is_bot") and authorization.get("user_id"):
                return authorization["user_id"]
        if self._bot_user is None:
            result = await self.api.call("auth.test")
            self._bot_user = (result or {}).get("user_id")
        return self._bot_user

    async def _thread_owner(self, message: routing.Incoming) -> Optional[str]:
        """Who started the thread: from the event, else asked of Slack once and remembered."""
        if message.parent_user:
            return message.parent_user
        key = (message.channel, message.thread_ts)
        if key not in self._thread_owners:
            result = await self.api.call(
                "conversations.replies", channel=message.channel, ts=message.thread_ts, limit=1
            )
            first = ((result or {}).get("messages") or [{}])[0]
            if not first.get("user"):
                return None
            if len(self._thread_owners) > 10_000:
                self._thread_owners.clear()
            self._thread_owners[key] = first["user"]
        return self._thread_owners[key]

    async def _on_message(self, envelope: Dict[str, Any], on_new_message, agent) -> None:
        team = _team_of(envelope)
        bot_user = await self._bot_user_id(envelope)
        message = routing.read_message_event(envelope["event"], team, bot_user)
        if message is None:
            return
        if message.is_dm:
            place = routing.Place(team, message.user, None, None)
            post_channel = message.channel
        else:
            owner = message.user if message.thread_ts is None else await self._thread_owner(message)
            if owner is None:
                logger.warning(
                    "A message in thread %s was ignored: who started the thread is unknown.", message.thread_ts
                )
                return
            role = routing.role_in_thread(message, owner)
            if role == routing.SIDE_TALK:
                return
            place = routing.Place(team, owner, message.channel, message.thread_ts or message.ts)
            if role == routing.OWNER and not message.mentions_bot and not await _has_conversation(agent, place.key):
                return  # the owner talking in a human thread the coach was never called into
            post_channel = message.channel
        text = routing.text_for_nlu(message.text, bot_user)
        if message.user != place.owner and await self._refused(agent, place, message.channel, message.user, text):
            return
        metadata = self._metadata(place, message.user, message.channel, event_id=envelope.get("event_id"))
        await self._run_turn(place, post_channel, text, metadata, on_new_message, message_id=envelope.get("event_id"))

    async def _refused(self, agent: Any, place: routing.Place, channel: str, user: str, text: str) -> bool:
        """Someone steering another founder's thread may not delete or export that founder's
        data, nor answer the coach's "delete everything?"; they are told so, only them."""
        try:
            intent = ((await agent.parse_message(text)).get("intent") or {}).get("name")
            tracker = await agent.tracker_store.retrieve(place.key)
        except Exception:  # noqa: BLE001 - when in doubt, the owner's data stays safe
            logger.exception("Could not check a message steering thread %s", place.thread_ts)
            intent, tracker = None, None
            refusal = OWNER_ONLY
        else:
            refusal = (
                OWNER_ONLY
                if intent in OWNER_ONLY_INTENTS
                else AWAITING_OWNER
                if tracker is not None and tracker.get_slot("confirming_delete")
                else None
            )
        if refusal is None:
            return False
        await self.api.call(
            "chat.postEphemeral",
            channel=channel,
            user=user,
            thread_ts=place.thread_ts,
            text=refusal.format(owner=place.owner),
        )
        return True

    def _metadata(self, place: routing.Place, user: str, channel: Optional[str], **extra: Any) -> Dict[str, Any]:
        """What every UserMessage carries: the cohort (actions/common.py founder(), the review
        dashboard) and where in Slack it came from. A DM has the default cohort; a thread, its channel's."""
        return {
            "cohort": self.settings.cohort_of(place.channel),
            "slack": {
                "team": place.team,
                "user": user,
                "channel": channel,
                "thread_ts": place.thread_ts,
                "owner": place.owner,
                "mentor": bool(self.mentors.cohorts_of(user)),
                **{k: v for k, v in extra.items() if v is not None},
            },
        }

    # --- one turn --------------------------------------------------------------------------

    async def _run_turn(
        self,
        place: routing.Place,
        channel: str,
        text: str,
        metadata: Dict[str, Any],
        on_new_message,
        message_id: Optional[str] = None,
    ) -> None:
        """The coach's turn, then its messages posted as one (a "one moment" message first
        when it takes long, updated with the answer)."""
        collector = CollectingOutputChannel()
        metadata = await fixed_metadata_off_loop(self.name(), place.key, metadata)
        user_message = UserMessage(
            text, collector, place.key, input_channel=self.name(), metadata=metadata, message_id=message_id
        )
        turn_task = asyncio.ensure_future(on_new_message(user_message))
        done, _ = await asyncio.wait({turn_task}, timeout=PATIENCE_S)
        pending_ts: Optional[str] = None
        if not done:
            posted = await self.api.call(
                "chat.postMessage", channel=channel, thread_ts=place.thread_ts, text=ONE_MOMENT
            )
            if posted:
                channel, pending_ts = posted.get("channel") or channel, posted.get("ts")
        try:
            await turn_task
        except Exception:  # noqa: BLE001 - the user gets ACTIONS_UNREACHABLE; Rasa has kept what it could
            logger.exception("The coach's turn for a Slack message failed")
        turn = render.render_turn(collector.messages, place.key)
        if not turn.posts and not turn.uploads:
            # An action server that is down makes Rasa drop the action and answer nothing;
            # the user's message is in the tracker all the same.
            turn.posts = [render.SlackPost(ACTIONS_UNREACHABLE, render.sections(ACTIONS_UNREACHABLE))]
        for post in turn.posts:
            if pending_ts:
                await self.api.call("chat.update", channel=channel, ts=pending_ts, text=post.text, blocks=post.blocks)
                pending_ts = None
                continue
            posted = await self.api.call(
                "chat.postMessage",
                channel=channel,
                thread_ts=place.thread_ts,
                text=post.text,
                blocks=post.blocks,
                unfurl_links=False,
            )
            channel = (posted or {}).get("channel") or channel  # a user id becomes their DM's id
        if turn.uploads:
            await self.api.upload(channel, place.thread_ts, turn.uploads, "Your data, as you asked.")
        if turn.saved_block is not None:
            await self._republish_homes(place, metadata.get("cohort"))

    # --- interactivity -------------------------------------------------------------------

    def _on_interaction(self, payload: Any, on_new_message, agent) -> HTTPResponse:
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            return response.json({"ok": True})  # nothing else is offered (no modals, no shortcuts)
        action = (payload.get("actions") or [None])[0]
        user = (payload.get("user") or {}).get("id")
        team = (payload.get("team") or {}).get("id") or (payload.get("user") or {}).get("team_id")
        if not isinstance(action, dict) or not user or not team:
            return response.json({"ok": True})
        container = payload.get("container") or {}
        if action.get("action_id") == render.HOME_START_ACTION:
            place = routing.Place(team, user, None, None)
            self._later(self._run_turn(place, user, "/greet", self._metadata(place, user, None), on_new_message))
            return response.json({"ok": True})
        block_id = str(action.get("block_id") or "")
        channel = container.get("channel_id") or (payload.get("channel") or {}).get("id")
        message_ts = container.get("message_ts") or (payload.get("message") or {}).get("ts")
        for prefix in (render.CHOICES_BLOCK, render.EXPORT_BLOCK):
            key = render.block_id_conversation(block_id, prefix)
            place = routing.place_of(key) if key else None
            if place is None or not channel or not message_ts or not _clicked_in_place(place, channel, user):
                continue
            if prefix == render.EXPORT_BLOCK:
                self._later(self._export(place, channel, user, action.get("value")))
            else:
                title = ((action.get("text") or {}).get("text")) or action.get("value") or ""
                self._later(
                    self._clicked(
                        payload,
                        place,
                        channel,
                        message_ts,
                        user,
                        title,
                        str(action.get("value") or ""),
                        on_new_message,
                        agent,
                    )
                )
            break
        return response.json({"ok": True})

    async def _clicked(
        self,
        payload: Dict[str, Any],
        place: routing.Place,
        channel: str,
        message_ts: str,
        user: str,
        title: str,
        value: str,
        on_new_message,
        agent: Any,
    ) -> None:
        if user != place.owner and await self._refused(agent, place, channel, user, value):
            return
        if not await self._first_time(f"click:{channel}:{message_ts}"):
            # The first click on a message counts; its buttons go, a second click does nothing.
            logger.info("A second click on Slack message %s was ignored.", message_ts)
            return
        blocks = render.after_click((payload.get("message") or {}).get("blocks") or [], user, title)
        text = (payload.get("message") or {}).get("text") or title
        if not (
            payload.get("response_url")
            and await self.api.respond(payload["response_url"], replace_original=True, text=text, blocks=blocks)
        ):
            await self.api.call("chat.update", channel=channel, ts=message_ts, text=text, blocks=blocks)
        metadata = self._metadata(place, user, channel, button=title)
        await self._run_turn(place, channel, value, metadata, on_new_message)

    async def _export(self, place: routing.Place, channel: str, user: str, value: Any) -> None:
        """The Markdown and JSON of the saved version the Export button names, as files:
        for the founder whose block it is, as "export my data" is."""
        if user != place.owner:
            await self.api.call(
                "chat.postEphemeral",
                channel=channel,
                user=user,
                thread_ts=place.thread_ts,
                text=OWNER_ONLY.format(owner=place.owner),
            )
            return
        try:
            wanted = json.loads(value) if isinstance(value, str) else {}
            venture, version = wanted.get("venture"), int(wanted.get("version"))
        except (ValueError, TypeError, AttributeError):
            return
        try:
            versions = await self._in_thread(lambda store: store.block_versions(lookup.CHANNEL, place.key, venture))
            block = next((b for b in versions if b.version == version and b.status == "final"), None)
        except (StoreError, asyncio.TimeoutError):
            await self.api.call(
                "chat.postEphemeral", channel=channel, user=user, text=STORE_BUSY, thread_ts=place.thread_ts
            )
            return
        if block is None:
            await self.api.call(
                "chat.postEphemeral", channel=channel, user=user, text=BLOCK_GONE, thread_ts=place.thread_ts
            )
            return
        name = block_file_name(block)
        files = [
            {"filename": f"{name}.md", "content": to_markdown(block)},
            {"filename": f"{name}.json", "content": block_json(block)},
        ]
        await self.api.upload(
            channel,
            place.thread_ts,
            files,
            f"The block of *{render.escape(block.venture_name)}*, version {block.version}: Markdown and JSON.",
        )

    # --- /canvas and App Home --------------------------------------------------------------

    async def _on_command(self, form: Dict[str, str]) -> HTTPResponse:
        if form.get("command") != SLASH_COMMAND:
            return response.json({"response_type": "ephemeral", "text": f"Unknown command {form.get('command')}."})
        user, team = form.get("user_id") or "", form.get("team_id") or ""
        try:
            answer = await self._in_thread(
                partial(_canvas_answer, team=team, user=user, text=form.get("text") or "", mentors=self.mentors),
                timeout=LOOKUP_TIMEOUT_S,
            )
        except (StoreError, asyncio.TimeoutError):
            answer = render.SlackPost(STORE_BUSY, render.sections(STORE_BUSY))
        # Answered in the ack itself: ephemeral, within Slack's 3 seconds.
        return response.json({"response_type": "ephemeral", "text": answer.text, "blocks": answer.blocks})

    async def _publish_home(self, team: str, user: Optional[str]) -> None:
        if not user:
            return
        try:
            view = await self._in_thread(partial(_home_view, team=team, user=user, mentors=self.mentors))
        except (StoreError, asyncio.TimeoutError):
            logger.warning("App Home not published: the canvas store is busy.")
            return
        await self.api.call("views.publish", user_id=user, view=view)

    async def _republish_homes(self, place: routing.Place, cohort: Optional[str]) -> None:
        """After a save: the founder's Home tab, and those of the cohort's mentors."""
        await self._publish_home(place.team, place.owner)
        loop = asyncio.get_running_loop()
        for mentor in await loop.run_in_executor(None, self.mentors.of_cohort, cohort):
            if mentor != place.owner:
                await self._publish_home(place.team, mentor)

    async def _in_thread(self, work: Callable[[CanvasStore], Any], timeout: float = 10.0) -> Any:
        """A canvas store call, off the event loop (the store is synchronous SQLAlchemy)."""
        loop = asyncio.get_running_loop()

        def run() -> Any:
            if self._store is None:
                self._store = CanvasStore()  # CANVAS_DB_URL, as the action server
            return work(self._store)

        return await asyncio.wait_for(loop.run_in_executor(None, run), timeout)


def _canvas_answer(store: CanvasStore, *, team: str, user: str, text: str, mentors: lookup.Mentors) -> render.SlackPost:
    return lookup.canvas_command(store, team, user, text, mentors.cohorts_of(user))


def _home_view(store: CanvasStore, *, team: str, user: str, mentors: lookup.Mentors) -> Dict[str, Any]:
    return lookup.home_view(store, team, user, mentors.cohorts_of(user))


def block_json(block: Any) -> str:
    """The block's JSON export (bot.coach.export's format), as a file."""
    return json.dumps(export_dict(block), indent=2, ensure_ascii=False)


def _clicked_in_place(place: routing.Place, channel: str, user: str) -> bool:
    """A click belongs to the conversation its buttons name: the same channel for a
    thread; for a DM, only its user can see the buttons."""
    if place.channel is None:
        return place.owner == user
    return place.channel == channel


async def _has_conversation(agent: Any, key: str) -> bool:
    try:
        return await agent.tracker_store.exists(key)
    except Exception:  # noqa: BLE001 - a tracker store hiccup: treat as a thread the coach is in
        logger.exception("Tracker store lookup failed")
        return True


def _team_of(envelope: Dict[str, Any]) -> str:
    return str(envelope.get("team_id") or (envelope.get("event") or {}).get("team") or "T")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
