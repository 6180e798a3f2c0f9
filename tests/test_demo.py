"""The demo, end to end: a real Home Assistant with the three simulated miners and a plan.

Runs `scripts/demo` headless (its own ports and addresses, its TOU peak an hour away so
nothing scheduled happens meanwhile): the Home Assistant release `requirements_demo.txt` pins,
on Python 3.14, in the demo's own venv (`.venv-demo`, made first by `scripts/demo
--install-only`). Then checks over Home Assistant's REST and WebSocket APIs:
- it is that release, every configured integration is set up, and Home Assistant had nothing
  to install (the pinned requirements are complete);
- the demo confirmed its HTTP settings (else Home Assistant goes back to its defaults and
  restarts after 5 minutes);
- the miners of every simulated family (Bitaxe over ESP-Miner's HTTP API, Avalon Nano 3s over
  CGMiner RPC, stock Antminer over CGI and RPC), added through the config-flow API, report
  live power and hashrate;
- turning a mining switch off really stops the simulated miner (the Bitaxe and the Antminer;
  the Avalon Nano 3s's firmware has no soft off);
- the demo's curtailment plan is set up with its TOU peak and the demo VTN's OpenADR event in
  its schedule;
- moving the demo's price above the threshold curtails (the plan says so and every simulated
  miner stops), and moving it back below resumes (the plan ends the window and every miner
  runs again, after the plan's minimum off time);
- Home Assistant logged no unexpected error and no warning about Home Miner (a deprecated API
  it uses, a blocking call in the event loop).

One test, one Home Assistant (starting it twice would double the time). Its port and the
fleet's addresses are picked free at the start, so it can run beside another demo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
import json
import os
from pathlib import Path
import random
import re
import socket
import subprocess
import threading
import time
from typing import Any
import urllib.request

import pytest

from scripts.demo import websocket

ROOT = Path(__file__).resolve().parent.parent
PEAK_IN = 3600
PLAN = "demo_plan"
PRICE = "input_number.electricity_price"
# The release the demo runs by default: the one its pinned requirements hold.
HA_VERSION = next(
    line.removeprefix("homeassistant==")
    for line in (ROOT / "requirements_demo.txt").read_text().splitlines()
    if line.startswith("homeassistant==")
)
# What the demo's configuration.yaml sets up (scripts/demo.py), and Home Miner.
CONFIGURED = {
    "api",
    "config",
    "frontend",
    "history",
    "logbook",
    "energy",
    "person",
    "onboarding",
    "system_log",
    "input_number",
    "logger",
    "http",
    "home_miner",
}
# Errors the log may hold: the machine's (no ffmpeg binary, no libturbojpeg), and a poll that
# failed (the miner unavailable until the next): a stock Antminer's CGIs answer nothing while
# bmminer restarts, which it does on every switch between sleep and normal mode.
ALLOWED_ERRORS = (
    "[haffmpeg.core]",
    "[homeassistant.components.camera.img_util]",
    "[custom_components.home_miner] Error fetching home_miner ",
)


def _get(url: str, token: str | None = None) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())


def _post(url: str, body: dict[str, Any], token: str) -> Any:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.loads(response.read())


def _free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _free_subnet() -> str:
    """A 127.0.N. prefix whose miner addresses (.2-.4, ports 80 and 4028) are all free."""
    for _ in range(50):
        prefix = f"127.0.{random.randint(100, 250)}."
        if all(_free(f"{prefix}{i}", port) for i in (2, 3, 4) for port in (80, 4028)):
            return prefix
    raise AssertionError("no free loopback subnet for the demo's miners")


# The simulated fleet, on .2, .3 and .4 of the demo's subnet.
FAMILIES = ("bitaxe", "avalon_nano", "antminer")


@dataclass(frozen=True)
class Demo:
    base: str
    token: str
    status: str
    prefix: str
    config: Path
    output: list[str]

    def entity_prefix(self, family: str) -> str:
        """The entity id prefix of the family's miner: its title (printed when added), as
        Home Assistant slugifies it."""
        ip = f"{self.prefix}{2 + FAMILIES.index(family)}"
        title = next(
            m[1]
            for line in self.output
            if (m := re.fullmatch(rf"added (.+) \({re.escape(ip)}\)", line))
        )
        return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


@pytest.fixture
def demo(tmp_path: Path, loopback: None) -> Iterator[Demo]:
    # The demo's venv first (from nothing: a few minutes), so the demo's own start is timed.
    install = subprocess.run(
        [str(ROOT / "scripts" / "demo"), "--install-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    config = tmp_path / "config"
    prefix = _free_subnet()
    port = _free_port("127.0.0.1")
    status = f"{prefix}1:{_free_port(f'{prefix}1')}"
    fleet = ",".join(f"{family}@{prefix}{2 + i}" for i, family in enumerate(FAMILIES))
    process = subprocess.Popen(
        [
            str(ROOT / "scripts" / "demo"),
            "--port",
            str(port),
            "--fleet",
            fleet,
            "--status",
            status,
            "--config",
            str(config),
            "--exit-after",
            "600",
            "--peak-in",
            str(PEAK_IN),
        ],
        cwd=ROOT,
        env={**os.environ, "DEMO_TIME_ZONE": "UTC"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            lines.append(line)
            if "demo is running" in line:
                break
        assert any("demo is running" in line for line in lines), "".join(lines[-40:])
        # Keep reading what it prints, so a full pipe never blocks it.
        threading.Thread(target=lines.extend, args=(process.stdout,), daemon=True).start()
        yield Demo(
            base=f"http://127.0.0.1:{port}",
            token=(config / "demo_token").read_text(),
            status=status,
            prefix=prefix,
            config=config,
            output=[line.rstrip("\n") for line in lines],
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait(what: str, check: Callable[[], Any], timeout: float = 20) -> Any:
    """Poll until `check()` is truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what}: {found}"
        time.sleep(0.25)
    return found


def _numeric(state: dict[str, Any]) -> bool:
    try:
        float(state["state"])
    except ValueError:
        return False
    return True


def test_demo_miners_and_plan(demo: Demo) -> None:
    _check_release(demo)
    _check_live_miners_and_switch(demo)
    _check_plan(demo)
    _check_price_curtails_and_resumes(demo)
    _check_log(demo)


def _log(demo: Demo) -> list[str]:
    return (demo.config / "home-assistant.log").read_text().splitlines()


def _check_release(demo: Demo) -> None:
    """The pinned release on Python 3.14, every configured integration set up, and nothing
    installed at the start: Home Assistant logs each install it attempts."""
    banner = next(line for line in demo.output if line.startswith("Home Assistant "))
    assert banner.startswith(f"Home Assistant {HA_VERSION} on Python 3.14."), banner
    config = _get(f"{demo.base}/api/config", demo.token)
    assert config["version"] == HA_VERSION, config["version"]
    components = {c.split(".")[0] for c in config["components"]}
    assert components >= CONFIGURED, CONFIGURED - components
    log = _log(demo)
    installs = [
        line for line in log if "Attempting install of" in line or "Unable to install" in line
    ]
    assert not installs, installs
    failed = [line for line in log if "Setup failed for" in line or "Unable to set up" in line]
    assert not failed, failed
    # The demo confirmed its HTTP settings: Home Assistant will not go back to its defaults
    # (every interface, port 8123) and restart after 5 minutes.
    http = websocket(demo.base, demo.token, {"type": "http/config"})
    assert http["success"], http
    assert http["result"]["pending"] is None, http
    assert http["result"]["revert_at"] is None, http


def _check_log(demo: Demo) -> None:
    """No error in Home Assistant's log but those above (an entity that cannot be added, a
    platform that fails, an unexpected exception of Home Miner's would show here), and no
    warning about Home Miner but that it is a custom integration."""
    log = _log(demo)
    errors = [
        line
        for line in log
        if " ERROR " in line and not any(allowed in line for allowed in ALLOWED_ERRORS)
    ]
    assert not errors, errors
    warnings = [
        line
        for line in log
        if " WARNING " in line and "home_miner" in line and "has not been tested" not in line
    ]
    assert not warnings, warnings


def _check_live_miners_and_switch(demo: Demo) -> None:
    base, token = demo.base, demo.token
    deadline = time.monotonic() + 60
    while True:
        states = _get(f"{base}/api/states", token)
        power = [
            s
            for s in states
            if s["entity_id"].startswith("sensor.")
            and s["attributes"].get("device_class") == "power"
        ]
        hashrate = [
            s
            for s in states
            if s["entity_id"].startswith("sensor.")
            and s["entity_id"].endswith("_hashrate")
            and "expected" not in s["entity_id"]
            and "board" not in s["entity_id"]
        ]
        if len(power) == 3 and all(_numeric(s) and float(s["state"]) > 0 for s in power + hashrate):
            break
        assert time.monotonic() < deadline, (power, hashrate)
        time.sleep(1)
    assert len(hashrate) == 3
    # One of each family, each live: its own power and hashrate.
    for family in FAMILIES:
        prefix = demo.entity_prefix(family)
        assert [s for s in power if s["entity_id"].startswith(f"sensor.{prefix}_")], family
        assert [s for s in hashrate if s["entity_id"] == f"sensor.{prefix}_hashrate"], family

    # The mining switch, where the firmware can stop: the Bitaxe pauses, the Antminer sleeps;
    # the Avalon Nano 3s's firmware has no soft off, so it has no switch.
    switches = {s["entity_id"] for s in states if s["entity_id"].startswith("switch.")}
    assert f"switch.{demo.entity_prefix('avalon_nano')}_mining" not in switches, switches
    for family, ip, stopped in (
        ("bitaxe", f"{demo.prefix}2", lambda status: status["paused"] is True),
        ("antminer", f"{demo.prefix}4", lambda status: status["hashing"] is False),
    ):
        switch = f"switch.{demo.entity_prefix(family)}_mining"
        assert switch in switches, switches
        _post(f"{base}/api/services/switch/turn_off", {"entity_id": switch}, token)
        miner = _get(f"http://{demo.status}/miners/{ip}")
        assert stopped(miner["status"]), miner
        assert _get(f"{base}/api/states/{switch}", token)["state"] == "off"
        _post(f"{base}/api/services/switch/turn_on", {"entity_id": switch}, token)
        miner = _get(f"http://{demo.status}/miners/{ip}")
        assert not stopped(miner["status"]), miner
        assert _get(f"{base}/api/states/{switch}", token)["state"] == "on"


def _check_plan(demo: Demo) -> None:
    base, token = demo.base, demo.token
    entries = _get(f"{base}/api/config/config_entries/entry?domain=home_miner", token)
    plans = [e for e in entries if e["title"] == "Demo plan"]
    assert len(entries) == 4, entries
    assert len(plans) == 1, entries
    assert plans[0]["state"] == "loaded", plans

    def state(entity_id: str) -> dict[str, Any]:
        return dict(_get(f"{base}/api/states/{entity_id}", token))

    assert state(f"switch.{PLAN}_automatic_curtailment")["state"] == "on"
    assert state(f"binary_sensor.{PLAN}_curtailed")["state"] == "off"
    assert state(f"sensor.{PLAN}_curtailment_reason")["state"] == "none"
    assert state(f"sensor.{PLAN}_current_price")["state"] == state(PRICE)["state"]
    calendar = state(f"calendar.{PLAN}_curtailment_windows")
    assert calendar["attributes"]["message"] == "Time-of-use peak", calendar

    # The schedule: the TOU peak an hour from now, and the VTN's event (SIMPLE level 2)
    # 7 minutes after it, each lasting 3 minutes.
    answer = _post(
        f"{base}/api/services/home_miner/get_schedule?return_response",
        {"config_entry_id": plans[0]["entry_id"]},
        token,
    )
    windows = [
        (w["reason"], datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
        for w in answer["service_response"]["windows"]
    ]
    peak = next(w for w in windows if w[0] == "tou_peak")
    event = next(w for w in windows if w[0] == "dr_event")
    in_peak = (peak[1] - datetime.now(peak[1].tzinfo)).total_seconds()
    assert PEAK_IN - 150 < in_peak < PEAK_IN + 60, windows
    assert peak[2] - peak[1] == timedelta(minutes=3), windows
    assert event[1] - peak[1] == timedelta(minutes=7), windows
    assert event[2] - event[1] == timedelta(minutes=3), windows


def _check_price_curtails_and_resumes(demo: Demo) -> None:
    base, token = demo.base, demo.token
    before = {m["family"]: m for m in _get(f"http://{demo.status}/miners")["miners"]}
    assert before["avalon_nano"]["work_level"] > 0, before
    assert before["bitaxe"]["paused"] is False, before
    assert before["antminer"]["hashing"] is True, before
    _post(f"{base}/api/services/input_number/set_value", {"entity_id": PRICE, "value": 0.45}, token)

    def curtailed() -> dict[str, Any] | None:
        state = _get(f"{base}/api/states/binary_sensor.{PLAN}_curtailed", token)
        return dict(state) if state["state"] == "on" else None

    state = _wait("the plan curtails", curtailed)
    assert len(state["attributes"]["miners"]) == 3, state
    reason = _get(f"{base}/api/states/sensor.{PLAN}_curtailment_reason", token)
    assert reason["state"] == "price_above_threshold"

    def fleet() -> dict[str, dict[str, Any]]:
        return {m["family"]: m for m in _get(f"http://{demo.status}/miners")["miners"]}

    def curtailed_miners() -> list[dict[str, Any]] | None:
        """The fleet once the Bitaxe is paused, the Antminer stopped and the Avalon Nano 3s
        (its firmware cannot stop) at its lowest level."""
        miners = fleet()
        done = (
            miners["bitaxe"]["paused"] is True
            and miners["antminer"]["hashing"] is False
            and miners["avalon_nano"]["work_level"] == 0
        )
        return list(miners.values()) if done else None

    _wait("every simulated miner curtailed", curtailed_miners)

    # Back below the threshold (less the hysteresis): the window ends, and every miner runs
    # again as before, once the plan's minimum off time (1 minute) has passed, one by one
    # (5 s apart).
    _post(f"{base}/api/services/input_number/set_value", {"entity_id": PRICE, "value": 0.10}, token)

    def resumed() -> dict[str, Any] | None:
        state = _get(f"{base}/api/states/binary_sensor.{PLAN}_curtailed", token)
        return dict(state) if state["state"] == "off" else None

    _wait("the plan resumes", resumed, timeout=120)
    reason = _get(f"{base}/api/states/sensor.{PLAN}_curtailment_reason", token)
    assert reason["state"] == "none", reason

    def resumed_miners() -> list[dict[str, Any]] | None:
        miners = fleet()
        done = (
            miners["bitaxe"]["paused"] is False
            and miners["antminer"]["hashing"] is True
            and miners["avalon_nano"]["work_level"] == before["avalon_nano"]["work_level"]
        )
        return list(miners.values()) if done else None

    _wait("every simulated miner running again", resumed_miners, timeout=60)
