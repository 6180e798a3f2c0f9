"""The demo, end to end: a real Home Assistant with the three simulated miners and a plan.

Runs `scripts/demo.py` headless (its own ports and addresses, its TOU peak an hour away so
nothing scheduled happens meanwhile), then checks over Home Assistant's REST API that every
miner reports live power and hashrate, that turning a mining switch off really stops the
simulated miner, that the demo's curtailment plan is set up with its TOU peak and the demo
VTN's OpenADR event in its schedule, and that moving the demo's price above the threshold
curtails: the plan says so and every simulated miner stops.

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
import socket
import subprocess
import sys
import threading
import time
from typing import Any
import urllib.request

import pytest

ROOT = Path(__file__).resolve().parent.parent
PEAK_IN = 3600
PLAN = "demo_plan"
PRICE = "input_number.electricity_price"


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


@dataclass(frozen=True)
class Demo:
    base: str
    token: str
    status: str
    prefix: str


@pytest.fixture
def demo(tmp_path: Path, loopback: None) -> Iterator[Demo]:
    config = tmp_path / "config"
    prefix = _free_subnet()
    port = _free_port("127.0.0.1")
    status = f"{prefix}1:{_free_port(f'{prefix}1')}"
    fleet = f"bitaxe@{prefix}2,avalon_nano@{prefix}3,antminer@{prefix}4"
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo.py"),
            "--port",
            str(port),
            "--fleet",
            fleet,
            "--status",
            status,
            "--config",
            str(config),
            "--exit-after",
            "300",
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
    _check_live_miners_and_switch(demo)
    _check_plan(demo)
    _check_price_curtails(demo)


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

    bitaxe_switch = next(
        s["entity_id"]
        for s in states
        if s["entity_id"].startswith("switch.") and "bitaxe" in s["entity_id"]
    )
    _post(f"{base}/api/services/switch/turn_off", {"entity_id": bitaxe_switch}, token)
    miner = _get(f"http://{demo.status}/miners/{demo.prefix}2")
    assert miner["status"]["paused"] is True, miner
    assert _get(f"{base}/api/states/{bitaxe_switch}", token)["state"] == "off"
    _post(f"{base}/api/services/switch/turn_on", {"entity_id": bitaxe_switch}, token)
    miner = _get(f"http://{demo.status}/miners/{demo.prefix}2")
    assert miner["status"]["paused"] is False, miner


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


def _check_price_curtails(demo: Demo) -> None:
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

    def curtailed_miners() -> list[dict[str, Any]] | None:
        """The fleet once the Bitaxe is paused, the Antminer stopped and the Avalon Nano 3s
        (its firmware cannot stop) at its lowest level."""
        fleet = {m["family"]: m for m in _get(f"http://{demo.status}/miners")["miners"]}
        done = (
            fleet["bitaxe"]["paused"] is True
            and fleet["antminer"]["hashing"] is False
            and fleet["avalon_nano"]["work_level"] == 0
        )
        return list(fleet.values()) if done else None

    _wait("every simulated miner curtailed", curtailed_miners)
