"""A stock Antminer in Home Assistant: login, entities, sleep/normal, work mode, identify."""

from __future__ import annotations

from homeassistant import config_entries
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.home_miner.const import DOMAIN
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.simulator.antminer import AntminerStockMiner

HOST = "127.0.7.2"


async def test_changed_password_asks_for_login_then_works(
    hass: HomeAssistant, simulate: SimFactory
) -> None:
    miner = await simulate(AntminerStockMiner, HOST, password="s3cret", command_delay=0.1)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "host"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_HOST: HOST})
    assert result["step_id"] == "credentials"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "root", CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "root", CONF_PASSWORD: "s3cret"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PASSWORD] == "s3cret"
    assert result["result"].unique_id == miner.mac.lower()


async def test_stop_resume_and_work_mode_keep_pools(
    hass: HomeAssistant, simulate: SimFactory, add_miner: AddMiner
) -> None:
    miner = await simulate(
        AntminerStockMiner, HOST, command_delay=0.1, restart_seconds=0.2, hostname="s19"
    )
    pools = [dict(p) for p in miner.pools]
    await add_miner(HOST)
    power = hass.states.get("sensor.s19_estimated_power")
    assert power is not None
    assert float(power.state) > 2000
    assert hass.states.get("sensor.s19_hashrate").attributes["unit_of_measurement"] == "TH/s"
    assert hass.states.get("select.s19_work_mode").state == "normal"

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.s19_mining"}, blocking=True
    )
    assert miner.status()["mode"] == "sleep"
    assert hass.states.get("switch.s19_mining").state == STATE_OFF
    assert float(hass.states.get("sensor.s19_estimated_power").state) < 50

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.s19_mining"}, blocking=True
    )
    assert hass.states.get("switch.s19_mining").state == STATE_ON
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.s19_work_mode", "option": "low_power"},
        blocking=True,
    )
    assert miner.status()["mode"] == "low"
    assert miner.pools == pools

    await hass.services.async_call(
        "button", "press", {"entity_id": "button.s19_identify"}, blocking=True
    )
    assert miner.blink is True
