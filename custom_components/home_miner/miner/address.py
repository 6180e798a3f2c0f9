"""Whether a text can be a miner's address, or a subnet to scan: checked before any probe."""

from __future__ import annotations

import ipaddress
import re

MAX_HOSTNAME_LENGTH = 253  # RFC 1035
MAX_SCAN_ADDRESSES = 1024
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)
# "This network", multicast and reserved space: no miner can answer there.
_UNSCANNABLE = (ipaddress.IPv4Network("0.0.0.0/8"), ipaddress.IPv4Network("224.0.0.0/3"))


def host_error(host: str) -> str | None:
    """Why `host` cannot be a miner's address (the form's error key), or None if it can.

    Checked before any probe: pyasic turns what it cannot parse into tracebacks. A port or an
    IPv6 address is well formed but cannot reach a miner: pyasic adds each firmware's own
    ports to the address, and uses it as it is in URLs (where IPv6 needs brackets) and in
    socket connections (where it must have none).
    """
    # The longest address: a name of 253 characters, "[", "]", ":" and a port of 5 digits.
    if not host or len(host) > MAX_HOSTNAME_LENGTH + 8:
        return "invalid_host"
    if not (host.isascii() and host.isprintable()):
        return "invalid_host"
    address, port, ipv6 = _split_port(host)
    if port is not None and not (port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535):
        return "invalid_host"
    if ipv6:
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            return "invalid_host"
        return "ipv6_not_supported"
    if not _ipv4_or_name(address):
        return "invalid_host"
    return None if port is None else "port_not_supported"


def _split_port(host: str) -> tuple[str, str | None, bool]:
    """(address, port, whether it is IPv6) of `[v6]:port`, `[v6]`, `v6`, `v4:port`, `name`..."""
    if host.startswith("["):
        address, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return "", None, True
        return address, rest[1:] if rest else None, True
    if host.count(":") > 1:
        return host, None, True
    address, colon, port = host.partition(":")
    return address, port if colon else None, False


def _ipv4_or_name(address: str) -> bool:
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        name = address.removesuffix(".")
        labels = name.split(".")
        # An all-numeric last label is a mistyped IPv4 address, not a name (RFC 3696).
        return (
            len(name) <= MAX_HOSTNAME_LENGTH
            and all(_LABEL.fullmatch(label) for label in labels)
            and not labels[-1].isdigit()
        )
    return not (ip.is_unspecified or ip.is_multicast or ip.is_reserved)


def subnet_error(subnet: str) -> str | None:
    """Why `subnet` cannot be scanned (the form's error key), or None if it can."""
    try:
        network = ipaddress.ip_network(subnet, strict=False)
    except ValueError:
        return "invalid_subnet"
    if network.version == 6:
        return "ipv6_not_supported"
    if any(network.overlaps(space) for space in _UNSCANNABLE):
        return "invalid_subnet"
    if network.num_addresses > MAX_SCAN_ADDRESSES:
        return "subnet_too_large"
    return None
