"""The demo, end to end: a real Home Assistant with the three simulated miners added.

Runs `scripts/demo.py` headless (its own ports and addresses), then checks over Home
Assistant's REST API that every miner reports live power and hashrate, and that turning a
mining switch off really stops the simulated miner.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import subprocess
import sys
import time
from typing import Any
import urllib.request

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORT = 18123
STATUS = "127.0.8.1:18099"
FLEET = "bitaxe@127.0.8.2,avalon_nano@127.0.8.3,antminer@127.0.8.4"


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


@pytest.fixture
def demo(tmp_path: Path, loopback: None) -> Iterator[tuple[str, str]]:
    config = tmp_path / "config"
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo.py"),
            "--port",
            str(PORT),
            "--fleet",
            FLEET,
            "--status",
            STATUS,
            "--config",
            str(config),
            "--exit-after",
            "300",
        ],
        cwd=ROOT,
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
        yield f"http://127.0.0.1:{PORT}", (config / "demo_token").read_text()
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def _numeric(state: dict[str, Any]) -> bool:
    try:
        float(state["state"])
    except ValueError:
        return False
    return True


def test_demo_shows_live_miners_and_switch_stops_one(demo: tuple[str, str]) -> None:
    base, token = demo
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
    miner = _get(f"http://{STATUS}/miners/127.0.8.2")
    assert miner["status"]["paused"] is True, miner
    assert _get(f"{base}/api/states/{bitaxe_switch}", token)["state"] == "off"
