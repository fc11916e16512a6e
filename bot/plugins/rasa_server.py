"""`python -m bot.plugins.rasa_server run|shell ...`: Rasa's own command line, with the project's patches.

At start-up the patches of Rasa's private members (bot/plugins/patches/) are checked
and installed; if they do not fit this Rasa, the server refuses to start and says why.

The libraries' known deprecation warnings are silenced (bot/known_warnings.py) at
the start, and again once Rasa's command line has set its own warning filters
(a hook of Rasa's plug-in manager): Rasa shows every UserWarning once, and
pyparsing's deprecations are UserWarnings too.

`--enable-api` is refused without `--auth-token` or `--jwt-secret`: the HTTP API
can read and rewrite every conversation.
"""

from __future__ import annotations

import sys
from typing import Any, Optional, Sequence

import pluggy

from bot.known_warnings import quiet_known_warnings


def refuse_open_api(argv: Sequence[str]) -> Optional[str]:
    """Why these arguments must not start a server, or None. Read with Rasa's own
    parser, which also takes abbreviations such as --enable."""
    from rasa.__main__ import create_argument_parser

    try:
        args, _ = create_argument_parser().parse_known_args(list(argv))
    except SystemExit:
        return None  # Rasa itself will say what is wrong with them
    if getattr(args, "enable_api", False) and not (
        getattr(args, "auth_token", None) or getattr(args, "jwt_secret", None)
    ):
        return (
            "--enable-api opens Rasa's HTTP API, which reads and rewrites every conversation: "
            "start it with --auth-token (or --jwt-secret) as well."
        )
    return None


class QuietAgainAfterRasa:
    """A hook of Rasa's plug-in manager that runs after Rasa set its warning filters."""

    @pluggy.HookimplMarker("rasa")
    def configure_commandline(self, cmdline_arguments: Any) -> None:
        quiet_known_warnings()


def main() -> None:
    quiet_known_warnings()
    refusal = refuse_open_api(sys.argv[1:])
    if refusal:
        print(f"rasa server: {refusal}", file=sys.stderr)
        raise SystemExit(2)
    from bot.plugins.patches.registry import PatchError, install

    try:
        install()
    except PatchError as error:
        print(error, file=sys.stderr)
        raise SystemExit(3) from None
    from rasa.__main__ import main as rasa_main
    from rasa.plugin import plugin_manager

    plugin_manager().register(QuietAgainAfterRasa())
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
