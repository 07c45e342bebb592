"""Images, search, the catalog, tokens and usage, through a real MCP client against the simulator."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from grok_mcp.config import Settings
from mcp import Client
from mcp.types import ImageContent
from PIL import Image

from tests.support.ledger import record_chat_call
from tests.support.simulator import RunningSimulator
from tests.tools.conftest import error_of, text_of

pytestmark = pytest.mark.anyio


def png_bytes(size: tuple[int, int] = (32, 24), colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


async def test_analyze_image_reads_a_local_file_and_a_data_uri(mcp: Client, tmp_path: Path, ledger: Any) -> None:
    picture = tmp_path / "red square.png"
    picture.write_bytes(png_bytes())
    data_uri = "data:image/png;base64," + base64.b64encode(png_bytes(colour="blue")).decode()

    result = await mcp.call_tool("analyze_image", {"images": [str(picture), data_uri], "prompt": "Compare them."})

    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None and data["text"]
    assert data["usage"]["prompt_tokens"] > 0
    row = ledger()[0]
    assert row.tool == "analyze_image"
    assert row.images == 2


async def test_analyze_image_passes_https_urls_to_xai(mcp: Client) -> None:
    result = await mcp.call_tool("analyze_image", {"images": ["https://example.com/cat.jpg"]})
    assert not result.is_error, text_of(result)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: str(d / "notes.png"), "not an image"),
        (lambda d: str(d / "missing.png"), "no file"),
        (lambda d: "relative/picture.png", "absolute path"),
        (lambda d: "http://example.com/a.png", "https"),
        (lambda d: "data:image/png;base64,@@@@", "corrupt"),
        (lambda d: "ftp://example.com/a.png", "not an https URL"),
        (lambda d: str(d / "anim.gif"), "GIF"),
    ],
)
async def test_analyze_image_explains_unusable_images_before_any_upload(
    mcp: Client, tmp_path: Path, simulator: RunningSimulator, make: Any, expected: str
) -> None:
    (tmp_path / "notes.png").write_text("just text", encoding="utf-8")
    (tmp_path / "anim.gif").write_bytes(b"GIF89a" + b"\0" * 20)
    assert expected in await error_of(mcp, "analyze_image", {"images": [make(tmp_path)]})
    assert not [r for r in simulator.requests() if r["path"] == "/v1/chat/completions"]


async def test_analyze_image_refuses_an_image_over_the_size_limit(
    settings: Settings, tmp_path: Path, simulator: RunningSimulator
) -> None:
    import dataclasses

    from grok_mcp.app import build_server

    small_limit = dataclasses.replace(settings, max_image_bytes=1000)
    big = tmp_path / "big.png"
    big.write_bytes(png_bytes((400, 400)) + b"\0" * 2000)
    async with Client(build_server(small_limit)) as client:
        message = await error_of(client, "analyze_image", {"images": [str(big)]})
    assert "accepts images up to" in message


async def test_analyze_image_refuses_a_model_that_cannot_see(mcp: Client) -> None:
    message = await error_of(mcp, "analyze_image", {"images": ["https://example.com/a.png"], "model": "grok-3-mini"})
    assert "cannot look at images" in message


async def test_generate_image_saves_files_and_returns_small_previews(
    mcp: Client, settings: Settings, ledger: Any
) -> None:
    result = await mcp.call_tool("generate_image", {"prompt": "a lighthouse at dusk", "n": 2, "aspect_ratio": "16:9"})

    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    assert len(data["images"]) == 2
    for image in data["images"]:
        path = Path(image["path"])
        assert path.is_file()
        assert path.is_relative_to(settings.images_dir)
        assert image["width"] > image["height"]
    previews = [b for b in result.content if isinstance(b, ImageContent)]
    assert len(previews) == 2
    assert all(len(p.data) < 100_000 for p in previews)
    listing = (await mcp.call_tool("list_models", {})).structured_content
    assert listing is not None
    price = next(m["usd_per_image"] for m in listing["models"] if m["id"] == data["model"])
    row = ledger()[0]
    assert row.images == 2
    assert row.cost_ticks == round(2 * price * 1e10)
    assert data["cost_usd"] == pytest.approx(2 * price)


async def test_web_search_answers_with_citations(mcp: Client, ledger: Any) -> None:
    result = await mcp.call_tool(
        "web_search", {"query": "latest MCP specification", "allowed_domains": ["modelcontextprotocol.io"]}
    )
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    assert data["citations"]
    assert data["searches"] >= 1
    assert "Sources:" in text_of(result)
    row = ledger()[0]
    assert row.endpoint.endswith("/responses")
    assert row.cost_ticks > 0


async def test_x_search_filters_by_handles_and_dates(mcp: Client) -> None:
    result = await mcp.call_tool(
        "x_search",
        {"query": "launch news", "handles": ["@xai"], "from_date": "2026-10-01", "to_date": "2026-11-01"},
    )
    assert not result.is_error, text_of(result)
    assert result.structured_content and result.structured_content["citations"]


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("web_search", {"query": "q", "allowed_domains": [f"d{i}.com" for i in range(6)]}, "at most 5"),
        (
            "web_search",
            {"query": "q", "allowed_domains": ["a.com"], "excluded_domains": ["b.com"]},
            "not both",
        ),
        ("web_search", {"query": "  "}, "`query` is empty"),
        ("x_search", {"query": "q", "from_date": "yesterday"}, "must be a date"),
        ("x_search", {"query": "q", "from_date": "2026-11-02", "to_date": "2026-11-01"}, "is after"),
    ],
)
async def test_search_tools_explain_bad_filters(
    mcp: Client, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    assert expected in await error_of(mcp, tool, arguments)


async def test_list_models_shows_the_live_catalog_with_dollar_prices(mcp: Client) -> None:
    result = await mcp.call_tool("list_models", {})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    by_id = {m["id"]: m for m in data["models"]}
    assert by_id["grok-4.3"]["input_usd_per_million"] == pytest.approx(1.25)
    assert by_id["grok-4.3"]["output_usd_per_million"] == pytest.approx(2.50)
    assert "grok-4.3-latest" in by_id["grok-4.3"]["aliases"]
    assert by_id["grok-imagine-image"]["usd_per_image"] == pytest.approx(0.02)
    assert data["default_chat_model"] in by_id
    assert sum(1 for m in data["models"] if m["is_default"]) == 2
    assert "| grok-4.3" in text_of(result)


async def test_count_tokens_uses_xais_tokenizer(mcp: Client, ledger: Any) -> None:
    result = await mcp.call_tool("count_tokens", {"text": "Hello world! How are you today?"})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    assert data["tokens"] >= 5
    assert "".join(data["preview"]) == "Hello world! How are you today?"
    assert ledger()[0].endpoint.endswith("/tokenize-text")


async def test_usage_summary_adds_up_the_ledger(mcp: Client, ledger: Any) -> None:
    for prompt in ("one", "two", "three"):
        assert not (await mcp.call_tool("chat", {"prompt": prompt})).is_error
    result = await mcp.call_tool("usage_summary", {"period": "today", "group_by": "tool"})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    rows = ledger()
    assert data["total"]["requests"] == len(rows) == 3
    assert data["total"]["cost_usd"] == pytest.approx(sum(r.cost_ticks for r in rows) / 1e10)
    assert [g["key"] for g in data["groups"]] == ["chat"]
    assert "**total**" in text_of(result)


async def test_usage_summary_shows_demo_usage_apart_from_real_usage(
    mcp: Client, ledger: Any, settings: Settings
) -> None:
    record_chat_call(settings.db_path, model="grok-4.7", status=200, cost_ticks=30_000_000_000)  # $3, real
    assert not (await mcp.call_tool("chat", {"prompt": "one"})).is_error  # answered by the simulator

    shown = await mcp.call_tool("usage_summary", {"period": "today"})
    real = await mcp.call_tool("usage_summary", {"period": "today", "simulated": False})

    demo = shown.structured_content
    assert demo is not None and demo["simulated"] is True
    assert demo["total"]["requests"] == 1 and demo["total"]["cost_usd"] < 3
    assert text_of(shown).startswith("Showing: demo usage")
    assert "1 real call" in text_of(shown)
    data = real.structured_content
    assert data is not None and data["simulated"] is False
    assert (data["total"]["requests"], data["total"]["cost_usd"]) == (1, pytest.approx(3.0))
    assert text_of(real).startswith("Showing: real usage")
    assert [row.simulated for row in ledger()] == [False, True]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("chat", {"prompt": 42}),
        ("chat", {"prompt": "hi", "temperature": 3}),
        ("chat", {"prompt": "hi", "max_tokens": 0}),
        ("chat", {"prompt": "hi", "reasoning_effort": "extreme"}),
        ("chat_stream", {"messages": [{"role": "user"}]}),
        ("analyze_image", {"images": []}),
        ("analyze_image", {"images": ["https://example.com/a.png"] * 11}),
        ("analyze_image", {"images": "https://example.com/a.png", "detail": "ultra"}),
        ("generate_image", {"prompt": ""}),
        ("generate_image", {"prompt": "cat", "n": 11}),
        ("generate_image", {"prompt": "cat", "aspect_ratio": "5:4"}),
        ("generate_image", {"prompt": "cat", "resolution": "8k"}),
        ("web_search", {}),
        ("x_search", {"query": "q", "handles": [f"h{i}" for i in range(11)]}),
        ("count_tokens", {"text": ""}),
        ("usage_summary", {"period": "decade"}),
        ("usage_summary", {"group_by": "colour"}),
        ("list_models", {"unexpected": {"deeply": ["nested"]}}),
    ],
)
async def test_every_tool_turns_bad_input_into_an_error_result_without_calling_xai(
    mcp: Client, simulator: RunningSimulator, tool: str, arguments: dict[str, Any]
) -> None:
    result = await mcp.call_tool(tool, arguments)
    if tool == "list_models":  # extra arguments are ignored, as MCP clients expect
        assert not result.is_error
        return
    assert result.is_error, text_of(result)
    assert text_of(result)
    inference = [
        r for r in simulator.requests() if r["path"] not in ("/v1/language-models", "/v1/image-generation-models")
    ]
    assert inference == []


def test_a_bug_reads_the_same_wherever_work_ends_and_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from grok_mcp.tools.boundary import bug_notice
    from grok_mcp.tools.long_calls import describe_job_failure

    with caplog.at_level("ERROR", logger="grok_mcp.tools.boundary"):
        job_text = describe_job_failure(RuntimeError("internal detail"))
        item_text = bug_notice("This item", KeyError("internal detail"), logged_as="batch_chat item 3")
    assert job_text == (
        "This call failed because of a bug in Grok MCP. The details are in the server log "
        "(`grok-mcp doctor` shows where); please report it."
    )
    assert item_text.startswith("This item failed because of a bug in Grok MCP.")
    assert "internal detail" not in job_text + item_text
    assert [r.exc_info is not None for r in caplog.records] == [True, True]
    assert "batch_chat item 3 failed unexpectedly" in caplog.text


def test_notes_follow_the_answer_each_in_its_own_paragraph() -> None:
    from grok_mcp.tools.results import CACHED_NOTE, SIMULATED_NOTE, with_notes

    assert with_notes("Answer.") == "Answer."
    noted = with_notes("Answer.", route="auto picked the default.", model="grok-x", cached=True, simulated=True)
    assert noted == f"Answer.\n\n(auto picked the default. Model: grok-x.)\n\n{CACHED_NOTE}\n\n{SIMULATED_NOTE}"


def test_the_task_middleware_given_to_the_server_constructor_is_in_its_chain(settings: Settings) -> None:
    from grok_mcp.app import build_server
    from grok_mcp.hosting.tasks import TaskSupport

    # MCPServer(middleware=...) is public SDK API; if it stopped being honoured, MCP tasks would silently vanish.
    assert any(isinstance(m, TaskSupport) for m in build_server(settings).middleware)
