"""The `grok-mcp` command line as a user runs it: real processes, the real keychain, the simulator."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from grok_mcp.cli.console import run_console
from grok_mcp.config import Settings
from grok_mcp.store import RequestRecord, Store

from tests.support.processes import free_port, run_cli, server_env
from tests.support.simulator import TEST_KEY, RunningSimulator

OTHER_KEY = "xai-test-simulator-key-0002"


@pytest.fixture
def env(isolated_home: Path, simulator: RunningSimulator, clean_keychain: Any) -> dict[str, str]:
    """A child environment on the real keychain session, pointed at the simulator, with no key in it."""
    return server_env(isolated_home, base_url=simulator.base_url)


def assert_no_secret(done: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in secrets:
        assert secret not in done.stdout
        assert secret not in done.stderr


def test_version_is_printed() -> None:
    done = run_cli("--version", env=server_env(Path("/nonexistent")))
    assert done.returncode == 0
    assert done.stdout.startswith("grok-mcp 0.")


def test_keys_set_validates_with_xai_stores_in_the_keychain_and_never_echoes_the_key(env: dict[str, str]) -> None:
    done = run_cli("keys", "set", env=env, stdin=TEST_KEY + "\n")
    assert done.returncode == 0, done.stderr
    assert "Stored xai-…0001" in done.stdout
    assert "ACLs" in done.stdout
    assert_no_secret(done, TEST_KEY)

    shown = run_cli("keys", "show", "--json", env=env)
    assert json.loads(shown.stdout) | {"backend": None} == {
        "source": "keychain",
        "key": "xai-…0001",
        "backend": None,
        "validated": True,
    }
    assert "SecretService" in json.loads(shown.stdout)["backend"]

    tested = run_cli("keys", "test", env=env)
    assert tested.returncode == 0
    assert "xAI accepts this key" in tested.stdout
    assert_no_secret(tested, TEST_KEY)

    removed = run_cli("keys", "remove", env=env)
    assert removed.returncode == 0
    assert json.loads(run_cli("keys", "show", "--json", env=env).stdout)["key"] is None


@pytest.mark.parametrize(
    ("key", "code", "expected"),
    [
        ("xai-this-key-is-invalid-01", 1, "rejected the API key"),
        ("xai-this-key-is-blocked-01", 2, "BLOCKED"),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz", 2, "OpenAI"),
        ("", 2, "No key was given"),
    ],
)
def test_keys_set_refuses_keys_xai_would_not_take_and_stores_nothing(
    env: dict[str, str], key: str, code: int, expected: str
) -> None:
    done = run_cli("keys", "set", env=env, stdin=key + "\n")
    assert done.returncode == code, done.stderr
    assert expected in done.stderr
    if key:
        assert_no_secret(done, key)
    assert json.loads(run_cli("keys", "show", "--json", env=env).stdout)["key"] is None


def test_keys_rotate_keeps_the_old_key_for_a_grace_period(env: dict[str, str]) -> None:
    assert run_cli("keys", "set", env=env, stdin=TEST_KEY + "\n").returncode == 0
    done = run_cli("keys", "rotate", "--grace-minutes", "30", env=env, stdin=OTHER_KEY + "\n")
    assert done.returncode == 0, done.stderr
    assert "kept for 30" in done.stdout
    shown = json.loads(run_cli("keys", "show", "--json", env=env).stdout)
    assert shown["key"] == "xai-…0002"
    assert shown["previous_key"] == "xai-…0001"
    assert run_cli("keys", "remove", "--previous", env=env).returncode == 0
    assert "previous_key" not in json.loads(run_cli("keys", "show", "--json", env=env).stdout)


def test_keys_test_without_a_key_exits_3(env: dict[str, str]) -> None:
    done = run_cli("keys", "test", env=env)
    assert done.returncode == 3
    assert "grok-mcp keys set" in done.stderr


def test_keys_set_without_a_keychain_says_so_before_asking_xai(
    no_keychain_env: dict[str, str], isolated_home: Path
) -> None:
    env = {**no_keychain_env, "GROK_MCP_HOME": str(isolated_home), "GROK_MCP_BASE_URL": _unreachable_base_url()}
    env.pop("XAI_API_KEY", None)
    for extra in ((), ("--no-validate",)):
        done = run_cli("keys", "set", *extra, env=env, stdin=TEST_KEY + "\n")
        assert done.returncode == 6, done.stderr
        assert "No OS keychain is available" in done.stderr
        assert "XAI_API_KEY" in done.stderr
        assert "Could not reach" not in done.stderr  # the keychain is checked first, xAI never asked
        assert_no_secret(done, TEST_KEY)


def _unreachable_base_url() -> str:
    """An xAI base URL on a loopback port nothing listens on: xAI "offline"."""
    return f"http://127.0.0.1:{free_port()}/v1"


def test_keys_set_offline_offers_saving_unchecked_and_a_later_test_checks_the_key(
    env: dict[str, str], simulator: RunningSimulator
) -> None:
    offline = {**env, "GROK_MCP_BASE_URL": _unreachable_base_url()}
    done = run_cli("keys", "set", env=offline, stdin=TEST_KEY + "\n")
    assert done.returncode == 1
    assert "Could not reach" in done.stderr
    assert "--no-validate" in done.stderr
    assert json.loads(run_cli("keys", "show", "--json", env=env).stdout)["key"] is None

    as_json = run_cli("keys", "set", "--json", env=offline, stdin=TEST_KEY + "\n")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) | {"message": None} == {
        "stored": None,
        "validated": False,
        "unreachable": True,
        "message": None,
    }

    saved = run_cli("keys", "set", "--no-validate", env=offline, stdin=TEST_KEY + "\n")
    assert saved.returncode == 0, saved.stderr
    assert "not checked with xAI yet" in saved.stdout
    assert json.loads(run_cli("keys", "show", "--json", env=env).stdout)["validated"] is False
    assert "without checking" in run_cli("keys", "show", env=env).stdout
    assert_no_secret(saved, TEST_KEY)

    # The network is back: the next `keys test` asks xAI and notes the key as checked.
    assert run_cli("keys", "test", env=offline).returncode == 1
    assert json.loads(run_cli("keys", "show", "--json", env=env).stdout)["validated"] is False
    assert run_cli("keys", "test", env=env).returncode == 0
    assert json.loads(run_cli("keys", "show", "--json", env=env).stdout)["validated"] is True


def test_doctor_checks_a_key_stored_unchecked_once_xai_answers(env: dict[str, str]) -> None:
    assert run_cli("keys", "set", "--no-validate", env=env, stdin=TEST_KEY + "\n").returncode == 0
    done = run_cli("doctor", "--json", env=env)
    assert done.returncode == 0, done.stdout
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert "checked now" in checks["xAI API"]["detail"]
    assert json.loads(run_cli("keys", "show", "--json", env=env).stdout)["validated"] is True


def test_keys_show_with_xai_api_key_and_no_keychain_names_the_variable(
    no_keychain_env: dict[str, str], isolated_home: Path
) -> None:
    env = {**no_keychain_env, "GROK_MCP_HOME": str(isolated_home), "XAI_API_KEY": TEST_KEY}
    done = run_cli("keys", "show", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) | {"backend": None} == {
        "source": "env",
        "key": "xai-…0001",
        "backend": None,
        "validated": None,
    }


def test_doctor_reports_every_check_and_a_healthy_setup(env: dict[str, str]) -> None:
    assert run_cli("keys", "set", env=env, stdin=TEST_KEY + "\n").returncode == 0
    done = run_cli("doctor", "--json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    names = {c["name"]: c for c in report["checks"]}
    assert {"runtime", "settings", "data dir", "api key", "database", "http port", "xAI API", "logs"} <= set(names)
    assert report["healthy"] is True
    assert "SecretService" in names["api key"]["detail"]
    assert "accepts key" in names["xAI API"]["detail"]
    assert_no_secret(done, TEST_KEY)
    text = run_cli("doctor", env=env)
    assert "All good." in text.stdout


def test_doctor_fails_on_a_rejected_key_and_a_database_from_the_future(
    env: dict[str, str], isolated_home: Path
) -> None:
    env = {**env, "XAI_API_KEY": "xai-this-key-is-invalid-02"}
    with sqlite3.connect(isolated_home / "grok-mcp.db") as db:
        db.execute("PRAGMA user_version = 999")
    db.close()
    done = run_cli("doctor", "--json", env=env)
    assert done.returncode == 1
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["database"]["status"] == "fail"
    assert "newer" in checks["database"]["detail"]
    assert checks["xAI API"]["status"] == "fail"
    assert_no_secret(done, "xai-this-key-is-invalid-02")


def test_usage_prints_the_ledger_as_a_table_and_as_json(isolated_home: Path) -> None:
    with Store.open(isolated_home / "grok-mcp.db") as store:
        for model, ticks in (("grok-4.3", 25_000_000), ("grok-4.3", 5_000_000), ("grok-4.7", 70_000_000)):
            store.record_request(
                RequestRecord(tool="chat", model=model, endpoint="/v1/chat/completions", status=200, cost_ticks=ticks)
            )
    env = server_env(isolated_home)
    done = run_cli("usage", "--group-by", "model", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["total"]["requests"] == 3
    assert report["total"]["cost_usd"] == pytest.approx(0.01)
    assert {g["key"]: g["requests"] for g in report["groups"]} == {"grok-4.3": 2, "grok-4.7": 1}
    assert "| **total** | 3 |" in run_cli("usage", env=env).stdout


def test_usage_shows_real_calls_and_demo_calls_apart_and_never_sums_them(isolated_home: Path) -> None:
    with Store.open(isolated_home / "grok-mcp.db") as store:
        store.record_request(
            RequestRecord(
                tool="chat", model="grok-3-mini", endpoint="/v1/chat/completions", status=200, cost_ticks=2 * 10**10
            )
        )
    questions = iter(["What is MCP?", "/quit"])
    demo = Settings(home=isolated_home, simulate=True, transport="console")
    assert run_console(demo, read=lambda _prompt: next(questions), write=lambda _text: None) == 0
    env = server_env(isolated_home)

    real = run_cli("usage", "--period", "today", "--group-by", "model", env=env)
    demo_text = run_cli("usage", "--period", "today", "--group-by", "model", "--simulated", env=env)
    real_json = json.loads(run_cli("usage", "--period", "today", "--json", env=env).stdout)
    demo_json = json.loads(run_cli("usage", "--period", "today", "--json", "--simulated", env=env).stdout)

    assert real.returncode == demo_text.returncode == 0, real.stderr + demo_text.stderr
    assert real.stdout.startswith("Showing: real usage")
    assert "| grok-3-mini | 1 |" in real.stdout and "$2.0000" in real.stdout
    assert "1 demo (simulated) call in this period is not counted here." in real.stdout
    assert "`grok-mcp usage --simulated` shows them." in real.stdout
    assert demo_text.stdout.startswith("Showing: demo usage")
    assert "grok-3-mini" not in demo_text.stdout
    assert "1 real call in this period is not counted here." in demo_text.stdout
    assert (real_json["simulated"], real_json["total"]["requests"], real_json["other_requests"]) == (False, 1, 1)
    assert (demo_json["simulated"], demo_json["total"]["requests"], demo_json["other_requests"]) == (True, 1, 1)
    assert real_json["total"]["cost_usd"] == pytest.approx(2.0)
    assert 0 < demo_json["total"]["cost_usd"] < 2.0


def test_chat_console_drives_every_tool(isolated_home: Path, tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "dot.png"
    Image.new("RGB", (8, 8), "blue").save(picture)
    lines = iter(
        [
            "/help",
            "What is MCP?",
            "/model grok-4.3",
            "/tokens hello there",
            "/models",
            f"/image {picture} what colour?",
            "/imagine a red kite",
            "/search mcp spec",
            "/x grok news",
            "/usage",
            "/tools",
            '/call count_tokens {"text": "abc"}',
            "/call count_tokens [1]",
            "/call count_tokens {bad",
            "/frobnicate",
            "/quit",
        ]
    )
    output: list[str] = []

    def read(_prompt: str) -> str:
        return next(lines)

    settings = Settings(home=isolated_home, simulate=True, transport="console")
    assert run_console(settings, read=read, write=output.append) == 0
    text = "".join(output)
    said = (
        "demo mode",
        "Model: grok-4.3",
        "tokens for grok-4.3",
        "| grok-4.3",
        "Generated 1 image",
        "Sources:",
        "**total**",
        "count_tokens",
        "must be a JSON object",
        "not JSON",
        "Unknown command /frobnicate",
        "[grok-4.3 ·",
    )
    assert [phrase for phrase in said if phrase not in text] == []


def test_chat_console_ends_at_end_of_input(isolated_home: Path) -> None:
    def read(_prompt: str) -> str:
        raise EOFError

    output: list[str] = []
    assert run_console(Settings(home=isolated_home, simulate=True), read=read, write=output.append) == 0


def test_keys_set_json_reports_what_xai_said_for_the_tray(env: dict[str, str]) -> None:
    done = run_cli("keys", "set", "--json", env=env, stdin=TEST_KEY + "\n")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["stored"] == "xai-…0001"
    assert result["validated"] is True
    assert result["env_overrides"] is False
    assert result["key_info"]["acls"]
    assert "call" not in result["key_info"]
    assert_no_secret(done, TEST_KEY)


def test_keys_rotate_without_a_key_refuses_before_reading_one(env: dict[str, str]) -> None:
    done = run_cli("keys", "rotate", env=env, stdin=TEST_KEY + "\n")
    assert done.returncode == 3
    assert "keys set" in done.stderr


def test_models_lists_the_live_catalog_with_the_default_marked(env: dict[str, str]) -> None:
    env = {**env, "XAI_API_KEY": TEST_KEY}
    done = run_cli("models", "--json", env=env)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    by_id = {m["id"]: m for m in listing["models"]}
    assert by_id[listing["default_chat_model"]]["is_default"] is True
    assert by_id["grok-4.3"]["input_usd_per_million"] == pytest.approx(1.25)
    assert listing["simulated"] is False
    assert "| grok-4.3 |" in run_cli("models", env=env).stdout


def test_models_in_demo_mode_needs_no_key(isolated_home: Path) -> None:
    done = run_cli("models", "--simulate", "--json", env=server_env(isolated_home))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["simulated"] is True
