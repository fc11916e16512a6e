"""Known warnings of third-party libraries, silenced when a server starts.

Rasa's dependencies warn about their own dependencies at every start (Click,
pyparsing, distutils, pkg_resources, SQLAlchemy 2.0, jax): a screen of
DeprecationWarnings that a user can do nothing about, in front of what they need to
see (the ports, the allowed origins, "Slack is on", the model loaded, and errors).
Each filter names the library where the warning is raised and its category, so a
warning raised in the project's own code (bot, actions, deploy) is always shown, and
so is any other kind of warning from these libraries.
"""

from __future__ import annotations

import warnings
from typing import Tuple, Type

# (category, the library's top-level module): a warning of that category (or a
# subclass: SQLAlchemy's and pyparsing's are DeprecationWarnings) raised inside it.
KNOWN: Tuple[Tuple[Type[Warning], str], ...] = (
    (DeprecationWarning, "apscheduler"),  # pkg_resources
    (DeprecationWarning, "click"),
    (DeprecationWarning, "jax"),
    (DeprecationWarning, "matplotlib"),  # pyparsing's renamed methods
    (DeprecationWarning, "packaging"),  # pyparsing's renamed methods
    (DeprecationWarning, "pkg_resources"),  # declare_namespace
    (DeprecationWarning, "pyparsing"),
    (DeprecationWarning, "rasa"),  # SQLAlchemy 2.0 and URL() in Rasa's tracker store
    (DeprecationWarning, "rasa_sdk"),
    (DeprecationWarning, "sanic"),
    (DeprecationWarning, "sanic_cors"),  # distutils' LooseVersion
    (DeprecationWarning, "spacy"),  # Click 9
    (DeprecationWarning, "sqlalchemy"),
    (DeprecationWarning, "tensorflow"),  # jax.xla_computation
    (DeprecationWarning, "typer"),  # Click 9
)


def quiet_known_warnings() -> None:
    """Ignores the KNOWN warnings from here on. Call it first thing in a server's
    start, before the libraries are imported (their warnings come at import)."""
    try:
        # Sanic's import puts a "once" filter for every DeprecationWarning in front of
        # all others; imported now, it stays behind ours.
        import sanic  # noqa: F401
    except ImportError:  # pragma: no cover - every server here runs on Sanic
        pass
    for category, module in KNOWN:
        warnings.filterwarnings("ignore", category=category, module=rf"{module}(\.|$)")
