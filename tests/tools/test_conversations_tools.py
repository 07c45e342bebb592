"""The conversation tools and resources, through the MCP SDK's client against the simulator."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from grok_mcp.app import build_server
from grok_mcp.config import Settings
from grok_mcp.simulator.tokenizer import count_tokens
from grok_mcp.simulator.usage import MESSAGE_OVERHEAD_TOKENS
from grok_mcp.store import Store
from grok_mcp.tools import conversations, resources
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import TextResourceContents

from tests.support.simulator import RunningSimulator
from tests.tools.conftest import error_of, text_of

pytestmark = pytest.mark.anyio

SMALL_MODEL = "grok-3-mini"  # the simulator's smallest window: 131,072 tokens


@pytest.fixture
async def mcp(settings: Settings) -> AsyncIterator[Client]:
    """The real server; the conversation families are added here until app.py registers them itself."""
    server = build_server(settings)
    if "chat_with_context" not in {tool.name for tool in await server.list_tools()}:
        conversations.register(server)
    if not any(t.uri_template.startswith("grok://models") for t in await server.list_resource_templates()):
        resources.register(server)
    async with Client(server) as client:
        yield client


async def say(mcp: Client, message: str, **arguments: Any) -> dict[str, Any]:
    result = await mcp.call_tool("chat_with_context", {"message": message, **arguments})
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return result.structured_content


def sim_prompt_tokens(*texts: str) -> int:
    """What the simulator bills for a prompt made of these messages."""
    return sum(MESSAGE_OVERHEAD_TOKENS + count_tokens(text) for text in texts)


async def test_with_saving_off_chat_with_context_says_it_cannot_remember_and_stores_nothing(
    settings: Settings, simulator: RunningSimulator
) -> None:
    with Store.open(settings.db_path) as store:
        kept = store.save_turn("kept-1", create_with_title="Kept from before", messages=[])
    assert kept == []
    unsaved = dataclasses.replace(settings, save_conversations=False, log_content=True)

    async with Client(build_server(unsaved)) as mcp:
        fresh = await error_of(mcp, "chat_with_context", {"message": "Remember that my cat is called Tom."})
        going_on = await error_of(mcp, "chat_with_context", {"message": "And?", "conversation_id": "kept-1"})
        one_off = await mcp.call_tool("chat", {"prompt": "What is a cat?"})

    for message in (fresh, going_on):
        assert "cannot remember" in message and "saving conversations is off" in message
        assert "[conversations] save" in message and "Settings page" in message and "`chat`" in message
    assert not one_off.is_error, text_of(one_off)
    assert simulator.request_count("/v1/chat/completions") == 1  # only the one-off chat reached xAI
    with Store.open(settings.db_path) as store:
        assert [c.id for c in store.list_conversations()] == ["kept-1"]
        assert store.count_conversations() == 1
        kept_conversation = store.get_conversation("kept-1")
    assert kept_conversation is not None and kept_conversation.messages == []


async def test_a_first_message_starts_a_conversation_whose_id_comes_back_and_is_recorded(
    mcp: Client, settings: Settings, ledger: Any
) -> None:
    reply = await say(mcp, "  What is a   cat?\n", system="Be brief.")
    conversation_id = reply["conversation_id"]
    assert conversation_id and reply["context_messages"] == 2 and reply["dropped_messages"] == 0
    assert reply["text"] and reply["request_id"] and reply["usage"]["prompt_tokens"] > 0

    detail = (await mcp.call_tool("get_conversation", {"conversation_id": conversation_id})).structured_content
    assert detail is not None
    assert detail["title"] == "What is a cat?"
    assert [(m["role"], m["text"]) for m in detail["messages"]] == [
        ("system", "Be brief."),
        ("user", "  What is a   cat?\n"),
        ("assistant", reply["text"]),
    ]
    answer = detail["messages"][2]
    assert (answer["model"], answer["request_id"]) == (reply["model"], reply["request_id"])
    [row] = ledger()
    assert (row.tool, row.conversation_id, row.id) == ("chat_with_context", conversation_id, reply["request_id"])


async def test_a_continued_conversation_sends_its_whole_history_with_the_remembered_system_prompt(
    mcp: Client,
) -> None:
    first = await say(mcp, "Name a colour.", system="Answer in one word.", model=SMALL_MODEL)
    second = await say(mcp, "Another one?", conversation_id=first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    assert second["model"] == SMALL_MODEL  # the conversation's model when none is named
    assert second["context_messages"] == 4
    assert second["usage"]["prompt_tokens"] == sim_prompt_tokens(
        "Answer in one word.", "Name a colour.", first["text"], "Another one?"
    )


async def test_passing_system_again_replaces_the_remembered_system_prompt(mcp: Client) -> None:
    first = await say(mcp, "Hello", system="Speak French.")
    conversation_id = first["conversation_id"]
    second = await say(mcp, "Hello again", conversation_id=conversation_id, system="Speak Portuguese.")
    assert second["usage"]["prompt_tokens"] == sim_prompt_tokens(
        "Speak Portuguese.", "Hello", first["text"], "Hello again"
    )
    detail = (await mcp.call_tool("get_conversation", {"conversation_id": conversation_id})).structured_content
    assert detail is not None
    assert [m["text"] for m in detail["messages"] if m["role"] == "system"] == ["Speak Portuguese."]


async def test_old_turns_are_dropped_to_fit_the_context_window_and_the_system_prompt_stays(
    mcp: Client, simulator: RunningSimulator
) -> None:
    # max_tokens keeps 120,000 of grok-3-mini's 131,072 tokens for the answer: about 11,000 are left for
    # the prompt, so three questions of 3,000 tokens fit and a fourth pushes the first turn out.
    max_tokens = 120_000
    questions = [f"Question {n}:" + " lorem" * 3000 for n in range(4)]
    first = await say(mcp, questions[0], system="Be brief.", model=SMALL_MODEL, max_tokens=max_tokens)
    conversation_id = first["conversation_id"]
    answers = [first["text"]]
    for question in questions[1:3]:
        reply = await say(mcp, question, conversation_id=conversation_id, max_tokens=max_tokens)
        assert reply["dropped_messages"] == 0
        answers.append(reply["text"])
    # Without trimming this prompt would be over the budget of 131,072 - 120,000 tokens.
    assert sim_prompt_tokens("Be brief.", *questions, *answers) > 131_072 - max_tokens

    last = await say(mcp, questions[3], conversation_id=conversation_id, max_tokens=max_tokens)
    assert last["dropped_messages"] == 2
    assert last["context_messages"] == 6
    assert last["usage"]["prompt_tokens"] == sim_prompt_tokens(
        "Be brief.", questions[1], answers[1], questions[2], answers[2], questions[3]
    )
    detail = (await mcp.call_tool("get_conversation", {"conversation_id": conversation_id})).structured_content
    assert detail is not None and len(detail["messages"]) == 9  # the store keeps every message


async def test_the_trimming_note_tells_the_user_what_was_left_out(mcp: Client) -> None:
    first = await say(mcp, "one" + " lorem" * 3000, model=SMALL_MODEL, max_tokens=125_000)
    result = await mcp.call_tool(
        "chat_with_context",
        {"message": "two" + " lorem" * 3000, "conversation_id": first["conversation_id"], "max_tokens": 125_000},
    )
    assert not result.is_error
    assert "2 earlier messages were left out to fit grok-3-mini's context window of 131,072 tokens" in text_of(result)


async def test_a_message_too_big_for_the_window_is_refused_before_anything_is_sent(
    mcp: Client, simulator: RunningSimulator
) -> None:
    text = await error_of(
        mcp, "chat_with_context", {"message": "lorem " * 2000, "model": SMALL_MODEL, "max_tokens": 130_000}
    )
    assert "larger context" in text
    assert simulator.request_count("/v1/chat/completions") == 0
    listing = (await mcp.call_tool("list_conversations", {})).structured_content
    assert listing is not None and listing["conversations"] == []


async def test_an_unknown_conversation_id_is_a_clear_error_for_every_tool(mcp: Client) -> None:
    for tool, arguments in [
        ("chat_with_context", {"message": "hi", "conversation_id": "no-such-id"}),
        ("get_conversation", {"conversation_id": "no-such-id"}),
        ("delete_conversation", {"conversation_id": "no-such-id"}),
    ]:
        text = await error_of(mcp, tool, arguments)
        assert "No conversation has the id 'no-such-id'" in text and "list_conversations" in text


async def test_bad_arguments_are_refused_with_what_to_do(mcp: Client) -> None:
    assert "`message` is empty" in await error_of(mcp, "chat_with_context", {"message": "   "})
    assert "`system` is empty" in await error_of(mcp, "chat_with_context", {"message": "hi", "system": " "})
    assert "`query` is empty" in await error_of(mcp, "search_conversations", {"query": "  "})
    assert "limit" in await error_of(mcp, "list_conversations", {"limit": 0})
    assert "offset" in await error_of(mcp, "list_conversations", {"offset": -1})
    assert "limit" in await error_of(mcp, "search_conversations", {"query": "x", "limit": 1000})
    assert "conversation_id" in await error_of(mcp, "get_conversation", {})
    assert "conversation_id" in await error_of(mcp, "delete_conversation", {"conversation_id": ""})


async def test_an_unknown_model_is_xais_error_and_starts_no_conversation(mcp: Client) -> None:
    text = await error_of(mcp, "chat_with_context", {"message": "hi", "model": "grok-nonexistent"})
    assert "grok-nonexistent" in text
    listing = (await mcp.call_tool("list_conversations", {})).structured_content
    assert listing is not None and listing["conversations"] == []


async def test_conversations_are_listed_newest_first_in_pages(mcp: Client) -> None:
    ids = [(await say(mcp, f"Conversation number {n}"))["conversation_id"] for n in range(3)]
    page = await mcp.call_tool("list_conversations", {"limit": 2})
    assert page.structured_content is not None
    assert [c["id"] for c in page.structured_content["conversations"]] == [ids[2], ids[1]]
    assert page.structured_content["has_more"] is True
    assert "offset 2" in text_of(page)
    rest = (await mcp.call_tool("list_conversations", {"limit": 2, "offset": 2})).structured_content
    assert rest is not None and [c["id"] for c in rest["conversations"]] == [ids[0]]
    assert rest["has_more"] is False
    assert rest["conversations"][0]["message_count"] == 2
    assert rest["conversations"][0]["title"] == "Conversation number 0"


async def test_search_ranks_the_best_match_first_and_marks_the_words_in_snippets(mcp: Client) -> None:
    weak = await say(mcp, "My garden has a pond and some trees.")
    strong = await say(mcp, "Pond pond pond: how do I keep a garden pond clean?")
    await say(mcp, "Nothing relevant here.")
    result = await mcp.call_tool("search_conversations", {"query": "garden pond", "limit": 10})
    found = result.structured_content
    assert found is not None
    user_hits = [hit for hit in found["results"] if hit["role"] == "user"]
    assert [hit["conversation_id"] for hit in user_hits] == [strong["conversation_id"], weak["conversation_id"]]
    assert user_hits[0]["score"] > user_hits[1]["score"]
    assert "«pond»" in user_hits[1]["snippet"].lower() and "«garden»" in user_hits[1]["snippet"].lower()
    assert "best first" in text_of(result)
    none = await mcp.call_tool("search_conversations", {"query": "xylophone"})
    assert none.structured_content == {"query": "xylophone", "results": []}
    assert "No message matches" in text_of(none)


async def test_a_deleted_conversation_is_gone_everywhere(mcp: Client) -> None:
    reply = await say(mcp, "Remember the word zanzibar.")
    conversation_id = reply["conversation_id"]
    deleted = await mcp.call_tool("delete_conversation", {"conversation_id": conversation_id})
    assert deleted.structured_content == {
        "conversation_id": conversation_id,
        "title": "Remember the word zanzibar.",
        "deleted_messages": 2,
    }
    assert "No conversation has the id" in await error_of(mcp, "get_conversation", {"conversation_id": conversation_id})
    assert "No conversation has the id" in await error_of(
        mcp, "chat_with_context", {"message": "and now?", "conversation_id": conversation_id}
    )
    found = (await mcp.call_tool("search_conversations", {"query": "zanzibar"})).structured_content
    assert found is not None and found["results"] == []


async def test_the_tools_carry_annotations_and_output_schemas(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    names = [
        "chat_with_context",
        "list_conversations",
        "get_conversation",
        "search_conversations",
        "delete_conversation",
    ]
    for name in names:
        assert tools[name].annotations is not None and tools[name].output_schema is not None
    assert tools["delete_conversation"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert tools["get_conversation"].annotations.read_only_hint is True  # type: ignore[union-attr]
    assert "conversation_id" in tools["chat_with_context"].output_schema["properties"]  # type: ignore[index]


async def test_a_transcript_resource_is_the_conversation_as_markdown(mcp: Client) -> None:
    reply = await say(mcp, "Tell me about owls.", system="Be brief.")
    uri = f"grok://conversations/{reply['conversation_id']}"
    read = await mcp.read_resource(uri)
    [content] = read.contents
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "text/markdown"
    assert content.text.startswith("# Tell me about owls.\n")
    assert content.text.index("Be brief.") < content.text.index("Tell me about owls.", 10)
    assert reply["text"] in content.text
    templates = {t.uri_template for t in (await mcp.list_resource_templates()).resource_templates}
    assert "grok://conversations/{conversation_id}" in templates


async def test_reading_the_transcript_of_an_unknown_conversation_is_a_clear_error(mcp: Client) -> None:
    with pytest.raises(MCPError, match="No conversation has the id 'missing'"):
        await mcp.read_resource("grok://conversations/missing")


async def test_the_models_resource_is_the_live_catalog_as_json(mcp: Client, simulator: RunningSimulator) -> None:
    read = await mcp.read_resource("grok://models")
    [content] = read.contents
    assert isinstance(content, TextResourceContents) and content.mime_type == "application/json"
    catalog = json.loads(content.text)
    models = {m["id"]: m for m in catalog["models"]}
    assert models[SMALL_MODEL]["context_length"] == 131_072
    assert catalog["default_chat_model"] in models
    assert any(m["kind"] == "image" for m in catalog["models"])
    fetched = simulator.request_count("/v1/language-models")
    await mcp.read_resource("grok://models")
    assert simulator.request_count("/v1/language-models") == fetched  # cached
    await mcp.read_resource("grok://models?refresh=true")
    assert simulator.request_count("/v1/language-models") == fetched + 1


async def test_a_conversation_written_here_is_visible_to_another_store_at_once(mcp: Client, settings: Settings) -> None:
    reply = await say(mcp, "Shared across processes")
    other = Store.open(settings.db_path)
    try:
        found = other.get_conversation(reply["conversation_id"])
    finally:
        other.close()
    assert found is not None and [m.role for m in found.messages] == ["user", "assistant"]
