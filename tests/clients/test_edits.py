"""Installing and removing our entry in real files: hostile fixtures, only `grok` changes, remove restores bytes."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from grok_mcp.clients import ClientManager, HttpEndpoint, Status, get_client
from grok_mcp.clients.errors import (
    ConfigLockTimeoutError,
    ConfigReadOnlyError,
    ConfigShapeError,
    ConfigSyntaxError,
    NothingToUndoError,
    UnknownClientError,
    UnsupportedModeError,
)
from grok_mcp.clients.safe_edit import KEEP_BACKUPS, file_lock

from tests.clients.support import VARIANTS, fixture_bytes, manager_for

JSON_CLIENTS = ["claude-desktop", "claude-code", "cursor", "windsurf", "cline", "lm-studio", "gemini-cli"]
JSON_FIXTURES = [
    "json/other-servers.json",
    "json/no-servers-yet.json",
    "json/empty-object.json",
    "json/empty-servers.json",
    "json/tabs-and-inline.json",
]
CASES: list[tuple[str, str]] = [
    *[(client, fixture) for client in JSON_CLIENTS for fixture in JSON_FIXTURES],
    *[
        (client, fixture)
        for client in ("vscode", "vscode-insiders")
        for fixture in ("jsonc/vscode-comments.json", "jsonc/no-servers-yet.json", "json/other-servers.json")
    ],
    ("zed", "jsonc/zed-settings.json"),
    ("zed", "jsonc/no-servers-yet.json"),
    ("codex", "toml/codex-config.toml"),
    ("codex", "toml/no-servers-yet.toml"),
    ("goose", "yaml/goose-config.yaml"),
    ("continue", "yaml/continue-config.yaml"),
]
# Every hostile variant (CRLF, BOM, both) for one client per format; the other JSON clients share its code.
FULL_VARIANTS = {"claude-desktop", "vscode", "zed", "codex", "goose", "continue"}
VARIANT_CASES = [
    (name, fixture, variant)
    for name, fixture in CASES
    for variant in (VARIANTS if name in FULL_VARIANTS else VARIANTS[:1])
]
_COMMENT = re.compile(r"(//.*|/\*.*?\*/|#.*)")


def _place(manager: ClientManager, name: str, data: bytes | None) -> Path:
    path = get_client(name).config_path(manager.host)
    if data is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path


def _comments(data: bytes) -> list[str]:
    return [m.group().strip() for m in _COMMENT.finditer(data.decode("utf-8-sig")) if "://" not in m.group()[:6]]


@pytest.mark.parametrize(("name", "fixture", "variant"), VARIANT_CASES)
def test_install_adds_only_grok_and_remove_gives_back_the_same_bytes(
    tmp_path: Path, name: str, fixture: str, variant: str
) -> None:
    manager = manager_for(tmp_path)
    original = fixture_bytes(fixture, variant)
    path = _place(manager, name, original)

    outcome = manager.install(name)

    written = path.read_bytes()
    assert outcome.action == "installed"
    assert manager.read_entry(get_client(name)) == manager.entry_for(name)
    assert written.startswith(b"\xef\xbb\xbf") == ("bom" in variant)
    if b"\r\n" in original:
        assert b"\n" not in written.replace(b"\r\n", b"")
    for comment in _comments(original):
        assert comment in written.decode("utf-8-sig")
    assert manager.report(name).status is Status.CONFIGURED

    assert manager.remove(name).action == "removed"
    assert path.read_bytes() == original


@pytest.mark.parametrize(("name", "fixture"), CASES)
def test_remove_takes_out_only_grok_after_someone_else_changed_the_file(
    tmp_path: Path, name: str, fixture: str
) -> None:
    manager = manager_for(tmp_path)
    spec = get_client(name)
    original = fixture_bytes(fixture)
    path = _place(manager, name, original)
    manager.install(name)
    # another program adds its own server after ours, then the user removes grok
    text = path.read_bytes().decode("utf-8")
    other = {"name": "later", "command": "later-server"} if spec.is_keyed_list else {"command": "later-server"}
    text, _ = spec.format.set_entry(text, path, spec.container, "later", other)
    path.write_text(text, encoding="utf-8", newline="")

    manager.remove(name)

    after = path.read_bytes().decode("utf-8")
    assert manager.read_entry(spec) is None
    document = spec.format.load(after, path)
    servers = document[spec.container]
    names = [s["name"] for s in servers] if spec.is_keyed_list else list(servers)
    assert "later" in names and "grok" not in names
    for comment in _comments(original):
        assert comment in after
    if not spec.is_keyed_list and spec.format.label != "YAML":
        # the surgical path is exact: taking `later` out too gives back the original bytes
        had_container = spec.container in spec.format.load(original.decode("utf-8"), path)
        restored = spec.format.remove_entry(
            after, path, spec.container, "later", drop_empty_container=not had_container
        )
        assert restored == original.decode("utf-8")


@pytest.mark.parametrize(
    ("name", "fixture", "removed"),
    [
        ("claude-desktop", "json/existing-grok.json", "json/existing-grok.removed.json"),
        ("cursor", "json/existing-grok.json", "json/existing-grok.removed.json"),
        ("codex", "toml/existing-grok.toml", "toml/existing-grok.removed.toml"),
    ],
)
def test_an_old_grok_entry_is_updated_in_place_and_remove_leaves_the_golden_file(
    tmp_path: Path, name: str, fixture: str, removed: str
) -> None:
    manager = manager_for(tmp_path)
    path = _place(manager, name, fixture_bytes(fixture))
    assert manager.report(name).status is Status.STALE

    assert manager.install(name).action == "updated"
    assert manager.report(name).status is Status.CONFIGURED
    manager.remove(name)

    assert path.read_bytes() == fixture_bytes(removed)


@pytest.mark.parametrize(
    ("name", "fixture", "line", "fmt"),
    [
        ("claude-desktop", "json/syntax-error.json", 5, "JSON"),
        ("claude-desktop", "json/comments-in-strict-json.json", 2, "JSON"),
        ("vscode", "jsonc/unclosed-comment.json", 3, "JSONC"),
        ("codex", "toml/syntax-error.toml", 2, "TOML"),
        ("goose", "yaml/goose-syntax-error.yaml", 4, "YAML"),
    ],
)
def test_a_file_that_does_not_parse_is_refused_with_its_line_and_left_alone(
    tmp_path: Path, name: str, fixture: str, line: int, fmt: str
) -> None:
    manager = manager_for(tmp_path)
    original = fixture_bytes(fixture)
    path = _place(manager, name, original)

    with pytest.raises(ConfigSyntaxError) as caught:
        manager.install(name)

    assert caught.value.line == line
    assert str(path) in str(caught.value) and f"line {line}" in str(caught.value) and fmt in str(caught.value)
    assert path.read_bytes() == original
    assert not (tmp_path / "data" / "client-backups").exists()
    with pytest.raises(ConfigSyntaxError):
        manager.remove(name)
    assert path.read_bytes() == original
    report = manager.report(name)
    assert report.problem is not None and f"line {line}" in report.problem


def test_a_root_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    path = _place(manager, "cursor", b'["not", "an", "object"]\n')
    with pytest.raises(ConfigShapeError):
        manager.install("cursor")
    assert path.read_bytes() == b'["not", "an", "object"]\n'


def test_servers_that_are_not_a_map_are_refused(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    path = _place(manager, "cursor", b'{"mcpServers": []}')
    with pytest.raises(ConfigShapeError, match="not an object"):
        manager.install("cursor")
    assert path.read_bytes() == b'{"mcpServers": []}'


@pytest.mark.parametrize("name", ["claude-desktop", "vscode", "zed", "codex", "goose", "continue"])
def test_a_missing_file_and_folder_are_created_and_remove_deletes_the_file_again(tmp_path: Path, name: str) -> None:
    manager = manager_for(tmp_path)
    path = get_client(name).config_path(manager.host)
    assert not path.parent.exists()

    manager.install(name)
    assert manager.read_entry(get_client(name)) == manager.entry_for(name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644

    manager.remove(name)
    assert not path.exists()


def test_a_read_only_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    # Tests run as root, where the OS would let us replace the file anyway: the check reads the mode bits,
    # so it holds for root and for users alike.
    manager = manager_for(tmp_path)
    original = fixture_bytes("json/other-servers.json")
    path = _place(manager, "claude-desktop", original)
    path.chmod(0o444)

    with pytest.raises(ConfigReadOnlyError, match="read-only"):
        manager.install("claude-desktop")

    assert path.read_bytes() == original
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_the_file_keeps_its_permissions(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    path = _place(manager, "cursor", fixture_bytes("json/other-servers.json"))
    path.chmod(0o640)
    manager.install("cursor")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_symlinked_config_is_edited_where_it_lives(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    real = tmp_path / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    real.write_bytes(fixture_bytes("json/other-servers.json"))
    link = get_client("cursor").config_path(manager.host)
    link.parent.mkdir(parents=True)
    link.symlink_to(real)

    manager.install("cursor")

    assert link.is_symlink()
    assert b'"grok"' in real.read_bytes()


def test_installing_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    path = _place(manager, "vscode", fixture_bytes("jsonc/vscode-comments.json"))
    manager.install("vscode")
    once = path.read_bytes()
    backups = sorted((tmp_path / "data" / "client-backups" / "vscode").rglob("*.bak"))

    assert manager.install("vscode").action == "unchanged"
    assert path.read_bytes() == once
    assert sorted((tmp_path / "data" / "client-backups" / "vscode").rglob("*.bak")) == backups


def test_undo_puts_back_the_file_from_before_the_last_change(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    original = fixture_bytes("toml/codex-config.toml")
    path = _place(manager, "codex", original)
    manager.install("codex")

    outcome = manager.undo("codex")

    assert outcome.action == "restored"
    assert path.read_bytes() == original
    with pytest.raises(NothingToUndoError):
        manager.undo("codex")


def test_undo_of_an_install_that_created_the_file_deletes_it(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    manager.install("goose")
    manager.undo("goose")
    assert not get_client("goose").config_path(manager.host).exists()


def test_only_the_newest_five_backups_are_kept(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    _place(manager, "cursor", b"{}")
    endpoint = HttpEndpoint("http://127.0.0.1:8765/mcp", "t" * 43)
    for _ in range(4):
        manager.install("cursor")
        manager.install("cursor", http=endpoint)
    backups = list((tmp_path / "data" / "client-backups" / "cursor").rglob("*.bak"))
    assert len(backups) == KEEP_BACKUPS


def test_status_says_not_installed_then_not_configured_then_configured(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    assert manager.report("cursor").status is Status.NOT_INSTALLED
    (manager.host.home / ".cursor").mkdir()
    assert manager.report("cursor").status is Status.NOT_CONFIGURED
    manager.install("cursor")
    assert manager.report("cursor").status is Status.CONFIGURED


def test_status_is_stale_when_the_configured_binary_is_gone(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    manager.install("claude-desktop")
    Path(manager.launch.command).unlink()
    report = manager.report("claude-desktop")
    assert report.status is Status.STALE
    assert "no longer exists" in report.detail


@pytest.mark.parametrize("python_exists", [True, False])
def test_an_entry_running_the_old_module_name_is_outdated_and_install_updates_it(
    tmp_path: Path, python_exists: bool
) -> None:
    manager = manager_for(tmp_path)
    python = manager.launch.command if python_exists else str(tmp_path / "old venv" / "bin" / "python")
    old = f'{{"mcpServers": {{"grok": {{"command": {json.dumps(python)}, "args": ["-m", "server", "serve"]}}}}}}\n'
    _place(manager, "cursor", old.encode("utf-8"))
    report = manager.report("cursor")
    assert report.status is Status.OUTDATED
    assert report.status.has_entry
    assert "earlier Grok MCP" in report.detail and "grok-mcp clients install cursor" in report.detail
    assert manager.install("cursor").action == "updated"
    assert manager.report("cursor").status is Status.CONFIGURED


def test_status_is_stale_when_the_entry_starts_another_copy(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    manager.install("zed")
    moved = manager_for(tmp_path / "moved")
    moved_host_manager = ClientManager(manager.host, moved.launch, manager.backups_root, running=lambda s, h: None)
    report = moved_host_manager.report("zed")
    assert report.status is Status.STALE
    assert moved_host_manager.install("zed").action == "updated"
    assert moved_host_manager.report("zed").status is Status.CONFIGURED


def _entry(manager: ClientManager, name: str) -> dict[str, Any]:
    entry = manager.read_entry(get_client(name))
    assert entry is not None
    return entry


def test_the_stdio_entry_holds_the_exact_path_and_no_secret(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    manager.install("claude-desktop")
    entry = _entry(manager, "claude-desktop")
    assert entry == {"command": manager.launch.command, "args": ["serve"]}
    assert "Grök MCP files/bin dir/grok-mcp" in entry["command"]
    text = get_client("claude-desktop").config_path(manager.host).read_text(encoding="utf-8")
    assert "xai-" not in text and "env" not in text


@pytest.mark.parametrize(
    ("name", "url_key"),
    [
        ("claude-code", "url"),
        ("cursor", "url"),
        ("vscode", "url"),
        ("windsurf", "serverUrl"),
        ("zed", "url"),
        ("cline", "url"),
        ("lm-studio", "url"),
        ("gemini-cli", "httpUrl"),
        ("codex", "url"),
        ("goose", "uri"),
    ],
)
def test_http_entries_carry_the_url_and_bearer_header_in_the_clients_own_words(
    tmp_path: Path, name: str, url_key: str
) -> None:
    manager = manager_for(tmp_path)
    endpoint = HttpEndpoint("http://127.0.0.1:8765/mcp", "secret-token-value")
    manager.install(name, http=endpoint)
    entry = _entry(manager, name)
    assert entry[url_key] == endpoint.url
    headers = entry.get("headers", entry.get("http_headers"))
    assert headers == {"Authorization": "Bearer secret-token-value"}
    assert stat.S_IMODE(get_client(name).config_path(manager.host).stat().st_mode) == 0o600
    report = manager.report(name)
    assert report.status is Status.CONFIGURED
    assert "secret-token-value" not in repr(report.as_dict())


@pytest.mark.parametrize("name", ["claude-desktop", "continue"])
def test_http_is_refused_for_clients_that_cannot_take_it(tmp_path: Path, name: str) -> None:
    manager = manager_for(tmp_path)
    with pytest.raises(UnsupportedModeError):
        manager.install(name, http=HttpEndpoint("http://127.0.0.1:8765/mcp", "x" * 20))
    assert not get_client(name).config_path(manager.host).exists()


def test_an_unknown_client_name_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownClientError, match="claude-desktop, claude-code"):
        manager_for(tmp_path).install("claude-dekstop")


@pytest.mark.parametrize("name", ["claude-desktop", "vscode", "codex", "goose", "continue", "zed"])
def test_a_snippet_is_a_valid_fragment_in_the_clients_format(tmp_path: Path, name: str) -> None:
    manager = manager_for(tmp_path)
    spec = get_client(name)
    text = manager.snippet(name)
    assert manager._entry_in(spec, spec.format.load(text, Path("s")), Path("s")) == manager.entry_for(name)  # pyright: ignore[reportPrivateUsage]


def test_a_http_snippet_hides_the_token_unless_revealed(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    endpoint = HttpEndpoint("http://127.0.0.1:8765/mcp", "very-secret-token")
    assert "very-secret-token" not in manager.snippet("cursor", endpoint)
    assert "very-secret-token" in manager.snippet("cursor", endpoint, reveal_token=True)


def test_a_dry_run_shows_the_change_and_writes_nothing(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    original = fixture_bytes("jsonc/zed-settings.json")
    path = _place(manager, "zed", original)
    outcome = manager.install("zed", dry_run=True)
    assert outcome.action == "would-change"
    assert '+    "grok": {' in outcome.diff
    assert path.read_bytes() == original


def test_a_blank_file_is_filled_and_given_back_blank(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    path = _place(manager, "cursor", b"\n")
    manager.install("cursor")
    assert manager.read_entry(get_client("cursor")) is not None
    manager.remove("cursor")
    assert path.read_bytes() == b"\n"


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    original = b'{\n  "a": "caf\xe9"\n}'
    path = _place(manager, "cursor", original)
    with pytest.raises(ConfigSyntaxError, match="line 2"):
        manager.install("cursor")
    assert path.read_bytes() == original


def test_a_writer_that_holds_the_lock_too_long_makes_install_give_up_unchanged(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    original = fixture_bytes("json/other-servers.json")
    path = _place(manager, "cursor", original)
    impatient = ClientManager(
        manager.host, manager.launch, manager.backups_root, lock_timeout_s=0.05, running=lambda s, h: None
    )
    with file_lock(path), pytest.raises(ConfigLockTimeoutError, match="try again"):
        impatient.install("cursor")
    assert path.read_bytes() == original
