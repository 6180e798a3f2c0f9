"""Run the suite on httpx2, as Home Assistant 2026.11 runs every integration.

Home Assistant 2026.11's `homeassistant/__init__.py` aliases `httpx`/`httpcore` to `httpx2`/
`httpcore2` before anything imports them, so pyasic's web clients run on httpx2 there. The test
harness's release (2026.10) does not; this plugin, loaded by `-p` before every other plugin
(pyproject's addopts), does the same thing at the same moment.
"""

from __future__ import annotations

import sys

import httpx2

assert "httpx" not in sys.modules, "httpx was imported before the httpx2 alias"
httpx2.alias_httpx()
