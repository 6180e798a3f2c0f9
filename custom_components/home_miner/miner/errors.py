"""Errors of the miner layer; the Home Assistant glue translates each into a user message."""


class MinerError(Exception):
    """Base of every error the miner layer raises."""


class MinerConnectionError(MinerError):
    """The miner did not answer (off, unplugged, wrong address, timed out)."""


class MinerAuthError(MinerError):
    """The miner refused the credentials."""


class UnsupportedMinerError(MinerError):
    """Something answered, but it is not a miner this integration can drive."""


class MinerAddressError(MinerError):
    """The miner cannot be driven at an address of this kind (pyasic's RPC clients need its
    IP address, not a name)."""


class MinerCommandError(MinerError):
    """The miner rejected a command, or acknowledged it without applying it."""

    def __init__(self, command: str, detail: str) -> None:
        super().__init__(f"{command}: {detail}")
        self.command = command
        self.detail = detail
