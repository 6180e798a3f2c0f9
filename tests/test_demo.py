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

from collections.abc import Iterator
from datetime import datetime, timedelta
import json
import os
from pathlib import Path
import signal
import time
from typing import Any

import pytest

from scripts.demo import websocket
from tests.demo_runner import FAMILIES, ROOT, Demo, get, post, run_demo, wait

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


@pytest.fixture
def demo(tmp_path: Path, loopback: None) -> Iterator[Demo]:
    with run_demo(tmp_path, "--peak-in", str(PEAK_IN)) as running:
        yield running


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
    _check_dashboard(demo)
    _check_price_curtails_and_resumes(demo)
    _check_log(demo)


def _log(demo: Demo) -> list[str]:
    return (demo.config / "home-assistant.log").read_text().splitlines()


def _check_release(demo: Demo) -> None:
    """The pinned release on Python 3.14, every configured integration set up, and nothing
    installed at the start: Home Assistant logs each install it attempts."""
    banner = next(line for line in demo.output if line.startswith("Home Assistant "))
    assert banner.startswith(f"Home Assistant {HA_VERSION} on Python 3.14."), banner
    config = get(f"{demo.base}/api/config", demo.token)
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
        states = get(f"{base}/api/states", token)
        power = [
            s
            for s in states
            if s["entity_id"].startswith("sensor.")
            and s["attributes"].get("device_class") == "power"
            and not s["entity_id"].startswith(f"sensor.{PLAN}_")
        ]
        hashrate = [
            s
            for s in states
            if s["entity_id"].startswith("sensor.")
            and s["entity_id"].endswith("_hashrate")
            and not s["entity_id"].startswith(f"sensor.{PLAN}_")
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
        post(f"{base}/api/services/switch/turn_off", {"entity_id": switch}, token)
        miner = get(f"http://{demo.status}/miners/{ip}")
        assert stopped(miner["status"]), miner
        assert get(f"{base}/api/states/{switch}", token)["state"] == "off"
        post(f"{base}/api/services/switch/turn_on", {"entity_id": switch}, token)
        miner = get(f"http://{demo.status}/miners/{ip}")
        assert not stopped(miner["status"]), miner
        assert get(f"{base}/api/states/{switch}", token)["state"] == "on"


def _check_plan(demo: Demo) -> None:
    base, token = demo.base, demo.token
    entries = get(f"{base}/api/config/config_entries/entry?domain=home_miner", token)
    plans = [e for e in entries if e["title"] == "Demo plan"]
    assert len(entries) == 4, entries
    assert len(plans) == 1, entries
    assert plans[0]["state"] == "loaded", plans

    def state(entity_id: str) -> dict[str, Any]:
        return dict(get(f"{base}/api/states/{entity_id}", token))

    assert state(f"switch.{PLAN}_automatic_curtailment")["state"] == "on"
    assert state(f"binary_sensor.{PLAN}_curtailed")["state"] == "off"
    assert state(f"sensor.{PLAN}_curtailment_reason")["state"] == "none"
    assert state(f"sensor.{PLAN}_current_price")["state"] == state(PRICE)["state"]
    calendar = state(f"calendar.{PLAN}_curtailment_windows")
    assert calendar["attributes"]["message"] == "Time-of-use peak", calendar

    # The schedule: the TOU peak an hour from now, and the VTN's event (SIMPLE level 2)
    # 7 minutes after it, each lasting 3 minutes.
    windows = _schedule(demo, plans[0]["entry_id"])
    peak = next(w for w in windows if w[0] == "tou_peak")
    event = next(w for w in windows if w[0] == "dr_event")
    in_peak = (peak[1] - datetime.now(peak[1].tzinfo)).total_seconds()
    assert PEAK_IN - 150 < in_peak < PEAK_IN + 60, windows
    assert peak[2] - peak[1] == timedelta(minutes=3), windows
    assert event[1] - peak[1] == timedelta(minutes=7), windows
    assert event[2] - event[1] == timedelta(minutes=3), windows


def _check_dashboard(demo: Demo) -> None:
    """The Overview dashboard the demo saved: a card per miner and for the plan, its
    calendar, and the power history."""
    answer = websocket(demo.base, demo.token, {"type": "lovelace/config"})
    assert answer["success"], answer
    cards = answer["result"]["views"][0]["cards"]
    titles = {card.get("title") for card in cards if card["type"] == "entities"}
    miners = {
        line.removeprefix("added ").rsplit(" (", 1)[0]
        for line in demo.output
        if line.startswith("added ") and "curtailment plan" not in line
    }
    assert titles >= {*miners, "Demo plan"}, (titles, miners)
    (calendar,) = [card for card in cards if card["type"] == "calendar"]
    assert calendar["entities"] == [f"calendar.{PLAN}_curtailment_windows"]
    (history,) = [card for card in cards if card["type"] == "history-graph"]
    assert f"sensor.{PLAN}_fleet_power" in history["entities"], history
    assert len(history["entities"]) >= len(miners) + 1


def _schedule(demo: Demo, entry_id: str) -> list[tuple[str, datetime, datetime]]:
    answer = post(
        f"{demo.base}/api/services/home_miner/get_schedule?return_response",
        {"config_entry_id": entry_id},
        demo.token,
    )
    return [
        (w["reason"], datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
        for w in answer["service_response"]["windows"]
    ]


def _fleet(demo: Demo) -> dict[str, dict[str, Any]]:
    return {m["family"]: m for m in get(f"http://{demo.status}/miners")["miners"]}


def _all_curtailed(miners: dict[str, dict[str, Any]]) -> bool:
    """The Bitaxe paused, the Antminer stopped and the Avalon Nano 3s (its firmware cannot
    stop) at its lowest level."""
    return (
        miners["bitaxe"]["paused"] is True
        and miners["antminer"]["hashing"] is False
        and miners["avalon_nano"]["work_level"] == 0
    )


def _check_price_curtails_and_resumes(demo: Demo) -> None:
    base, token = demo.base, demo.token
    before = {m["family"]: m for m in get(f"http://{demo.status}/miners")["miners"]}
    assert before["avalon_nano"]["work_level"] > 0, before
    assert before["bitaxe"]["paused"] is False, before
    assert before["antminer"]["hashing"] is True, before
    post(f"{base}/api/services/input_number/set_value", {"entity_id": PRICE, "value": 0.45}, token)

    def curtailed() -> dict[str, Any] | None:
        state = get(f"{base}/api/states/binary_sensor.{PLAN}_curtailed", token)
        return dict(state) if state["state"] == "on" else None

    state = wait("the plan curtails", curtailed)
    assert len(state["attributes"]["miners"]) == 3, state
    reason = get(f"{base}/api/states/sensor.{PLAN}_curtailment_reason", token)
    assert reason["state"] == "price_above_threshold"

    def curtailed_miners() -> list[dict[str, Any]] | None:
        miners = _fleet(demo)
        return list(miners.values()) if _all_curtailed(miners) else None

    wait("every simulated miner curtailed", curtailed_miners)

    # Back below the threshold (less the hysteresis): the window ends, and every miner runs
    # again as before, once the plan's minimum off time (1 minute) has passed, one by one
    # (5 s apart).
    post(f"{base}/api/services/input_number/set_value", {"entity_id": PRICE, "value": 0.10}, token)

    def resumed() -> dict[str, Any] | None:
        state = get(f"{base}/api/states/binary_sensor.{PLAN}_curtailed", token)
        return dict(state) if state["state"] == "off" else None

    wait("the plan resumes", resumed, timeout=120)
    reason = get(f"{base}/api/states/sensor.{PLAN}_curtailment_reason", token)
    assert reason["state"] == "none", reason

    def resumed_miners() -> list[dict[str, Any]] | None:
        miners = _fleet(demo)
        done = (
            miners["bitaxe"]["paused"] is False
            and miners["antminer"]["hashing"] is True
            and miners["avalon_nano"]["work_level"] == before["avalon_nano"]["work_level"]
        )
        return list(miners.values()) if done else None

    wait("every simulated miner running again", resumed_miners, timeout=60)


# The restart test's timeline: a 2-minute TOU peak about 30 s after the plan is added.
RESTART_PEAK_IN = 30
RESTART_PEAK_MINUTES = 2


@pytest.fixture
def restarting_demo(tmp_path: Path, loopback: None) -> Iterator[Demo]:
    with run_demo(
        tmp_path,
        "--peak-in",
        str(RESTART_PEAK_IN),
        "--peak-minutes",
        str(RESTART_PEAK_MINUTES),
        "--restart-hass",
    ) as running:
        yield running


def test_demo_killed_mid_window(restarting_demo: Demo) -> None:
    """`kill -9` of Home Assistant in the middle of a TOU peak, just after the plan read a
    price of `inf`: Home Assistant comes back (the demo starts it again), the plan loads (an
    `inf` once poisoned its store: setup-retry for good, miners stranded), keeps the window
    through the restart (no miner runs mid-peak) and ends it on time (every miner mines
    again at the peak's end, one by one)."""
    demo = restarting_demo
    base, token = demo.base, demo.token
    (plan,) = [
        e
        for e in get(f"{base}/api/config/config_entries/entry?domain=home_miner", token)
        if e["title"] == "Demo plan"
    ]
    peak = next(w for w in _schedule(demo, plan["entry_id"]) if w[0] == "tou_peak")
    _, start, end = peak
    level = _fleet(demo)["avalon_nano"]["work_level"]
    assert level > 0

    def now() -> datetime:
        return datetime.now(start.tzinfo)

    wait(
        "the peak curtails every miner",
        lambda: now() >= start and _all_curtailed(_fleet(demo)),
        timeout=(start - now()).total_seconds() + 60,
    )
    price = f"{base}/api/states/{PRICE}"
    post(price, {"state": "inf", "attributes": {"unit_of_measurement": "EUR/kWh"}}, token)
    store = demo.config / ".storage" / f"home_miner.plan.{plan['entry_id']}"
    seen = store.stat().st_mtime
    # The plan read it (a missing price, not a number) and saved its state since.
    current = f"{base}/api/states/sensor.{PLAN}_current_price"
    wait("the plan reads it as missing", lambda: get(current, token)["state"] == "unknown")
    wait("the plan saves its state", lambda: store.stat().st_mtime > seen)
    json.loads(store.read_text())
    killed_at = now()
    assert killed_at < end - timedelta(seconds=45), "time left in the peak for the restart"
    os.kill(int((demo.config / "demo_hass.pid").read_text()), signal.SIGKILL)

    # Until Home Assistant answers again, and on to the peak's end, no miner runs.
    def back() -> bool:
        try:
            entries = get(f"{base}/api/config/config_entries/entry?domain=home_miner", token)
        except OSError:
            return False
        return any(e["entry_id"] == plan["entry_id"] and e["state"] == "loaded" for e in entries)

    while not back():
        assert _all_curtailed(_fleet(demo)), "a miner ran while Home Assistant was down"
        assert now() < end, "Home Assistant is not back within the peak"
        time.sleep(0.5)
    assert any("Home Assistant is back" in line for line in demo.output), demo.output[-5:]
    state = get(f"{base}/api/states/binary_sensor.{PLAN}_curtailed", token)
    assert state["state"] == "on", state
    reason = get(f"{base}/api/states/sensor.{PLAN}_curtailment_reason", token)
    assert reason["state"] == "tou_peak", reason
    while now() < end - timedelta(seconds=1):
        assert _all_curtailed(_fleet(demo)), f"a miner ran mid-peak, at {now()}"
        time.sleep(0.5)

    def mining() -> bool:
        miners = _fleet(demo)
        return (
            miners["bitaxe"]["paused"] is False
            and miners["antminer"]["hashing"] is True
            and miners["avalon_nano"]["work_level"] == level
        )

    # The stagger is 5 s; a miner's poll (15 s) may come between.
    wait("every miner mining again at the peak's end", mining, timeout=45)
    log = _log(demo)
    errors = [
        line
        for line in log
        if " ERROR " in line
        and "home_miner" in line
        and not any(allowed in line for allowed in ALLOWED_ERRORS)
    ]
    assert not errors, errors
    failed = [line for line in log if "Setup failed for" in line or "Unable to set up" in line]
    assert not failed, failed
