"""The suite runs on the platform users have: Python 3.14, probatio and httpx2 underneath."""

from __future__ import annotations

import sys

import homeassistant  # noqa: F401 - installs the voluptuous alias, as a running HA does
import httpx
import pyasic.miners.factory
import pyasic.web.antminer
import pyasic.web.avalonminer
import pyasic.web.espminer
import voluptuous


def test_python_is_the_one_home_assistant_requires() -> None:
    assert sys.version_info >= (3, 14, 2)


def test_voluptuous_is_probatio() -> None:
    assert voluptuous.__name__ == "probatio._vol_shim"


def test_pyasic_web_clients_run_on_httpx2() -> None:
    assert httpx.__name__ == "httpx2"
    web = (pyasic.web.espminer, pyasic.web.avalonminer, pyasic.web.antminer)
    for module in (pyasic.miners.factory, *web):  # detection, then each family's web client
        assert module.httpx is httpx, module
