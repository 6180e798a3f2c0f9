"""The demo as tests run it: `scripts/demo` on ports and addresses of its own, and small
HTTP helpers for Home Assistant's REST API and the simulators' status endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

ROOT = Path(__file__).resolve().parent.parent


def get(url: str, token: str | None = None) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())


def post(url: str, body: dict[str, Any], token: str) -> Any:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.loads(response.read())


def free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_subnet() -> str:
    """A 127.0.N. prefix whose miner addresses (.2-.4, ports 80 and 4028) are all free."""
    for _ in range(50):
        prefix = f"127.0.{random.randint(100, 250)}."
        if all(free(f"{prefix}{i}", port) for i in (2, 3, 4) for port in (80, 4028)):
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


@contextmanager
def run_demo(tmp_path: Path, *extra: str) -> Iterator[Demo]:
    """`scripts/demo` on ports and addresses of its own, until it says it is running."""
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
    prefix = free_subnet()
    port = free_port("127.0.0.1")
    status = f"{prefix}1:{free_port(f'{prefix}1')}"
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
            *extra,
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
            if not line:
                # End of its output: it exited (or is exiting); what it printed stays shown.
                if process.poll() is not None:
                    break
                time.sleep(0.1)
                continue
            lines.append(line)
            if "demo is running" in line:
                break
        assert any("demo is running" in line for line in lines), "".join(lines[-40:])
        output = [line.rstrip("\n") for line in lines]
        # Keep reading what it prints, so a full pipe never blocks it.
        threading.Thread(
            target=lambda: output.extend(line.rstrip("\n") for line in process.stdout or ()),
            daemon=True,
        ).start()
        yield Demo(
            base=f"http://127.0.0.1:{port}",
            token=(config / "demo_token").read_text(),
            status=status,
            prefix=prefix,
            config=config,
            output=output,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def wait(what: str, check: Callable[[], Any], timeout: float = 20) -> Any:
    """Poll until `check()` is truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what}: {found}"
        time.sleep(0.25)
    return found
