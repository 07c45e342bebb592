"""The server supervisor against real child processes: crashes, backoff, stop, health, ports, orphans."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from grok_mcp.clients.launch import local_http_url, server_launch
from grok_mcp.config import Settings
from grok_mcp_desktop.supervisor import LOG_FILENAME, ServerState, ServerSupervisor, SupervisorTimings, exit_message
from pytestqt.qtbot import QtBot

from tests.desktop.conftest import FAKE_SERVER, FAST, TEST_TOKEN, run_offscreen
from tests.support.processes import SERVER_COMMAND, free_port, http_server, is_alive

MakeSupervisor = Callable[..., ServerSupervisor]
StartDeafChild = Callable[..., ServerSupervisor]
Script = Callable[[str, str], list[str]]


def record_states(supervisor: ServerSupervisor) -> list[ServerState]:
    states: list[ServerState] = []
    supervisor.state_changed.connect(states.append)
    return states


def wait_for_state(qtbot: QtBot, supervisor: ServerSupervisor, state: ServerState, timeout: int = 10_000) -> None:
    qtbot.waitUntil(lambda: supervisor.state is state, timeout=timeout)


def running_fake_server(qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script) -> ServerSupervisor:
    """A supervisor over FAKE_SERVER, started and RUNNING."""
    supervisor = make_supervisor(script("fake", FAKE_SERVER))
    supervisor.start()
    wait_for_state(qtbot, supervisor, ServerState.RUNNING)
    return supervisor


def test_the_child_runs_the_same_grok_mcp_a_client_entry_names(make_supervisor: MakeSupervisor) -> None:
    launch = server_launch()
    supervisor = make_supervisor()
    assert [*supervisor.command, "serve"] == [launch.command, *launch.args]
    assert supervisor.endpoint_url == local_http_url(supervisor.port)


def test_backoff_doubles_from_the_base_and_stops_at_the_cap() -> None:
    timings = SupervisorTimings(backoff_base_ms=1_000, backoff_cap_ms=30_000)
    assert [timings.backoff_ms(n) for n in range(1, 8)] == [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]


def test_a_child_that_crashes_at_once_is_restarted_with_backoff_then_given_up(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    command = script("crash", "import sys\nprint('boom: the server fell over', file=sys.stderr)\nsys.exit(1)\n")
    supervisor = make_supervisor(command)
    states = record_states(supervisor)

    supervisor.start()
    wait_for_state(qtbot, supervisor, ServerState.ERROR)

    starts = [line for line in supervisor.log_tail() if "starting the server" in line]
    assert len(starts) == FAST.max_quick_failures
    assert states == [ServerState.STARTING, ServerState.BACKING_OFF] * (FAST.max_quick_failures - 1) + [
        ServerState.STARTING,
        ServerState.ERROR,
    ]
    assert supervisor.last_error is not None
    assert "exit 1" in supervisor.last_error
    assert "stopped restarting it" in supervisor.last_error
    assert "boom: the server fell over" in supervisor.log_tail()
    log_text = supervisor.log_path.read_text(encoding="utf-8")
    assert "boom: the server fell over" in log_text
    assert supervisor.log_path.parent == supervisor.settings.logs_dir


def test_each_launch_rotates_the_log_and_keeps_five(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    command = script("crash", "import sys\nsys.exit(1)\n")
    supervisor = make_supervisor(command, timings=dataclasses.replace(FAST, max_quick_failures=8))
    supervisor.start()
    wait_for_state(qtbot, supervisor, ServerState.ERROR)
    logs = sorted(path.name for path in supervisor.log_path.parent.glob(f"{LOG_FILENAME}*"))
    assert logs == [LOG_FILENAME] + [f"{LOG_FILENAME}.{n}" for n in range(1, 6)]


def test_a_user_stop_is_not_followed_by_a_restart(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    supervisor = running_fake_server(qtbot, make_supervisor, script)

    with qtbot.waitSignal(supervisor.state_changed, timeout=5_000) as stopped:
        supervisor.stop()
    assert stopped.args == [ServerState.STOPPED]
    assert supervisor.user_stopped
    assert supervisor.last_error is None
    with qtbot.assertNotEmitted(supervisor.state_changed, wait=4 * FAST.backoff_cap_ms):
        pass
    assert supervisor.state is ServerState.STOPPED


def test_a_child_that_ignores_sigterm_is_killed_when_the_timer_fires(
    qtbot: QtBot, start_deaf_child: StartDeafChild
) -> None:
    supervisor = start_deaf_child("threading.Event().wait()", kill_timeout_ms=300)

    supervisor.stop()
    assert supervisor.is_stopping
    wait_for_state(qtbot, supervisor, ServerState.STOPPED)
    tail = "\n".join(supervisor.log_tail())
    assert "did not stop within 0.3 s; killing it" in tail
    assert "killed by a signal" in tail


def test_a_child_that_never_becomes_healthy_times_out_and_counts_as_a_failure(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    silent = script("silent", "import threading\nprint('up, but no /healthz', flush=True)\nthreading.Event().wait()\n")
    timings = dataclasses.replace(FAST, startup_timeout_ms=400, max_quick_failures=2)
    supervisor = make_supervisor(silent, timings=timings)
    states = record_states(supervisor)
    supervisor.start()
    wait_for_state(qtbot, supervisor, ServerState.ERROR)
    assert states == [
        ServerState.STARTING,
        ServerState.BACKING_OFF,
        ServerState.STARTING,
        ServerState.ERROR,
    ]
    assert supervisor.last_error is not None
    assert "did not answer its health check within 0.4 s" in supervisor.last_error


def test_a_healthy_minute_resets_the_crash_count(qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script) -> None:
    # The child is healthy for a while, then dies; when that while outlasts healthy_reset_ms, it is not a
    # "quick" failure, so the supervisor keeps restarting it instead of giving up.
    command = [*script("fake", FAKE_SERVER), "--live-ms", "400"]
    timings = dataclasses.replace(FAST, healthy_reset_ms=100, max_quick_failures=2)
    supervisor = make_supervisor(command, timings=timings)
    states = record_states(supervisor)
    supervisor.start()
    qtbot.waitUntil(lambda: states.count(ServerState.RUNNING) >= 3, timeout=20_000)
    assert ServerState.ERROR not in states
    assert states.count(ServerState.BACKING_OFF) >= 2


def test_without_a_healthy_minute_crashes_after_running_still_give_up(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    command = [*script("fake", FAKE_SERVER), "--live-ms", "300"]
    timings = dataclasses.replace(FAST, max_quick_failures=2)
    supervisor = make_supervisor(command, timings=timings)
    states = record_states(supervisor)
    supervisor.start()
    wait_for_state(qtbot, supervisor, ServerState.ERROR, timeout=20_000)
    assert states.count(ServerState.RUNNING) == 2


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (3, "No xAI API key is configured"),
        (4, "newer version of Grok MCP"),
        (6, "keychain cannot be used"),
    ],
)
def test_exit_codes_the_user_must_fix_are_errors_without_restarts(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script, code: int, words: str
) -> None:
    supervisor = make_supervisor(script("refuse", f"import sys\nsys.exit({code})\n"))
    states = record_states(supervisor)
    supervisor.start()
    wait_for_state(qtbot, supervisor, ServerState.ERROR)
    assert states == [ServerState.STARTING, ServerState.ERROR]
    assert supervisor.last_exit_code == code
    assert supervisor.last_error is not None
    assert words in supervisor.last_error
    assert supervisor.needs_key is (code == 3)


def test_exit_messages_name_what_to_do(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    assert "Add a key, or try demo mode" in exit_message(3, port=1, log_path=log)
    assert "Choose another port" in exit_message(5, port=8765, log_path=log)
    assert "8765" in exit_message(5, port=8765, log_path=log)
    assert str(log) in exit_message(1, port=1, log_path=log)


def test_a_program_that_does_not_exist_is_a_clear_error(qtbot: QtBot, make_supervisor: MakeSupervisor) -> None:
    supervisor = make_supervisor(["/nonexistent/grok-mcp"])
    supervisor.start()
    wait_for_state(qtbot, supervisor, ServerState.ERROR)
    assert supervisor.last_error is not None
    assert "/nonexistent/grok-mcp is missing" in supervisor.last_error


def test_the_real_server_in_demo_mode_becomes_running_and_stops_cleanly(
    qtbot: QtBot, make_supervisor: MakeSupervisor
) -> None:
    supervisor = make_supervisor(list(SERVER_COMMAND), simulate=True)
    supervisor.start()
    wait_for_state(qtbot, supervisor, ServerState.RUNNING, timeout=30_000)
    assert supervisor.is_simulated
    assert not supervisor.is_adopted
    assert supervisor.endpoint_url == f"http://127.0.0.1:{supervisor.port}/mcp"
    pid = supervisor.server_pid
    assert pid is not None
    assert any("demo mode" in line for line in supervisor.log_tail())
    assert TEST_TOKEN not in "\n".join(supervisor.log_tail())

    supervisor.stop()
    wait_for_state(qtbot, supervisor, ServerState.STOPPED, timeout=15_000)
    assert supervisor.last_exit_code == 0
    assert not is_alive(pid)


def test_a_running_grok_mcp_on_the_port_is_adopted_and_stopped_on_request(
    qtbot: QtBot, make_supervisor: MakeSupervisor, desktop_settings: Settings, isolated_home: Path
) -> None:
    # Someone ran `grok-mcp serve --transport http` by hand on our port before the tray started.
    with http_server(isolated_home, base_url=None, key=None, extra_args=("--simulate",)) as running:
        settings = dataclasses.replace(desktop_settings, port=running.port)
        supervisor = make_supervisor(list(SERVER_COMMAND), simulate=True, settings=settings)
        supervisor.start()
        wait_for_state(qtbot, supervisor, ServerState.RUNNING)
        assert supervisor.is_adopted
        assert supervisor.server_pid == running.process.pid

        supervisor.stop()
        assert supervisor.state is ServerState.STOPPED
        assert running.process.wait(timeout=40) == 0  # asked by SIGTERM, it drained and exited


@contextmanager
def foreign_http_server() -> Iterator[int]:
    """Something that is not Grok MCP answering HTTP on a loopback port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "ok", "app": "something-else"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_port_held_by_another_program_is_a_clear_error(
    qtbot: QtBot, make_supervisor: MakeSupervisor, desktop_settings: Settings
) -> None:
    with foreign_http_server() as port:
        settings = dataclasses.replace(desktop_settings, port=port)
        supervisor = make_supervisor(list(SERVER_COMMAND), simulate=True, settings=settings)
        states = record_states(supervisor)
        supervisor.start()
        wait_for_state(qtbot, supervisor, ServerState.ERROR)
    assert states == [ServerState.STARTING, ServerState.ERROR]
    assert supervisor.last_error is not None
    assert f"Port {port} is in use by another program" in supervisor.last_error
    assert not any("starting the server" in line for line in supervisor.log_tail())  # nothing was launched


def test_restart_replaces_the_child_with_a_new_one(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    supervisor = running_fake_server(qtbot, make_supervisor, script)
    first = supervisor.server_pid
    supervisor.restart()
    qtbot.waitUntil(lambda: supervisor.state is ServerState.RUNNING and supervisor.server_pid != first, timeout=10_000)
    assert first is not None
    assert not is_alive(first)


def test_a_child_that_stops_answering_is_degraded_then_restarted(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    supervisor = make_supervisor(script("fake", FAKE_SERVER))
    states = record_states(supervisor)
    supervisor.start()
    wait_for_state(qtbot, supervisor, ServerState.RUNNING)
    first = supervisor.server_pid
    assert first is not None
    os.kill(first, signal.SIGSTOP)  # alive, but answers nothing
    try:
        wait_for_state(qtbot, supervisor, ServerState.DEGRADED)
        qtbot.waitUntil(
            lambda: supervisor.state is ServerState.RUNNING and supervisor.server_pid != first, timeout=15_000
        )
    finally:
        if is_alive(first):
            os.kill(first, signal.SIGCONT)
    assert ServerState.BACKING_OFF in states


# --- its own lifetime ------------------------------------------------------------------------------------

# Run in a child interpreter: when this regresses, the segfault ends that child, not the test run.
LET_GO_WITH_A_CHECK_IN_FLIGHT = textwrap.dedent(
    """
    import dataclasses, sys
    from grok_mcp.config import load_settings
    from grok_mcp_desktop.supervisor import ServerState, ServerSupervisor
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    app = QCoreApplication([])
    loop = QEventLoop()
    settings = dataclasses.replace(load_settings(), port=int(sys.argv[1]))
    supervisor = ServerSupervisor(settings, command=[sys.executable, "-c", "pass"])
    freed_in_loop = []
    supervisor.destroyed.connect(lambda: freed_in_loop.append(loop.isRunning()))
    supervisor.destroyed.connect(loop.quit)
    supervisor.start()
    assert supervisor.state is ServerState.STARTING  # its check of the port is out
    del supervisor
    if not freed_in_loop:  # kept alive by its own reply: freed (and crashed) once that reply is deleted later
        QTimer.singleShot(10_000, loop.quit)
        loop.exec()
    print({(False,): "at once", (True,): "later"}.get(tuple(freed_in_loop), "never"), flush=True)
    """
)


def test_a_supervisor_let_go_of_with_a_health_check_out_is_freed_at_once() -> None:
    """A supervisor nobody holds is freed at once, even while a health check is out, so Qt's event loop cannot
    later free it from inside that check's own deferred delete: that deletes the reply twice (a segfault in
    some later waitSignal, about one run of tests/desktop in five)."""
    result = run_offscreen(["-X", "faulthandler", "-c", LET_GO_WITH_A_CHECK_IN_FLIGHT, str(free_port())], timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["at once"]


# --- orphans ---------------------------------------------------------------------------------------------
