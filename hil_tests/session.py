"""Who the HIL suite is to the device: a provisioned pump and a technician's
session on it (docs/security.md), through the public pumphost API and the
simulator's commissioning steps (pumpsim.commissioned), which the benchmarks and
campaigns share."""

from pumphost import auth
from pumphost.client import PumpClient
from pumpsim import commissioned

HIL_USER = "hil"


class TechnicianPump(commissioned.TechnicianPump):
    """pumpsim.commissioned.TechnicianPump, logged in as the HIL user: it logs in
    again when the session lapses and repeats the refused request."""

    def __init__(self, port: str, key: bytes, timeout: float, role: str = "tech"):
        super().__init__(port, key, timeout, role=role, user=HIL_USER)


def provision_sim(dut, key: bytes, timeout: float) -> None:
    """Provision `key` as the technician key of a simulator started with its
    provisioning gate held, then release the gate (the rig switch power-cycles
    the board, as releasing a jumper and resetting a board would)."""
    commissioned.provision_through_gate(dut.port, dut.rig_address, key, timeout)


def board_key(port: str, timeout: float) -> bytes | None:
    """The technician key `pumpctl provision` stored for the board on `port`."""
    with PumpClient(port, timeout=timeout) as client:
        device = auth.device_id(client)
    try:
        return auth.KeyStore().load(device, "tech")
    except auth.KeyStoreError:
        return None
