"""The web app (port WEB_PORT): the landing page with the coach open, the
one-tag widget loader, and the widget's assets. No conversation passes through
here: the widget talks to the Rasa server's socket.io channel directly.

    /                  landing page; ?cohort=CODE is passed into the conversation
    /widget.js         the loader a site owner embeds with one <script> tag
    /static/...        the widget's own script and styles
    /vendor/...        npm packages (widget/node_modules), served from here, never a CDN
    /health            {"status": "ok"}
    /review/...        the coordinators' review dashboard (bot/web/review/), behind a sign-in
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.request import Request

from bot.request_limits import WEB_APP_LIMITS, WEB_MAX_BYTES
from bot.request_limits import install as limit_requests
from bot.web.origins import allowed_origins
from bot.web.review import ReviewSettings, review_blueprint

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NODE_MODULES = ROOT / "widget" / "node_modules"
# URL -> file of an npm package (versions pinned in widget/package-lock.json).
VENDOR_FILES: Dict[str, Path] = {
    "/vendor/rasa-webchat.js": NODE_MODULES / "rasa-webchat" / "lib" / "index.js",
    "/vendor/html-to-image.js": NODE_MODULES / "html-to-image" / "dist" / "html-to-image.js",
    # The review dashboard's: htmx 2.0 for its forms, Chart.js 4 for the cohort charts.
    "/vendor/htmx.js": NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js",
    "/vendor/chart.js": NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js",
}
# rasa-webchat's bundled CSS imports a web font from Google Fonts: the widget
# would call a third party from every founder's browser. It uses the system font.
REMOTE_CSS_IMPORT = re.compile(r"@import url\(https?://[^)]*\);")
# A source map comment would make a browser's developer tools fetch a file we do not serve.
SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)
# Upstream bugs fixed as the file is served: URL -> [(exact text, replacement)].
# rasa-webchat 1.0.1 counts its socket as "initialised" only once connected, so a chat
# opened while the widget is still connecting made a second socket: two sessions, the
# greeting in one and the founder's answers in the other. One socket is enough
# (socket.io-client reconnects it by itself).
VENDOR_FIXES: Dict[str, List[Tuple[str, str]]] = {
    "/vendor/rasa-webchat.js": [
        (
            'key:"isInitialized",value:function(){return null!==this.socket&&this.socket.connected}',
            'key:"isInitialized",value:function(){return null!==this.socket}',
        )
    ],
}
# A cohort code as the canvas store keeps it (64 characters); anything else is dropped.
COHORT = re.compile(r"^[\w .:/-]{1,64}$")


@dataclass
class WebSettings:
    rasa_port: int = 5005
    # The widget's socket URL when the Rasa server is not on the web app's host
    # at RASA_PORT (e.g. behind a proxy); empty: derived in the browser.
    socket_url: str = ""
    origins: List[str] = field(default_factory=list)

    @classmethod
    def from_env(cls) -> "WebSettings":
        return cls(
            rasa_port=int(os.environ.get("RASA_PORT") or 5005),
            socket_url=os.environ.get("RASA_SOCKET_URL", "").strip(),
            origins=allowed_origins(),
        )


def vendored_file(url: str, path: Path) -> str:
    """The npm file as served: without the remote font import and the source map
    comment, with VENDOR_FIXES applied. A fix whose text is not found exactly once
    stops the app: the package changed, and the fix must be looked at again."""
    text = SOURCE_MAP.sub("", REMOTE_CSS_IMPORT.sub("", path.read_text(encoding="utf-8")))
    for old, new in VENDOR_FIXES.get(url, []):
        if text.count(old) != 1:
            raise RuntimeError(f"{path} has changed: the fix of {old[:40]!r}... no longer applies (bot/web/app.py)")
        text = text.replace(old, new)
    return text


def clean_cohort(value: Optional[str]) -> str:
    value = (value or "").strip()
    return value if COHORT.match(value) else ""


def create_app(settings: Optional[WebSettings] = None, review: Optional[ReviewSettings] = None) -> Sanic:
    settings = settings or WebSettings.from_env()
    missing = [str(path) for path in VENDOR_FILES.values() if not path.is_file()]
    if missing:
        raise RuntimeError(f"the widget's npm packages are missing ({', '.join(missing)}): run `make widget`")

    app = Sanic("rapport_web")
    # 413 before a body is read: small for the sign-in form, 64 KB for the rest (bot/request_limits.py).
    limit_requests(app, WEB_APP_LIMITS, WEB_MAX_BYTES)
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    @app.get("/")
    async def landing(request: Request):
        cohort = clean_cohort(request.args.get("cohort"))
        html = templates.get_template("index.html").render(cohort=cohort, origin=_own_origin(request))
        return response.html(html, headers=landing_headers(request, settings))

    @app.get("/widget.js")
    async def widget_loader(request: Request):
        script = templates.get_template("widget.js").render(
            config={"rasaPort": settings.rasa_port, "socketUrl": settings.socket_url}
        )
        # Short cache: site owners' pages pick up a new widget soon after a deploy.
        return response.text(
            script,
            content_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @app.get("/health")
    async def health(request: Request):
        return response.json({"status": "ok"})

    app.static("/static", str(HERE / "static"), name="widget_static")
    # Read once at start-up (after a new `npm ci`, restart): served from memory,
    # without the remote font import.
    vendored = {url: vendored_file(url, path) for url, path in VENDOR_FILES.items()}

    @app.get("/vendor/<name>")
    async def vendor(request: Request, name: str):
        body = vendored.get(f"/vendor/{name}")
        if body is None:
            return response.text("not found", status=404)
        return response.text(
            body,
            content_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    app.blueprint(review_blueprint(review))

    @app.on_response
    async def restrict_cors(request: Request, resp):
        # Only allowed pages may read the app's responses from script; <script src>
        # needs no CORS, so embedding works from anywhere, as intended.
        origin = request.headers.get("origin")
        if origin and (origin in settings.origins or "*" in settings.origins):
            resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Vary"] = "Origin"

    return app


def landing_headers(request: Request, settings: WebSettings) -> Dict[str, str]:
    """The landing page runs only this app's scripts and talks only to the coach's socket:
    anything injected into it (a founder's text the widget draws) could do neither.
    Styles may be inline: rasa-webchat draws with style attributes."""
    if settings.socket_url:
        socket = urlsplit(settings.socket_url)
        scheme, netloc = socket.scheme, socket.netloc
    else:  # as widget.js derives it: this page's host, at the Rasa server's port
        host = urlsplit(f"//{request.host}").hostname or "localhost"
        scheme, netloc = (
            request.scheme,
            f"[{host}]:{settings.rasa_port}" if ":" in host else f"{host}:{settings.rasa_port}",
        )
    websocket = "wss" if scheme in ("https", "wss") else "ws"
    http = "https" if websocket == "wss" else "http"
    return {
        "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "font-src 'self' data:; "
        f"img-src 'self' data: blob:; connect-src 'self' {http}://{netloc} {websocket}://{netloc}; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def _own_origin(request: Request) -> str:
    """This app as the browser reached it, for the embed snippet on the page."""
    return f"{request.scheme}://{request.host}"
