"""The project's patches of Rasa 3.6's private members, one module per concern.

Every change the coach makes to a private member of Rasa is one `Patch`, and so is
every private member it relies on without replacing it. registry.py lists them all
and installs them at the Rasa server's start-up (bot/plugins/rasa_server.py), after
checking that Rasa is the version they were written for and that each member is
still the code they were written against (its source's hash); if either changed,
the server refuses to start and says which. Whatever Rasa offers a public extension
point for is done there instead: the tracker store (bot/plugins/tracker_store.py)
and the channels are named by module path in endpoints.yml and credentials.yml.

- answer_check.py: the action server's answers checked with a schema compiled once;
- session_start.py: each slot carried into a new session once;
- in_process_actions.py: the founder's data actions (bot/plugins/founder_data.py)
  run in the Rasa server;
- tracker_store_override.py: the members CoachTrackerStore relies on (checked only);
- no_failsafe.py, message_ids.py, failed_actions.py, long_messages.py: reliability
  with several Rasa servers on one database, and against hostile input;
- founder_text.py: a founder's text in a response template marks up nothing.

This module holds only the shape of a patch, so that the concerns and the registry
import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional


@dataclass(frozen=True)
class Patch:
    owner: Any  # the class or module whose member is replaced
    attribute: str
    source_sha256: str  # of the original member's source, as in registry.RASA_VERSION
    replacement: Optional[Callable[[], Any]]  # makes the new member; None: only relied on, never replaced
    why: str

    @property
    def label(self) -> str:
        return f"{getattr(self.owner, '__qualname__', None) or self.owner.__name__}.{self.attribute}"
