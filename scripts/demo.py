"""The demo: simulated miners plus a real Home Assistant with Home Miner, ready to open.

1. starts a simulated fleet (a Bitaxe, an Avalon Nano 3s, an Antminer) on loopback;
2. writes a demo configuration (only local integrations: nothing talks to the internet; the
   network adapter set to loopback, so mDNS opens no multicast socket) and starts Home
   Assistant on it, as `hass` from this interpreter's venv (`scripts/demo` runs this in
   `.venv-demo`, whose pinned requirements hold everything Home Assistant would install);
3. onboards it (the demo login below), confirms its HTTP settings (Home Assistant would
   otherwise go back to its defaults after 5 minutes), and adds every miner through Home
   Assistant's own config-flow HTTP API, as the UI does;
4. serves a small OpenADR 3 VTN on 127.0.0.1 with one demand-response event, and adds a
   curtailment plan through the same API: the three miners, a time-of-use peak starting about
   two minutes from now, the demo's price (`input_number.electricity_price`) with a fixed
   threshold, and the VTN;
5. prints the URL, the login and the timeline, then runs until Ctrl-C, raising the price
   above the threshold and lowering it again when the timeline says.

Timeline, from the start of the TOU peak P (`--peak-in`, default about 2 minutes from now):
P..P+3 min TOU peak (`--peak-minutes`); 1 to 3 minutes after it the price above the
threshold; 4 to 7 minutes after it an OpenADR event, SIMPLE level 2. `--exit-after` stops
everything by itself after that many seconds, and `--restart-hass` starts Home Assistant
again whenever it exits (tests).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import version
import json
import os
from pathlib import Path
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# The venv's own interpreter (not resolved: its `hass` sits next to it) runs everything.
PYTHON = sys.executable
HASS = Path(PYTHON).parent / "hass"
USERNAME = "demo"
PASSWORD = "demo-miner"
CLIENT_ID = "http://127.0.0.1/"


def machine_time_zone() -> str:
    """This machine's time zone (a browser on it shows the UI's times in it), else
    Amsterdam's, where the demo's home is."""
    try:
        link = os.readlink("/etc/localtime")
    except OSError:
        link = ""
    name = link.partition("zoneinfo/")[2]
    if not name and Path("/etc/timezone").exists():
        name = Path("/etc/timezone").read_text().strip()
    try:
        ZoneInfo(name)
    except ValueError, OSError:
        return "Europe/Amsterdam"
    return name


# Home Assistant's time zone is this machine's, so the printed timeline, the UI (which shows
# a browser's own zone by default) and the calendar agree; its test sets UTC.
TIME_ZONE = os.environ.get("DEMO_TIME_ZONE") or machine_time_zone()
TZ = ZoneInfo(TIME_ZONE)

PLAN_NAME = "Demo plan"
PRICE_ENTITY = "input_number.electricity_price"
PRICE_UNIT = "EUR/kWh"
PRICE_NORMAL = 0.21
PRICE_HIGH = 0.42
PRICE_WOBBLE = 0.28  # below the threshold, but not by the hysteresis: still curtailed
PRICE_LOW = 0.18
THRESHOLD = 0.30
HYSTERESIS = 0.05
VTN_CREDENTIALS = ("demo-ven", "demo-secret")
VTN_PROGRAM = "demo-program"
VTN_LEVEL = 2  # SIMPLE level 2: the fleet at half its full power
# Safety settings of the demo plan: short, so that windows a minute apart all happen.
SAFETY = {
    "min_on_minutes": 0.5,
    "min_off_minutes": 1,
    "restart_stagger_seconds": 5,
    "max_length_minutes": 30,
    "observe_only": False,
}
# The miners' curtailed action and priority (a lower number comes back first), by family.
MINER_ACTIONS = {
    "bitaxe": {"action": "stop", "priority": 1},
    "avalon_nano": {"action": "stop", "priority": 2},
    "antminer": {"action": "stop", "priority": 3},
}

CONFIGURATION = """\
homeassistant:
  name: Home Miner demo
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  currency: EUR
  country: NL
  time_zone: {time_zone}
  internal_url: "http://{host}:{port}"

http:
  server_host: {host}
  server_port: {port}

# Local integrations only: no default_config, so nothing is discovered on or sent to a network.
api:
config:
frontend:
history:
logbook:
energy:
person:
onboarding:
system_log:

# The electricity price the demo plan reads; the demo moves it (drag it yourself, too).
input_number:
  electricity_price:
    name: Electricity price
    icon: mdi:cash
    min: 0
    max: 1
    step: 0.01
    initial: {price}
    unit_of_measurement: {price_unit}
    mode: slider

logger:
  default: warning
  logs:
    custom_components.home_miner: info
    # Every package Home Assistant installs is logged ("Attempting install of"): the demo's
    # pinned requirements should leave it nothing to install.
    homeassistant.util.package: info
"""

# Onboarding steps other than creating the user are marked done beforehand: the core-config
# step would otherwise set up weather and radio integrations that call the internet.
ONBOARDING = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config", "analytics", "integration"]},
}


def network_storage() -> dict[str, Any]:
    """Home Assistant's network settings with only the loopback adapter enabled.

    Zeroconf (which every aiohttp session of Home Assistant's starts for its mDNS resolver)
    then joins no multicast group: the demo needs no multicast, and announces nothing on a
    network. With no adapter configured, on a loopback without multicast (a private network
    namespace) joining the group fails with ENODEV and no miner could be added.
    """
    import ifaddr  # noqa: PLC0415 - Home Assistant's, in the demo's venv

    names = [
        adapter.nice_name
        for adapter in ifaddr.get_adapters()
        if any(not ip.is_IPv6 and str(ip.ip).startswith("127.") for ip in adapter.ips)
    ]
    return {
        "version": 1,
        "minor_version": 1,
        "key": "core.network",
        "data": {"configured_adapters": names[:1] or ["lo"]},
    }


def request(
    url: str,
    data: dict[str, Any] | None = None,
    token: str | None = None,
    form: bool = False,
    method: str | None = None,
) -> Any:
    headers = {}
    body = None
    if data is not None:
        if form:
            body = "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in data.items()).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


def wait_for(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"process exited with {process.returncode} before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2)
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.5)
            continue
        return
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def write_config(config: Path, host: str, port: int) -> None:
    if config.exists():
        shutil.rmtree(config)
    (config / ".storage").mkdir(parents=True)
    (config / "configuration.yaml").write_text(
        CONFIGURATION.format(
            host=host,
            port=port,
            time_zone=TIME_ZONE,
            price=PRICE_NORMAL,
            price_unit=PRICE_UNIT,
        )
    )
    (config / ".storage" / "onboarding").write_text(json.dumps(ONBOARDING))
    (config / ".storage" / "core.network").write_text(json.dumps(network_storage()))
    (config / "custom_components").mkdir()
    (config / "custom_components" / "home_miner").symlink_to(
        ROOT / "custom_components" / "home_miner"
    )


def websocket(base: str, token: str, command: dict[str, Any]) -> dict[str, Any]:
    """Send one command over Home Assistant's WebSocket API; return its answer."""
    import aiohttp  # noqa: PLC0415 - Home Assistant's, in the demo's venv

    async def call() -> dict[str, Any]:
        async with (
            asyncio.timeout(30),
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{base.replace('http', 'ws', 1)}/api/websocket") as ws,
        ):
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": token})
            if (answer := await ws.receive_json()).get("type") != "auth_ok":
                raise SystemExit(f"the WebSocket API refused the login: {answer}")
            await ws.send_json({"id": 1, **command})
            return dict(await ws.receive_json())

    return asyncio.run(call())


def confirm_http_config(base: str, token: str) -> None:
    """Confirm the HTTP settings (configuration.yaml's `http:`), as the UI asks the user to.

    Newer releases (2026.10 and 2026.11 do, 2026.5 does not) move them into their storage at
    the first start as a pending configuration, to be confirmed: unconfirmed after 5 minutes,
    it goes back to the defaults (every interface, port 8123) and Home Assistant restarts,
    which would end the demo. A release without the command has nothing to confirm.
    """
    answer = websocket(base, token, {"type": "http/config/promote"})
    error = answer.get("error") or {}
    if not answer.get("success") and error.get("code") != "unknown_command":
        raise SystemExit(f"could not confirm the HTTP settings: {answer}")


def onboard(base: str) -> dict[str, Any]:
    """Create the demo user; return its tokens (access and refresh)."""
    answer = request(
        f"{base}/api/onboarding/users",
        {
            "client_id": CLIENT_ID,
            "name": "Demo",
            "username": USERNAME,
            "password": PASSWORD,
            "language": "en",
        },
    )
    tokens = request(
        f"{base}/auth/token",
        {"grant_type": "authorization_code", "code": answer["auth_code"], "client_id": CLIENT_ID},
        form=True,
    )
    return dict(tokens)


def refresh(base: str, refresh_token: str) -> str:
    """A new access token (they last 30 minutes; the demo runs longer)."""
    tokens = request(
        f"{base}/auth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": CLIENT_ID},
        form=True,
    )
    return str(tokens["access_token"])


def add_miner(base: str, token: str, host: str) -> dict[str, Any]:
    """Add one miner exactly as the UI does: menu → Enter its address → host."""
    flow = f"{base}/api/config/config_entries/flow"
    result = request(flow, {"handler": "home_miner", "show_advanced_options": False}, token)
    result = request(f"{flow}/{result['flow_id']}", {"next_step_id": "host"}, token)
    result = request(f"{flow}/{result['flow_id']}", {"host": host}, token)
    if result.get("type") != "create_entry":
        raise SystemExit(f"adding {host} failed: {result}")
    return dict(result)


@dataclass(frozen=True)
class Timeline:
    """When the demo plan curtails, on the wall clock of Home Assistant's time zone."""

    peak_start: datetime
    peak_end: datetime
    price_high: datetime
    price_wobble: datetime
    price_low: datetime
    event_start: datetime
    event_end: datetime

    @classmethod
    def starting_in(cls, seconds: float, peak_minutes: int = 3) -> Timeline:
        """The TOU peak on the whole minute nearest `seconds` from now (bands are minutes),
        `peak_minutes` long; the rest follows it."""
        start = datetime.now(TZ) + timedelta(seconds=seconds + 30)
        start = start.replace(second=0, microsecond=0)
        after = (0, 1, 2, 3, 4, 7)
        minutes = [start, *(start + timedelta(minutes=peak_minutes + m) for m in after)]
        return cls(*minutes)

    def price_changes(self) -> list[tuple[datetime, float]]:
        return [
            (self.price_high, PRICE_HIGH),
            (self.price_wobble, PRICE_WOBBLE),
            (self.price_low, PRICE_LOW),
        ]

    def describe(self) -> str:
        def hm(moment: datetime) -> str:
            return moment.strftime("%H:%M")

        pad = " " * 17
        return "\n".join(
            [
                f"  What the plan does ({TIME_ZONE} time, Home Assistant's and this machine's;"
                f" now {hm(datetime.now(TZ))}):",
                f"    {hm(self.peak_start)}-{hm(self.peak_end)}  TOU peak (tou_peak): the Bitaxe "
                "and the Antminer stop, the Avalon Nano 3s",
                f"{pad}(its firmware cannot stop) drops to its lowest level; then they come back",
                f"{pad}one by one, {SAFETY['restart_stagger_seconds']} s apart",
                f"    {hm(self.price_high)}        price {PRICE_HIGH:.2f} {PRICE_UNIT}, above the "
                f"{THRESHOLD:.2f} threshold: curtailed (price_above_threshold)",
                f"    {hm(self.price_wobble)}        price {PRICE_WOBBLE:.2f}: still curtailed "
                f"(hysteresis {HYSTERESIS:.2f})",
                f"    {hm(self.price_low)}        price {PRICE_LOW:.2f}: the window ends",
                f"    {hm(self.event_start)}-{hm(self.event_end)}  OpenADR 3 event from the demo "
                f"VTN, SIMPLE level {VTN_LEVEL} (dr_event): half",
                f"{pad}the fleet's power, least efficient first: the Antminer stops, the others",
                f"{pad}hash on",
                "  Watch it: the Overview dashboard (every miner, the plan, its calendar and"
                " power), Settings → Devices & services → Home Miner, or the Logbook.",
                f"  Move the price yourself: {PRICE_ENTITY} (its slider in Settings → Entities).",
            ]
        )


class DemoVtn:
    """The OpenADR 3 VTN of the tests (`tests.curtailment.vtn`) on 127.0.0.1, in a thread."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._vtn: Any = None

    async def _start(self) -> str:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from tests.curtailment.openapi import Validator, load_spec  # noqa: PLC0415
        from tests.curtailment.vtn import Vtn, event, interval, program  # noqa: PLC0415

        start = self.timeline.event_start.astimezone(ZoneInfo("UTC"))
        minutes = int((self.timeline.event_end - self.timeline.event_start).total_seconds() // 60)
        self._vtn = Vtn(
            validator=Validator(load_spec()),
            credentials=VTN_CREDENTIALS,
            programs=[program("p-demo", VTN_PROGRAM)],
            events=[
                event(
                    "e-demo",
                    "p-demo",
                    [interval(0, "SIMPLE", VTN_LEVEL)],
                    eventName="Grid stress",
                    intervalPeriod={
                        "start": start.isoformat().replace("+00:00", "Z"),
                        "duration": f"PT{minutes}M",
                    },
                )
            ],
        )
        await self._vtn.start()
        return str(self._vtn.base_url)

    def start(self) -> str:
        self._thread.start()
        self.base_url = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self.base_url

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        if self._vtn is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._vtn.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def add_plan(
    base: str, token: str, families: dict[str, str], timeline: Timeline, vtn_url: str
) -> dict[str, Any]:
    """Add the demo plan as the UI does: menu → Add a curtailment plan → its forms.

    `families` maps a miner's title (as the plan form lists it) to its simulator family.
    """
    flow = f"{base}/api/config/config_entries/flow"
    result = request(flow, {"handler": "home_miner", "show_advanced_options": False}, token)
    result = request(f"{flow}/{result['flow_id']}", {"next_step_id": "plan"}, token)
    # The miners the form offers: the object selector's "miner" field lists them.
    (field,) = [f for f in result["data_schema"] if f["name"] == "miners"]
    offered = field["selector"]["object"]["fields"]["miner"]["selector"]["select"]["options"]
    miners = [
        {"miner": option["value"], **MINER_ACTIONS.get(families.get(option["label"], ""), {})}
        for option in offered
    ]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("plan", {"name": PLAN_NAME, "miners": miners}),
        ("plan_tou", {"tou_mode": "bands"}),
        (
            "plan_tou_bands",
            {
                "bands": [
                    {
                        "label": "peak",
                        "start": timeline.peak_start.strftime("%H:%M"),
                        "end": timeline.peak_end.strftime("%H:%M"),
                        "price": 0.45,
                    }
                ],
                "peak_labels": ["peak"],
            },
        ),
        (
            "plan_price",
            {
                "price_entity": PRICE_ENTITY,
                "price_preset": "none",
                "threshold_mode": "fixed",
                "threshold": THRESHOLD,
                "hysteresis": HYSTERESIS,
                "on_missing_price": "run",
            },
        ),
        (
            "plan_dr",
            {
                "vtn_url": vtn_url,
                "vtn_client_id": VTN_CREDENTIALS[0],
                "vtn_client_secret": VTN_CREDENTIALS[1],
                "vtn_program": VTN_PROGRAM,
            },
        ),
        ("plan_house", {}),
        ("plan_safety", SAFETY),
    ]
    for step_id, data in steps:
        if result.get("type") != "form" or result.get("step_id") != step_id or result["errors"]:
            raise SystemExit(f"adding the plan: expected the form {step_id}, got {result}")
        result = request(f"{flow}/{result['flow_id']}", data, token)
    if result.get("type") != "create_entry":
        raise SystemExit(f"adding the plan failed: {result}")
    return dict(result)


def add_dashboard(base: str, token: str) -> None:
    """The Overview dashboard: a card per miner and for the plan (each device's entities but
    its diagnostics), the plan's calendar, and an hour of every power sensor, saved over
    Home Assistant's WebSocket API as the dashboard editor does."""
    entities = websocket(base, token, {"type": "config/entity_registry/list"})["result"]
    devices = websocket(base, token, {"type": "config/device_registry/list"})["result"]
    names = {d["id"]: d.get("name_by_user") or d["name"] for d in devices}
    states = {s["entity_id"]: s for s in request(f"{base}/api/states", token=token)}
    ours = [
        e
        for e in entities
        if e["platform"] == "home_miner"
        and not e.get("disabled_by")
        and not e.get("hidden_by")
        and e["entity_id"] in states
    ]
    by_device: dict[str, list[str]] = {}
    for entity in ours:
        if entity.get("entity_category") is None:
            by_device.setdefault(entity["device_id"], []).append(entity["entity_id"])
    cards: list[dict[str, Any]] = [
        {"type": "entities", "title": names.get(device_id, ""), "entities": sorted(ids)}
        for device_id, ids in sorted(by_device.items(), key=lambda item: names.get(item[0], ""))
    ]
    calendars = sorted(e["entity_id"] for e in ours if e["entity_id"].startswith("calendar."))
    power = sorted(
        e["entity_id"]
        for e in ours
        if states[e["entity_id"]]["attributes"].get("device_class") == "power"
    )
    cards.append({"type": "calendar", "entities": calendars, "initial_view": "listWeek"})
    cards.append({"type": "history-graph", "title": "Power", "hours_to_show": 1, "entities": power})
    config = {
        "title": "Home Miner demo",
        "views": [{"title": "Home Miner", "path": "home-miner", "cards": cards}],
    }
    answer = websocket(base, token, {"type": "lovelace/config/save", "config": config})
    if not answer.get("success"):
        raise SystemExit(f"could not save the demo's dashboard: {answer}")


def set_price(base: str, token: str, price: float) -> None:
    request(
        f"{base}/api/services/input_number/set_value",
        {"entity_id": PRICE_ENTITY, "value": price},
        token,
    )


def release_requirements() -> list[str]:
    """The demo's packages as the Home Assistant release installed here asks for them.

    For `scripts/demo --ha VERSION`: each package of requirements_demo.txt's first part (which
    holds the pinned release's) as one of this release's integrations or login modules
    requires it, else by name if the release's package_constraints.txt has it, else left out
    (this release does not use it); and Home Miner's own requirements.
    """
    import homeassistant  # noqa: PLC0415 - only in the demo's venv
    from packaging.requirements import Requirement  # noqa: PLC0415
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    package = Path(homeassistant.__file__).parent
    asked: dict[str, str] = {}
    for manifest in sorted((package / "components").glob("*/manifest.json")):
        for requirement in json.loads(manifest.read_text()).get("requirements", []):
            asked.setdefault(canonicalize_name(Requirement(requirement).name), requirement)
    for module in sorted((package / "auth" / "mfa_modules").glob("*.py")):
        if found := re.search(r"^REQUIREMENTS = (\[.*?\])", module.read_text(), re.M | re.S):
            for requirement in ast.literal_eval(found[1]):
                asked.setdefault(canonicalize_name(Requirement(requirement).name), requirement)
    constraints = package / "package_constraints.txt"
    constrained = {
        canonicalize_name(Requirement(line).name)
        for line in (constraints.read_text().splitlines() if constraints.exists() else [])
        if line.strip() and not line.startswith("#")
    }
    text = (ROOT / "requirements_demo.txt").read_text()
    first_part = text.split("# -- end of part 1 --")[0]
    wanted = []
    for line in first_part.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name = canonicalize_name(Requirement(line).name)
        if name in ("homeassistant", "pyasic"):
            continue
        if name in asked:
            wanted.append(asked[name])
        elif name in constrained:
            wanted.append(name)
    manifest = json.loads((ROOT / "custom_components" / "home_miner" / "manifest.json").read_text())
    return [*wanted, *manifest["requirements"]]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="scripts/demo, which runs this in the demo's venv, also takes --ha VERSION "
        "(another Home Assistant release, in .venv-demo-VERSION) and --install-only.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="Home Assistant's address")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument(
        "--fleet",
        default="bitaxe@127.0.0.2,avalon_nano@127.0.0.3,antminer@127.0.0.4",
        help="the simulated miners (default: %(default)s)",
    )
    parser.add_argument("--status", default="127.0.0.1:8099", help="simulator status endpoint")
    parser.add_argument("--config", type=Path, default=ROOT / "demo" / "config")
    parser.add_argument(
        "--exit-after", type=float, default=None, help="stop by itself after this many seconds"
    )
    parser.add_argument(
        "--peak-in",
        type=float,
        default=120,
        help="seconds from the plan's creation to its TOU peak; the price change and the "
        "OpenADR event follow it (default: %(default)s)",
    )
    parser.add_argument(
        "--peak-minutes", type=int, default=3, help="the TOU peak's length (default: %(default)s)"
    )
    parser.add_argument(
        "--restart-hass",
        action="store_true",
        help="start Home Assistant again on the same configuration whenever it exits (its "
        "pid is in CONFIG/demo_hass.pid; the fleet and the VTN keep running)",
    )
    parser.add_argument(
        "--release-requirements",
        action="store_true",
        help="print the demo's packages as this Home Assistant release asks for them, and exit "
        "(scripts/demo --ha installs them)",
    )
    return parser.parse_args(argv)


def start_fleet_and_hass(args: argparse.Namespace, children: list[subprocess.Popen[bytes]]) -> None:
    fleet = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "tests.simulator",
            "--fleet",
            args.fleet,
            "--status",
            args.status,
            "--same-model",
        ],
        cwd=ROOT,
    )
    children.append(fleet)
    wait_for(f"http://{args.status}/miners", 60, fleet)

    write_config(args.config, args.host, args.port)
    children.append(start_hass(args))


def start_hass(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """Home Assistant on the demo's configuration; its pid in the configuration folder."""
    command = [str(HASS)] if HASS.exists() else [PYTHON, "-m", "homeassistant"]
    hass = subprocess.Popen([*command, "-c", str(args.config)], cwd=ROOT)
    (args.config / "demo_hass.pid").write_text(str(hass.pid))
    wait_for(f"http://{args.host}:{args.port}/api/onboarding", 300, hass)
    return hass


def add_miners(base: str, token: str, status: str) -> dict[str, str]:
    """Add every simulated miner; return each one's family by its title."""
    miners = request(f"http://{status}/miners")
    families: dict[str, str] = {}
    for miner in miners["miners"] if isinstance(miners, dict) else []:
        entry = add_miner(base, token, miner["ip"])
        families[entry["title"]] = miner["family"]
        print(f"added {entry['title']} ({miner['ip']})", flush=True)
    return families


def run_timeline(
    base: str,
    refresh_token: str,
    timeline: Timeline,
    children: list[subprocess.Popen[bytes]],
    args: argparse.Namespace,
) -> None:
    """Move the price when the timeline says, until a child exits or time is up; with
    `--restart-hass`, Home Assistant exiting (killed, say) is started again instead."""
    pending = timeline.price_changes()
    deadline = None if args.exit_after is None else time.monotonic() + args.exit_after
    while True:
        if args.restart_hass and (code := children[-1].poll()) is not None:
            print(f"Home Assistant exited ({code}); starting it again", flush=True)
            children[-1] = start_hass(args)
            print(f"Home Assistant is back (pid {children[-1].pid})", flush=True)
        if any(child.poll() is not None for child in children):
            return
        if deadline is not None and time.monotonic() > deadline:
            return
        while pending and pending[0][0] <= datetime.now(TZ):
            _, price = pending.pop(0)
            try:
                set_price(base, refresh(base, refresh_token), price)
            except OSError as err:
                print(f"could not set the price to {price:.2f}: {err}", flush=True)
            else:
                print(f"{datetime.now(TZ):%H:%M:%S} price set to {price:.2f}", flush=True)
        time.sleep(0.5)


def stop(children: list[subprocess.Popen[bytes]], vtn: DemoVtn | None) -> None:
    if vtn is not None:
        vtn.stop()
    for child in reversed(children):
        if child.poll() is None:
            child.terminate()
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=20)
        if child.poll() is None:
            child.kill()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.release_requirements:
        print(*release_requirements(), sep="\n")
        return 0
    base = f"http://{args.host}:{args.port}"
    children: list[subprocess.Popen[bytes]] = []
    vtn: DemoVtn | None = None

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C even where SIGINT came in ignored (started in the background by a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(
        f"Home Assistant {version('homeassistant')} on Python {platform.python_version()} "
        f"({sys.prefix})",
        flush=True,
    )
    try:
        start_fleet_and_hass(args, children)
        tokens = onboard(base)
        token = str(tokens["access_token"])
        confirm_http_config(base, token)
        families = add_miners(base, token, args.status)

        timeline = Timeline.starting_in(args.peak_in, args.peak_minutes)
        vtn = DemoVtn(timeline)
        vtn_url = vtn.start()
        print(f"OpenADR 3 VTN at {vtn_url} (program {VTN_PROGRAM})", flush=True)
        plan = add_plan(base, token, families, timeline, vtn_url)
        print(f"added the curtailment plan {plan['title']}", flush=True)
        add_dashboard(base, token)
        (args.config / "demo_token").write_text(token)
        print(
            f"\nHome Miner demo is running.\n"
            f"  Open {base}  and log in as  {USERNAME} / {PASSWORD}\n"
            f"  Simulated miners: http://{args.status}/miners\n"
            f"{timeline.describe()}\n"
            f"  Ctrl-C stops everything.",
            flush=True,
        )
        run_timeline(base, str(tokens["refresh_token"]), timeline, children, args)
    except KeyboardInterrupt:
        pass
    finally:
        stop(children, vtn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
