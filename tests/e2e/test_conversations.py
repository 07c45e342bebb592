"""Conversations across real processes: two stdio servers sharing one, and `grok-mcp conversations` commands."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from grok_mcp.store import Store
from grok_mcp.store.conversations import NewMessage, new_conversation_id
from mcp import ClientSession, StdioServerParameters, stdio_client

from tests.support.processes import ROOT, SERVER_COMMAND, run_cli, server_env
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def stdio_session(env: dict[str, str], errlog: Any) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "serve"], env=env, cwd=str(ROOT)
    )
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def say(session: ClientSession, message: str, conversation_id: str | None = None) -> dict[str, Any]:
    arguments: dict[str, Any] = {"message": message}
    if conversation_id:
        arguments["conversation_id"] = conversation_id
    result = await session.call_tool("chat_with_context", arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def messages_seen_by(session: ClientSession, conversation_id: str) -> list[str]:
    result = await session.call_tool("get_conversation", {"conversation_id": conversation_id})
    assert result.structured_content is not None
    return [m["text"] for m in result.structured_content["messages"] if m["role"] == "user"]


async def test_two_server_processes_write_one_conversation_and_both_see_every_message(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    env = server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY)
    with (isolated_home / "stderr.txt").open("w+", encoding="utf-8") as errlog:
        async with stdio_session(env, errlog) as first, stdio_session(env, errlog) as second:
            conversation_id = (await say(first, "one, from the first process"))["conversation_id"]
            await say(second, "two, from the second process", conversation_id)
            third = await say(first, "three, from the first again", conversation_id)
            # The first process's third turn was sent with the second process's turn in its history.
            assert third["context_messages"] == 5

            async with anyio.create_task_group() as group:  # both at once
                group.start_soon(say, first, "four, at the same time", conversation_id)
                group.start_soon(say, second, "five, at the same time", conversation_id)

            expected = [
                "one, from the first process",
                "two, from the second process",
                "three, from the first again",
            ]
            for session in (first, second):
                seen = await messages_seen_by(session, conversation_id)
                assert seen[:3] == expected
                assert sorted(seen[3:]) == ["five, at the same time", "four, at the same time"]


@pytest.fixture
def seeded(isolated_home: Path) -> dict[str, str]:
    """A data dir holding two conversations, written through the real store."""
    store = Store.open(isolated_home / "grok-mcp.db")
    try:
        ids: dict[str, str] = {}
        for title, question, answer in [
            ("Owls", "Why do owls hoot at night?", "Owls hoot to mark territory."),
            ("Bread", "How long should sourdough rise?", "Usually four to six hours."),
        ]:
            ids[title] = new_conversation_id()
            store.save_turn(
                ids[title],
                create_with_title=title,
                model="grok-4",
                system=NewMessage("system", "Be brief."),
                messages=[NewMessage("user", question), NewMessage("assistant", answer, model="grok-4")],
            )
    finally:
        store.close()
    return ids


def test_cli_lists_shows_and_searches_conversations(isolated_home: Path, seeded: dict[str, str]) -> None:
    env = server_env(isolated_home)
    listed = run_cli("conversations", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [c["id"] for c in json.loads(listed.stdout)["conversations"]] == [seeded["Bread"], seeded["Owls"]]
    table = run_cli("conversations", "list", env=env)
    assert "Owls" in table.stdout and seeded["Owls"] in table.stdout

    shown = run_cli("conversations", "show", seeded["Owls"], env=env)
    assert shown.returncode == 0
    assert shown.stdout.startswith("# Owls") and "Owls hoot to mark territory." in shown.stdout
    detail = json.loads(run_cli("conversations", "show", seeded["Owls"], "--json", env=env).stdout)
    assert [m["role"] for m in detail["messages"]] == ["system", "user", "assistant"]

    found = json.loads(run_cli("conversations", "search", "sourdough", "--json", env=env).stdout)
    assert [(r["conversation_id"], r["snippet"]) for r in found["results"]] == [
        (seeded["Bread"], "How long should «sourdough» rise?")
    ]
    assert "«sourdough»" in run_cli("conversations", "search", "sourdough", env=env).stdout


def test_cli_exports_markdown_to_the_exports_folder_and_json_where_asked(
    isolated_home: Path, seeded: dict[str, str], tmp_path: Path
) -> None:
    env = server_env(isolated_home)
    done = run_cli("conversations", "export", seeded["Owls"], env=env)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.parent == isolated_home / "exports" and path.suffix == ".md"
    assert path.read_text(encoding="utf-8").startswith("# Owls")

    target = tmp_path / "out" / "owls.json"
    done = run_cli("conversations", "export", seeded["Owls"], "--format", "json", "--output", str(target), env=env)
    assert done.returncode == 0 and done.stdout.strip() == str(target)
    assert json.loads(target.read_text(encoding="utf-8"))["title"] == "Owls"


def test_cli_delete_needs_yes_without_a_terminal_and_then_deletes(isolated_home: Path, seeded: dict[str, str]) -> None:
    env = server_env(isolated_home)
    refused = run_cli("conversations", "delete", seeded["Owls"], env=env, stdin="y\n")
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert run_cli("conversations", "show", seeded["Owls"], env=env).returncode == 0

    deleted = run_cli("conversations", "delete", seeded["Owls"], "--yes", env=env)
    assert deleted.returncode == 0 and "Deleted the conversation 'Owls'" in deleted.stdout
    gone = run_cli("conversations", "show", seeded["Owls"], env=env)
    assert gone.returncode == 2
    assert f"No conversation has the id '{seeded['Owls']}'" in gone.stderr


def test_cli_refuses_unknown_ids_and_bad_arguments_with_exit_2(isolated_home: Path, seeded: dict[str, str]) -> None:
    env = server_env(isolated_home)
    for command in (["--debug", "show", "nope"], ["export", "nope"], ["delete", "nope", "--yes"]):
        done = run_cli("conversations", *command, env=env)
        assert done.returncode == 2, (command, done.stderr)
        assert "grok-mcp conversations list" in done.stderr
    assert run_cli("conversations", "export", seeded["Owls"], "--format", "pdf", env=env).returncode == 2
