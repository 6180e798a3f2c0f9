"""Fixtures shared by every test: loopback-only sockets and simulated miners."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
import ipaddress
import socket
from typing import Any, TypeVar

import pytest
import pytest_socket

from tests.simulator.base import SimulatedMiner

M = TypeVar("M", bound=SimulatedMiner)


def _loopback_connect(inst: socket.socket, *args: Any) -> Any:
    host = pytest_socket.host_from_connect_args(args)
    if inst.family == socket.AF_UNIX:
        return pytest_socket._true_connect(inst, *args)
    try:
        loopback = host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise pytest_socket.SocketConnectBlockedError(["127.0.0.0/8"], host)
    return pytest_socket._true_connect(inst, *args)


@pytest.fixture
def loopback(socket_enabled: None) -> None:
    """Allow sockets to any loopback address (each simulated miner has its own), nothing else."""
    socket.socket.connect = _loopback_connect  # type: ignore[method-assign]


SimFactory = Callable[..., Coroutine[Any, Any, Any]]


@pytest.fixture
async def simulate(loopback: None) -> AsyncIterator[SimFactory]:
    """Start simulated miners: `await simulate(BitaxeMiner, "127.0.1.2", firmware=...)`.

    Every miner started here is powered off at the end of the test.
    """
    started: list[SimulatedMiner] = []

    async def _start(cls: type[M], ip: str, **kwargs: Any) -> M:
        miner = cls(ip, **kwargs)
        await miner.power_on()
        started.append(miner)
        return miner

    yield _start
    for miner in started:
        await miner.power_off()
