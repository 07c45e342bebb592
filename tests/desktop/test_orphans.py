"""No orphaned server child: the stdin lifeline the tray holds, graceful stops through it, the stop signals."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from grok_mcp.config import Settings
from grok_mcp_desktop.stop_signals import StopSignals, stop_signal_numbers
from grok_mcp_desktop.supervisor import EXIT_WITH_PARENT_FLAG, ServerState, ServerSupervisor
from pytestqt.qtbot import QtBot

from tests.desktop.conftest import FAST
from tests.support.processes import ROOT, SERVER_COMMAND, is_alive, wait_for_exit

MakeSupervisor = Callable[..., ServerSupervisor]
StartDeafChild = Callable[..., ServerSupervisor]

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and pidfds")

# A tray stand-in: a QCoreApplication and a supervisor (argv: port, whether to use the Linux PR_SET_PDEATHSIG
# launcher; without it only the stdin lifeline can end the server when this process dies). Prints the
# server's pid once it runs.
TRAY_LIKE_PARENT = textwrap.dedent(
    """
    import dataclasses, sys
    from PySide6.QtCore import QCoreApplication
    from grok_mcp_desktop.supervisor import ServerState, ServerSupervisor
    from grok_mcp.config import load_settings

    app = QCoreApplication([])
    settings = dataclasses.replace(load_settings(), port=int(sys.argv[1]))
    supervisor = ServerSupervisor(settings, simulate=True, parent_death_signal=sys.argv[2] == "launcher")

    def changed(state):
        if state is ServerState.RUNNING:
            print(supervisor.server_pid, flush=True)
        elif state is ServerState.ERROR:
            print("error:", supervisor.last_error, flush=True)

    supervisor.state_changed.connect(changed)
    supervisor.start()
    app.exec()
    """
)


def _stdin_of(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/fd/0")


@linux_only
def test_the_real_server_child_runs_with_a_stdin_pipe_the_tray_keeps_open(
    qtbot: QtBot, make_supervisor: MakeSupervisor
) -> None:
    supervisor = make_supervisor(list(SERVER_COMMAND), simulate=True)
    supervisor.start()
    qtbot.waitUntil(lambda: supervisor.state is ServerState.RUNNING, timeout=30_000)
    pid = supervisor.server_pid
    assert pid is not None
    assert _stdin_of(pid).startswith("pipe:")
    assert EXIT_WITH_PARENT_FLAG in Path(f"/proc/{pid}/cmdline").read_text(encoding="utf-8").split("\0")
    # Health checks keep passing: the open pipe is no stop request.
    with qtbot.assertNotEmitted(supervisor.state_changed, wait=3 * FAST.health_interval_ms):
        pass
    assert supervisor.state is ServerState.RUNNING

    supervisor.stop()
    qtbot.waitUntil(lambda: supervisor.state is ServerState.STOPPED, timeout=15_000)
    assert supervisor.last_exit_code == 0
    assert not is_alive(pid)


def test_a_stop_closes_the_childs_stdin_so_a_child_deaf_to_sigterm_exits_without_being_killed(
    qtbot: QtBot, start_deaf_child: StartDeafChild
) -> None:
    # What a graceful stop looks like on Windows, where terminate() never reaches a console child: only the
    # closed pipe does.
    supervisor = start_deaf_child(
        """
        sys.stdin.buffer.read()
        print("stdin closed: leaving", flush=True)
        sys.exit(0)
        """,
        kill_timeout_ms=20_000,
    )
    assert supervisor.state is ServerState.STARTING  # the pipe stayed open: the child is still waiting on it

    supervisor.stop()
    qtbot.waitUntil(lambda: supervisor.state is ServerState.STOPPED, timeout=15_000)
    tail = "\n".join(supervisor.log_tail())
    assert "stdin closed: leaving" in tail
    assert "exited with code 0" in tail
    assert "killing it" not in tail
    assert supervisor.last_exit_code == 0


def test_shutdown_closes_the_childs_stdin_too(start_deaf_child: StartDeafChild) -> None:
    supervisor = start_deaf_child("sys.stdin.buffer.read()\nsys.exit(0)\n")

    supervisor.shutdown(timeout_ms=20_000)
    assert supervisor.state is ServerState.STOPPED
    assert supervisor.last_exit_code == 0  # left by itself: a kill would leave no exit code


@linux_only
@pytest.mark.parametrize("death_signal", ["lifeline-only", "launcher"])
def test_a_sigkilled_tray_leaves_no_orphan(
    child_env: dict[str, str], desktop_settings: Settings, death_signal: str
) -> None:
    # lifeline-only proves the stdin pipe alone (as on macOS and Windows); launcher adds PR_SET_PDEATHSIG.
    env = {**child_env, "QT_QPA_PLATFORM": "offscreen"}
    parent = subprocess.Popen(
        [sys.executable, "-c", TRAY_LIKE_PARENT, str(desktop_settings.port), death_signal],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert parent.stdout is not None
        ready, _, _ = select.select([parent.stdout], [], [], 30)
        assert ready, "the tray-like parent never reported a running server"
        line = parent.stdout.readline().strip()
        assert line.isdigit(), line
        server_pid = int(line)
        assert is_alive(server_pid)
        assert _stdin_of(server_pid).startswith("pipe:")

        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)

        assert wait_for_exit(server_pid, timeout_s=35), f"server {server_pid} outlived its parent"
        if death_signal == "lifeline-only":
            server_log = desktop_settings.logs_dir / "grok-mcp.log"
            assert "Stdin closed (the parent process is gone): finishing 0 running call(s)" in server_log.read_text(
                encoding="utf-8"
            )
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_stop_signals_reach_the_event_loop_as_one_received_signal(qtbot: QtBot, name: str) -> None:
    if not hasattr(signal, name):
        pytest.skip(f"{name} does not exist here")
    signum = getattr(signal, name)
    before = signal.getsignal(signum)
    stop_signals = StopSignals()
    stop_signals.install()
    try:
        with qtbot.waitSignal(stop_signals.received, timeout=5_000) as received:
            signal.raise_signal(signum)
        assert received.args == [int(signum)]
    finally:
        stop_signals.uninstall()
    assert signal.getsignal(signum) == before
    assert signum in stop_signal_numbers()
