"""Every patch of Rasa, checked and installed once (bot/plugins/rasa_server.py calls install())."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any, List, Optional, Sequence

from bot.plugins.patches import (
    Patch,
    answer_check,
    failed_actions,
    founder_text,
    in_process_actions,
    long_messages,
    message_ids,
    no_failsafe,
    session_start,
    tracker_store_override,
)

RASA_VERSION = "3.6.21"  # the version every patch was read against


class PatchError(RuntimeError):
    """Rasa is not what the patches were written for; the server must not start."""


def patches() -> Sequence[Patch]:
    return (
        *answer_check.patches(),
        *session_start.patches(),
        *in_process_actions.patches(),
        *tracker_store_override.patches(),
        *no_failsafe.patches(),
        *message_ids.patches(),
        *failed_actions.patches(),
        *long_messages.patches(),
        *founder_text.patches(),
    )


def source_sha256(member: Any) -> str:
    member = getattr(member, "__func__", member)
    return hashlib.sha256(inspect.getsource(member).encode("utf-8")).hexdigest()


def problems(found: Sequence[Patch], rasa_version: str) -> List[str]:
    """What makes the patches unsafe to install; empty when they fit."""
    if rasa_version != RASA_VERSION:
        return [f"the patches were written for Rasa {RASA_VERSION}, this is Rasa {rasa_version}"]
    found_problems = []
    for patch in found:
        original = _original(patch)
        if original is None:
            found_problems.append(f"{patch.label} no longer exists")
        elif source_sha256(original) != patch.source_sha256:
            found_problems.append(f"{patch.label} is not the code the patch was written against")
    return found_problems


def _originals_attribute(patch: Patch) -> str:
    return f"_rasa_{patch.attribute.lstrip('_')}"


def _original(patch: Patch) -> Optional[Any]:
    """Rasa's own member, also after install() replaced it."""
    saved = patch.owner.__dict__.get(_originals_attribute(patch)) if hasattr(patch.owner, "__dict__") else None
    return saved if saved is not None else patch.owner.__dict__.get(patch.attribute)


def install() -> None:
    """Checks, then applies every patch once (a second call changes nothing)."""
    import rasa

    import bot.plugins.tracker_store  # noqa: F401  an import error must stop the server, not fall back to memory

    found = patches()
    trouble = problems(found, rasa.__version__)
    if trouble:
        raise PatchError(
            "The coach's patches of Rasa do not fit this Rasa; the server will not start:\n- "
            + "\n- ".join(trouble)
            + "\nSee bot/plugins/patches/."
        )
    for patch in found:
        saved_as = _originals_attribute(patch)
        if patch.replacement is None or saved_as in patch.owner.__dict__:
            continue  # installed already
        setattr(patch.owner, saved_as, patch.owner.__dict__[patch.attribute])
        setattr(patch.owner, patch.attribute, patch.replacement())
