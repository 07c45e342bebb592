"""Image generation on the simulator: real PNGs sized by aspect ratio and resolution, billed per image."""

from __future__ import annotations

import base64
import struct
from typing import Any

import httpx2

from tests.support.simulator import RunningSimulator


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _generate(xai: httpx2.Client, **body: Any) -> httpx2.Response:
    return xai.post("/images/generations", json={"model": "grok-imagine-image", "prompt": "a red rocket", **body})


def test_images_come_back_as_urls_serving_real_pngs_billed_per_image(xai: httpx2.Client) -> None:
    response = _generate(xai, n=3)
    body = response.json()

    assert response.status_code == 200
    assert len(body["data"]) == 3
    price = xai.get("/image-generation-models/grok-imagine-image").json()["image_price"]
    assert price == 200_000_000
    assert body["usage"] == {"cost_in_usd_ticks": 3 * price}
    for item in body["data"]:
        assert item["mime_type"] == "image/png"
        assert item["revised_prompt"] == ""
        png = httpx2.get(item["url"])
        assert png.headers["content-type"] == "image/png"
        assert _png_size(png.content) == (128, 128)


def test_image_calls_carry_only_the_request_rate_limit_pair(xai: httpx2.Client) -> None:
    headers = _generate(xai).headers

    assert headers["x-ratelimit-limit-requests"] == "300"
    assert "x-ratelimit-remaining-requests" in headers
    assert "x-ratelimit-limit-tokens" not in headers
    assert headers["x-simulated"] == "true"


def test_b64_json_images_decode_to_pngs_sized_by_aspect_ratio_and_resolution(xai: httpx2.Client) -> None:
    cases = {
        ("16:9", "1k"): (128, 72),
        ("9:16", "2k"): (144, 256),
        ("1:1", "2k"): (256, 256),
        ("auto", "1k"): (128, 128),
    }
    for (ratio, resolution), size in cases.items():
        body = _generate(xai, response_format="b64_json", aspect_ratio=ratio, resolution=resolution).json()

        item = body["data"][0]
        assert "url" not in item
        assert _png_size(base64.b64decode(item["b64_json"])) == size


def test_the_same_prompt_gives_the_same_picture(xai: httpx2.Client) -> None:
    first = _generate(xai, response_format="b64_json").json()["data"][0]["b64_json"]
    second = _generate(xai, response_format="b64_json").json()["data"][0]["b64_json"]
    other = _generate(xai, response_format="b64_json", prompt="a blue boat").json()["data"][0]["b64_json"]

    assert first == second
    assert first != other


def test_the_quality_model_costs_its_own_price_and_the_dated_alias_works(xai: httpx2.Client) -> None:
    quality = _generate(xai, model="grok-imagine-image-quality", n=2).json()
    alias = _generate(xai, model="grok-imagine-image-2026-03-02").json()

    assert quality["usage"]["cost_in_usd_ticks"] == 2 * 450_000_000
    assert alias["usage"]["cost_in_usd_ticks"] == 200_000_000


def test_n_outside_one_to_ten_is_refused(xai: httpx2.Client) -> None:
    for n in (0, 11):
        response = _generate(xai, n=n)

        assert response.status_code == 400
        assert "n must be between 1 and 10" in response.json()["error"]


def test_an_unknown_aspect_ratio_or_resolution_is_a_plain_text_422(xai: httpx2.Client) -> None:
    ratio = _generate(xai, aspect_ratio="5:4")
    resolution = _generate(xai, resolution="4k")

    assert ratio.status_code == 422
    assert "unknown variant `5:4`" in ratio.text
    assert resolution.status_code == 422


def test_an_empty_prompt_or_a_chat_model_is_refused(xai: httpx2.Client) -> None:
    assert _generate(xai, prompt="").status_code == 400
    assert _generate(xai, prompt="x" * 8001).status_code == 400
    assert _generate(xai, model="grok-4.3").status_code == 400
    assert _generate(xai, model="grok-imagine-video-9").status_code == 404


def test_a_retired_image_model_is_deprecated_or_redirected(xai: httpx2.Client, simulator: RunningSimulator) -> None:
    rejected = _generate(xai, model="grok-imagine-image-pro")
    simulator.set_config(retired_mode="redirect")
    redirected = _generate(xai, model="grok-imagine-image-pro")

    assert rejected.status_code == 404
    assert "was deprecated" in rejected.json()["error"]
    assert redirected.json()["usage"]["cost_in_usd_ticks"] == 450_000_000


def test_an_unknown_image_file_is_not_found(simulator: RunningSimulator) -> None:
    assert simulator.client.get("/_sim/files/nope.png").status_code == 404
