"""Which web pages may talk to the coach: the web app's own, plus WEB_ORIGINS.

The Rasa server (its socket.io channel, and `--cors` as deploy/launchers.py starts
it) and the web app read the same list from here, so they can never disagree.
"""

from __future__ import annotations

import os
from typing import List, Mapping, Optional


def web_port(environ: Optional[Mapping[str, str]] = None) -> int:
    environ = os.environ if environ is None else environ
    return int(environ.get("WEB_PORT") or 8000)


def allowed_origins(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The project's own page (localhost and 127.0.0.1 on WEB_PORT), then each
    origin in the comma-separated WEB_ORIGINS, e.g. "https://acme.example"."""
    environ = os.environ if environ is None else environ
    port = web_port(environ)
    origins = [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    for origin in (environ.get("WEB_ORIGINS") or "").split(","):
        # Browsers send an Origin without a path or trailing slash.
        origin = origin.strip().rstrip("/")
        if origin and origin not in origins:
            origins.append(origin)
    return origins
