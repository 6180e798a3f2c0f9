"""The demo: simulated miners plus a real Home Assistant with Home Miner, ready to open.

1. starts a simulated fleet (a Bitaxe, an Avalon Nano 3s, an Antminer) on loopback;
2. writes a demo configuration (only local integrations: nothing talks to the internet) and
   starts Home Assistant on it;
3. onboards it (the demo login below) and adds every miner through Home Assistant's own
   config-flow HTTP API, as the UI does;
4. prints the URL and the login, and runs until Ctrl-C.

`--headless` is the same without waiting for Ctrl-C when `--exit-after` is given (tests).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.request

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
USERNAME = "demo"
PASSWORD = "demo-miner"
CLIENT_ID = "http://127.0.0.1/"

CONFIGURATION = """\
homeassistant:
  name: Home Miner demo
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  currency: EUR
  country: NL
  time_zone: Europe/Amsterdam
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
logger:
  default: warning
  logs:
    custom_components.home_miner: info
"""

# Onboarding steps other than creating the user are marked done beforehand: the core-config
# step would otherwise set up weather and radio integrations that call the internet.
ONBOARDING = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config", "analytics", "integration"]},
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
            body = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in data.items()).encode()
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
    (config / "configuration.yaml").write_text(CONFIGURATION.format(host=host, port=port))
    (config / ".storage" / "onboarding").write_text(json.dumps(ONBOARDING))
    (config / "custom_components").mkdir()
    (config / "custom_components" / "home_miner").symlink_to(
        ROOT / "custom_components" / "home_miner"
    )


def onboard(base: str) -> str:
    """Create the demo user and return an access token."""
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    args = parser.parse_args(argv)

    base = f"http://{args.host}:{args.port}"
    children: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=20)
            if child.poll() is None:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
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
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        hass = subprocess.Popen(
            [PYTHON, str(ROOT / "scripts" / "run_hass.py"), "-c", str(args.config)],
            cwd=ROOT,
            env=env,
        )
        children.append(hass)
        wait_for(f"{base}/api/onboarding", 300, hass)
        token = onboard(base)
        miners = request(f"http://{args.status}/miners")
        hosts = [m["ip"] for m in miners["miners"]] if isinstance(miners, dict) else []
        for host in hosts:
            entry = add_miner(base, token, host)
            print(f"added {entry['title']} ({host})", flush=True)
        (args.config / "demo_token").write_text(token)
        print(
            f"\nHome Miner demo is running.\n"
            f"  Open {base}  and log in as  {USERNAME} / {PASSWORD}\n"
            f"  Simulated miners: http://{args.status}/miners\n"
            f"  Ctrl-C stops everything.",
            flush=True,
        )
        deadline = None if args.exit_after is None else time.monotonic() + args.exit_after
        while all(child.poll() is None for child in children):
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
