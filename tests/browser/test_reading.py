"""The browser tests' reading checks catch what people saw (issue 12) and pass words."""

from __future__ import annotations

import pytest

from .reading import problems


@pytest.mark.parametrize(
    "text",
    [
        "Miners\n24:58:7c:1e:dd:62",
        "When curtailed\nstop / limit_w / limit_percent",
        "Days\nfri, mon, sat, sun, thu, tue, wed",
        "Activity\nCurtailed because tou_peak",
        "Curtailment reason\nprice_above_threshold",
        "component.home_miner.config.step.plan.title",
        "Band {band}: not a time of day",
        "Break-even price\nUnknown",
        "Curtailed\nsince 2026-12-01T14:46:00+00:00",
    ],
)
def test_flags(text: str) -> None:
    assert problems(text), text


def test_passes_words() -> None:
    text = (
        "When curtailed\nStop mining\nLimit its power (% of full)\n"
        "Days\nMonday\nTuesday\nCurtailment reason\nTime-of-use peak\n"
        "Pool\nstratum+tcp://public-pool.io:21496\nUnknown devices are listed below"
    )
    assert problems(text) == []


def test_device_info_mac() -> None:
    """A MAC among a device's connections is where a MAC belongs; anywhere else it is not."""
    info = "Device info\nMAC\n:\n24:58:7C:D0:CF:B8\nHome Miner"
    assert problems(info, device_info=True) == []
    assert problems(info)
