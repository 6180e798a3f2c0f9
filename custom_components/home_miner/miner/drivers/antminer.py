"""Bitmain Antminer on stock firmware: web CGI with digest auth, plus BMMiner RPC."""

from __future__ import annotations

from ..model import Family
from .base import Driver


class AntminerStockDriver(Driver):
    family = Family.ANTMINER_STOCK
