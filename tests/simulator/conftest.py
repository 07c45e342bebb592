"""Fixtures for the simulator tests: an authorised client for the simulated `/v1` API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from tests.support.simulator import TEST_KEY, RunningSimulator


@pytest.fixture
def xai(simulator: RunningSimulator) -> Iterator[httpx2.Client]:
    """A client for the simulated `/v1` API, authorised with the test key."""
    with httpx2.Client(
        base_url=simulator.base_url, headers={"Authorization": f"Bearer {TEST_KEY}"}, timeout=10
    ) as client:
        yield client
