"""Run a fleet of simulated miners until interrupted.

    python -m tests.simulator --fleet 127.0.0.2-127.0.0.12 \\
        [--families bitaxe,avalon_nano,antminer] [--status 127.0.0.1:8099]

Each miner binds its own loopback address (ports 80 and/or 4028, so run it as a user that may
bind them). The table of what runs where is printed on start; the status endpoint shows every
miner's state and command log and accepts fault injection (see `tests/simulator/fleet.py`).
SIGINT or SIGTERM stops the fleet cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time

from . import FAMILIES
from .fleet import DEFAULT_FAMILIES, Fleet


def _status_address(value: str) -> tuple[str, int] | None:
    if value.lower() in ("", "none", "off"):
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 127.0.0.1:8099, or 'none'")
    return host, int(port)


def _families(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in FAMILIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown families {unknown}; known: {', '.join(FAMILIES)}"
        )
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulator",
        description="Simulated home miners that pyasic cannot tell from real hardware.",
    )
    parser.add_argument(
        "--fleet",
        default="127.0.0.2-127.0.0.12",
        help="addresses: '127.0.0.2-127.0.0.12', '127.0.0.2-12', 'antminer@127.0.0.20', "
        "'bitaxe:NerdQAxe++@127.0.0.21', comma-separated (default: %(default)s)",
    )
    parser.add_argument(
        "--families",
        type=_families,
        default=list(DEFAULT_FAMILIES),
        help="families assigned in turn to addresses without one (default: %(default)s)",
    )
    parser.add_argument(
        "--status",
        type=_status_address,
        default=("127.0.0.1", 8099),
        help="HOST:PORT of the status endpoint, or 'none' (default: 127.0.0.1:8099)",
    )
    parser.add_argument(
        "--command-delay",
        type=float,
        default=None,
        help="seconds before a command takes effect (default: each family's own)",
    )
    parser.add_argument(
        "--same-model",
        action="store_true",
        help="give every miner of a family its default model instead of a mix",
    )
    parser.add_argument("--json", action="store_true", help="print the table as JSON lines")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    common = {} if args.command_delay is None else {"command_delay": args.command_delay}
    fleet = Fleet.from_spec(args.fleet, args.families, variants=not args.same_model, **common)
    started = time.monotonic()
    await fleet.start(status=args.status)
    elapsed = time.monotonic() - started
    if args.json:
        for row in fleet.rows():
            print(json.dumps(row))
    else:
        print(fleet.table())
    print(f"{len(fleet)} simulated miners started in {elapsed:.2f} s")
    if fleet.status_url:
        print(f"status: {fleet.status_url}")
    print("Ctrl-C (SIGINT) or SIGTERM stops the fleet.", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await fleet.stop()
    print("fleet stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except OSError as err:
        print(f"cannot start the fleet: {err}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"bad fleet spec: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
