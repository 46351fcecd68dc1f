"""Who the HIL suite is to the device: a provisioned pump and a technician's
session on it (docs/security.md), through the public pumphost API only."""

from pumphost import auth
from pumphost.client import PumpClient, Reply
from pumphost.errors import PumpError

HIL_USER = "hil"


class TechnicianPump(PumpClient):
    """A PumpClient logged in as a technician, who logs in again when the device
    says the session is gone (idle timeout after the rig moved time on, or a
    restart) and repeats the refused request: a refusal changed nothing, so the
    repeat is the first attempt that counts. Other refusals (a wrong role, an
    unprovisioned pump, a failed login) are raised as they are."""

    def __init__(self, port: str, key: bytes, timeout: float, role: str = "tech"):
        self.key = key
        self.role = role
        super().__init__(port, timeout=timeout)
        self.login()

    def login(self) -> dict[str, str]:
        return auth.authenticate(self, self.role, HIL_USER, key=self.key)

    def request(self, verb: str, /, *words: str, **args: str | int) -> Reply:
        try:
            return super().request(verb, *words, **args)
        except PumpError as error:
            lapsed = error.code == "E_AUTH" and error.fields.get("have") == "none"
            if not lapsed or "provisioned" in error.fields or verb.upper() == "AUTH":
                raise
        self.login()
        return super().request(verb, *words, **args)


def provision_sim(dut, key: bytes, timeout: float) -> None:
    """Provision `key` as the technician key of a simulator started with its
    provisioning gate held, then release the gate (the rig switch power-cycles
    the board, as releasing a jumper and resetting a board would)."""
    from pumpsim.rigclient import RigClient

    with PumpClient(dut.port, timeout=timeout) as client:
        client.request("PROVISION", role="tech", key=key.hex())
    with RigClient(dut.rig_address) as rig:
        rig.call("provision_gate", held=False)


def board_key(port: str, timeout: float) -> bytes | None:
    """The technician key `pumpctl provision` stored for the board on `port`."""
    with PumpClient(port, timeout=timeout) as client:
        device = auth.device_id(client)
    try:
        return auth.KeyStore().load(device, "tech")
    except auth.KeyStoreError:
        return None
