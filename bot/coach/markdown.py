"""What a founder typed, as literal text inside the coach's Markdown.

The coach writes Markdown (bold, lists, links), and every channel draws it: the
widget with a Markdown renderer, Slack as mrkdwn (bot/plugins/channels/slack/render.py),
the exports as .md files. Founder text put into it must stay text: a venture called
`[Claim](https://example.com)` must not become a link in a mentor's Slack, nor
`<b>x</b>` markup in a Markdown viewer. literal() escapes the characters that start
inline Markdown or HTML with a backslash (CommonMark's escapes); each renderer reads
them back as the characters themselves (unescape()).
"""

from __future__ import annotations

import re
from typing import Any

_SPECIAL = r"\\`*_\[\]<>~|!"
_TO_ESCAPE = re.compile(f"([{_SPECIAL}])")
_ESCAPED = re.compile(f"\\\\([{_SPECIAL}])")


def literal(text: Any) -> str:
    """Founder text, escaped for Markdown: it shows as typed, and marks up nothing."""
    return _TO_ESCAPE.sub(r"\\\1", str(text))


def unescape(text: str) -> str:
    """literal()'s escapes undone: the characters themselves, for a renderer without Markdown."""
    return _ESCAPED.sub(r"\1", text)
