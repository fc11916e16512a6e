"""A server's start-up log shows what a user needs, not the libraries' deprecation
warnings (bot/known_warnings.py); a warning raised in the project's own code is
still shown."""

from __future__ import annotations

import subprocess
import sys

from deploy.launchers import ROOT

CHECK = """
import warnings
from bot.known_warnings import quiet_known_warnings
quiet_known_warnings()
with warnings.catch_warnings(record=True) as caught:
    warnings.warn_explicit("old", DeprecationWarning, "x.py", 1, module="packaging.requirements")
    warnings.warn_explicit("old", DeprecationWarning, "x.py", 1, module="sqlalchemy.orm")
    warnings.warn_explicit("ours", DeprecationWarning, "x.py", 1, module="bot.coach.engine")
    warnings.warn_explicit("not sanic", DeprecationWarning, "x.py", 1, module="sanicky_things")
    warnings.warn_explicit("config", UserWarning, "x.py", 1, module="rasa.shared.utils.io")
print(sorted((w.category.__name__, str(w.message)) for w in caught))
"""


def test_known_library_warnings_are_silenced_and_our_own_are_not():
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    shown = result.stdout.strip()
    assert shown == str(
        [("DeprecationWarning", "not sanic"), ("DeprecationWarning", "ours"), ("UserWarning", "config")]
    ), "by module and by category: only the libraries' deprecations go"


def test_the_running_servers_logs_hold_no_deprecation_warning(coach):
    assert coach.say("founder-quiet-log", "hi"), "the servers answer"
    # The custom actions run in the Rasa server unless the coach has an action server (ACTIONS_URL).
    for name in ("rasa", "actions") if coach.remote_actions else ("rasa",):
        log = coach.log(name)
        assert "Starting Rasa server" in log or "Action server on" in log
        assert "DeprecationWarning" not in log, f"{name}.log:\n{log[:2000]}"
