"""Who a conversation belongs to: the web widget's ids, issued and signed here.

A Rasa sender id is the key to a founder's whole record (tracker, blocks, export,
delete), so whoever can name one owns it. Each channel keeps its ids in its own
namespace (README, "Ports, and who may call them"):

- the widget's are `web:<random>`, made by the Rasa server for each new session
  and signed with WIDGET_SECRET (HMAC-SHA256). The widget gets, keeps and sends
  back one string, `web:<random>.<proof>`; the conversation's id is the part before
  the dot. A session request or message whose proof does not check out gets a new
  session, so it never joins, reads or writes another conversation;
- Slack's are `slack:...`, made from Slack's signed requests;
- REST's are whatever a trusted caller says, anything but `web:` and `slack:`
  (bot/plugins/channels/rest.py), unless REST_ALLOWED_NAMESPACES opens one for an
  integration.

The proof is a secret of the founder's browser: only the id goes into the tracker,
the canvas store, the dashboard, exports and logs.

WIDGET_SECRET comes from the environment (32+ characters, the same for every Rasa
server), else it is made once into var/widget_secret (WIDGET_SECRET_FILE), readable
by its owner only, as `make run` does for ACTIONS_TOKEN.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Optional, Tuple

WEB_PREFIX = "web:"
SLACK_PREFIX = "slack:"
# The namespaces a channel other than their own may not use: prefix -> channel.
NAMESPACES = {"web": WEB_PREFIX, "slack": SLACK_PREFIX}
MIN_SECRET_CHARS = 32
DEFAULT_SECRET_FILE = "var/widget_secret"
_PROOF_LABEL = b"rapport widget session\x00"  # keeps these proofs apart from any other use of the secret
_WEB_ID = re.compile(r"^web:[A-Za-z0-9_-]{22}$")
_PROOF = re.compile(r"^[A-Za-z0-9_-]{43}$")


class SettingsError(Exception):
    """A setting of identities (WIDGET_SECRET, REST_ALLOWED_NAMESPACES) is unusable: the Rasa server must not start."""


def owner_only_file(path: Path, content: str) -> bool:
    """Writes `content` to a new file that only its owner may read (the folder too,
    when it is made here). False when the file existed already: it is left as it is."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)
    return True


def widget_secret(environ: Optional[Mapping[str, str]] = None) -> bytes:
    """WIDGET_SECRET, or the one kept in var/widget_secret (made there the first time)."""
    environ = os.environ if environ is None else environ
    secret = (environ.get("WIDGET_SECRET") or "").strip()
    if not secret:
        path = Path(environ.get("WIDGET_SECRET_FILE") or DEFAULT_SECRET_FILE)
        # O_EXCL: two Rasa servers starting at once both end up with the first one's secret.
        owner_only_file(path, secrets.token_urlsafe(48))
        secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise SettingsError(f"WIDGET_SECRET is too short to be a secret: use at least {MIN_SECRET_CHARS} characters.")
    return secret.encode("utf-8")


@lru_cache(maxsize=1)
def process_secret() -> bytes:
    return widget_secret()


def _proof(sender_id: str, secret: bytes) -> str:
    digest = hmac.new(secret, _PROOF_LABEL + sender_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def new_session(secret: Optional[bytes] = None) -> Tuple[str, str]:
    """(sender id, what the widget keeps): a new conversation in the widget's namespace."""
    sender_id = WEB_PREFIX + secrets.token_urlsafe(16)
    return sender_id, f"{sender_id}.{_proof(sender_id, secret or process_secret())}"


def verified_sender(session: object, secret: Optional[bytes] = None) -> Optional[str]:
    """The conversation a widget's session string names, if its proof is ours; else None."""
    if not isinstance(session, str) or len(session) > 128:
        return None
    sender_id, _, proof = session.partition(".")
    if not _WEB_ID.match(sender_id) or not _PROOF.match(proof):
        return None
    expected = _proof(sender_id, secret or process_secret())
    return sender_id if hmac.compare_digest(proof.encode("ascii"), expected.encode("ascii")) else None


def namespace_of(sender_id: str) -> Optional[str]:
    """The channel whose namespace this id is in ("web", "slack"), or None (REST's own)."""
    for name, prefix in NAMESPACES.items():
        if sender_id.startswith(prefix):
            return name
    return None


def rest_allowed_namespaces(environ: Optional[Mapping[str, str]] = None) -> frozenset:
    """REST_ALLOWED_NAMESPACES: other channels' namespaces a REST caller may use (e.g. "web,slack")."""
    environ = os.environ if environ is None else environ
    names = {n.strip() for n in (environ.get("REST_ALLOWED_NAMESPACES") or "").split(",") if n.strip()}
    unknown = names - set(NAMESPACES)
    if unknown:
        raise SettingsError(
            f"REST_ALLOWED_NAMESPACES: unknown namespaces {sorted(unknown)}; known: {sorted(NAMESPACES)}"
        )
    return frozenset(names)
