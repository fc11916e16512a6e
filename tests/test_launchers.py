"""Each server's command line is written once (deploy/launchers.py), and `make run`
(the Procfile), `make shell`, the tests and the scaled set-up all start it from there."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from deploy import launchers
from deploy.launchers import ROOT, CoachServers, command_from_environment, rasa_command


def test_the_procfile_and_make_shell_start_the_servers_through_the_launchers():
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    # The custom actions run in the Rasa server: `make run` starts no action server.
    assert procfile == {name: f".venv/bin/python -m deploy.launchers {name}" for name in ("rasa", "web")}
    makefile = (ROOT / "Makefile").read_text()
    assert "$(PY) -m deploy.launchers shell" in makefile
    for module in ("bot.plugins.rasa_server", "bot.plugins.action_server", "bot.web"):
        assert not re.search(rf"-m {re.escape(module)}\b", makefile), f"the Makefile spells out {module}'s command"


def test_the_rasa_server_is_started_with_the_web_pages_allowed_to_open_the_widget():
    command = command_from_environment(
        "rasa", {"RASA_PORT": "5999", "WEB_PORT": "8123", "WEB_ORIGINS": "https://a.example/"}
    )
    assert command == rasa_command(
        5999, "--cors", "http://localhost:8123", "http://127.0.0.1:8123", "https://a.example"
    )
    assert command[1:4] == ["-m", "bot.plugins.rasa_server", "run"]
    assert command_from_environment("actions", {})[-2:] == ["--port", "5055"]
    shell = command_from_environment("shell", {"SHELL_PORT": "5111"})
    assert shell[3] == "shell" and shell[-4:] == ["--interface", "127.0.0.1", "--port", "5111"]


def test_an_unknown_server_is_refused_with_the_names_it_takes():
    result = subprocess.run(
        [sys.executable, "-m", "deploy.launchers", "redis"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "use actions, rasa, web or shell" in result.stderr
    with pytest.raises(SystemExit, match="usage"):
        launchers.main([])


def test_tests_and_the_scaled_set_up_use_the_same_command_lines(tmp_path):
    from deploy.services import ScaledSetup

    servers = CoachServers(tmp_path)
    assert servers.rasa_command() == rasa_command(servers.rasa_port)
    assert servers.actions_command() == launchers.actions_command(servers.actions_port)
    scaled = ScaledSetup(tmp_path / "scaled", web=True)  # nothing started
    scaled.postgres.remove()  # as root, its data directory was made under /tmp
    port = scaled.rasa_ports[0]
    assert scaled.rasa[0].args == rasa_command(
        port, "--interface", "127.0.0.1", endpoints="deploy/endpoints.scaled.yml"
    )
    assert scaled.actions[0].args == launchers.actions_command(scaled.actions_ports[0])
    assert scaled.web.args == launchers.web_command()


@pytest.mark.parametrize("lane", ["0/2", "1/2", "2/3"])
def test_parallel_test_workers_pick_ports_in_lanes_of_their_own(monkeypatch, lane):
    """Two workers of `make test` never pick the same port: each only takes its lane's."""
    monkeypatch.setenv("FREE_PORT_LANE", lane)
    index, count = (int(part) for part in lane.split("/"))
    ports = [launchers.free_port() for _ in range(20)]
    assert len(set(ports)) == len(ports), "one process never hands a port out twice"
    assert {port // 2 % count for port in ports} == {index}
