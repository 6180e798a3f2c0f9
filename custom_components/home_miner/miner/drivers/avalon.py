"""Canaan Avalon Nano 3 / 3s: CGMiner RPC with Canaan's `ascset` extensions."""

from __future__ import annotations

from ..model import Family
from .base import Driver


class AvalonNanoDriver(Driver):
    family = Family.AVALON_NANO
