"""One demo (a real Home Assistant with the simulated fleet and a plan) and one headless
Chromium, logged in through the real login page, for all the browser tests of a module:
starting Home Assistant is most of their time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
import socket

import pytest
import pytest_socket

from tests.conftest import _loopback_connect
from tests.demo_runner import Demo, run_demo

from . import ui

USERNAME = "demo"
PASSWORD = "demo-miner"
# The demo's TOU peak an hour away: nothing the plan does changes a page meanwhile.
PEAK_IN = 3600


def _allow_loopback() -> None:
    """Sockets to loopback addresses only, as the `loopback` fixture gives a test; a
    module's fixtures are set up before a test's own, so they ask for it themselves."""
    pytest_socket.enable_socket()
    socket.socket.connect = _loopback_connect  # type: ignore[method-assign, assignment]


@pytest.fixture(autouse=True)
def _loopback_sockets(loopback: None) -> None:
    """Every browser test talks to the demo, its simulators and chromedriver on loopback."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    _allow_loopback()
    with run_demo(tmp_path_factory.mktemp("demo"), "--peak-in", str(PEAK_IN)) as running:
        yield running


@dataclass
class LoginSeen:
    """The login page as it was shown."""

    text: str
    fields: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser(demo: Demo) -> Iterator[ui.Page]:
    """Chromium on the demo; screenshots of an earlier run cleared."""
    _allow_loopback()
    for old in ui.ARTIFACTS.glob("*.png"):
        old.unlink()
    with ui.chromium() as driver:
        yield ui.Page(driver, demo.base)


@pytest.fixture(scope="module")
def login_seen(browser: ui.Page) -> LoginSeen:
    """Log in as a person does: the login page, its two fields, the button."""
    page = browser
    page.open("/")
    user = page.find("input[name=username]")
    seen = LoginSeen(page.text(), page.fields())
    page.shot("login")
    page.type(user, USERNAME)
    page.type(page.find("input[name=password]"), PASSWORD)
    page.click_text("Log in", "ha-button, button")
    page.wait("the overview", lambda: "/auth/" not in page.driver.current_url, timeout=30)
    page.find("home-assistant-main", visible=False, timeout=30)
    return seen


@pytest.fixture
def page(browser: ui.Page, login_seen: LoginSeen) -> ui.Page:
    """The logged-in browser."""
    return browser
