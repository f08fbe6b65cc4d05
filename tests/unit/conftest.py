"""The unit tests: pure functions on values in memory, milliseconds each. No store, no server, no
subprocess, no files written by the test; they run with ``pytest tests/unit`` on any supported Python.

Every unit test runs under the loopback-only network guard of ``tests/receivers.py``: a DNS
lookup or a connection to anything but 127.0.0.1 fails the test.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_network(network_guard: None) -> None:
    """Applies ``network_guard`` (registered by ``tests/conftest.py``) to every unit test."""
