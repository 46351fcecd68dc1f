"""A simulator commissioned the way a technician's bench is (docs/security.md):
started with its provisioning gate held (`Simulator(provision_gate=True)`),
given a fresh technician key through the gate, the gate released (which
power-cycles the board, as releasing a jumper and resetting a board would), then
a technician's client logged in on its pty beside a rig client.

The benchmarks (sim/pumpsim/benchmarks), the campaigns (scripts/campaign_*.py)
and the HIL suite (hil_tests/session.py) all set a pump up this way. It lives
here because the installed `pump-sim` cannot import the test suite or scripts/.
"""

import secrets

from pumphost import auth
from pumphost.client import PumpClient, Reply
from pumphost.errors import PumpError

from .rigclient import RigClient

BENCH_USER = "bench"


class TechnicianPump(PumpClient):
    """A PumpClient logged in as a technician, who logs in again when the device
    says the session is gone (idle timeout after the rig moved time on, or a
    restart) and repeats the refused request: a refusal changed nothing, so the
    repeat is the first attempt that counts. Other refusals (a wrong role, an
    unprovisioned pump, a failed login) are raised as they are."""

    def __init__(
        self, port: str, key: bytes, timeout: float, role: str = "tech", user: str = BENCH_USER
    ):
        self.key = key
        self.role = role
        self.user = user
        super().__init__(port, timeout=timeout)
        try:
            self.login()
        except BaseException:
            self.close()
            raise

    def login(self) -> dict[str, str]:
        return auth.authenticate(self, self.role, self.user, key=self.key)

    def request(self, verb: str, /, *words: str, **args: str | int) -> Reply:
        try:
            return super().request(verb, *words, **args)
        except PumpError as error:
            lapsed = error.code == "E_AUTH" and error.fields.get("have") == "none"
            if not lapsed or "provisioned" in error.fields or verb.upper() == "AUTH":
                raise
        self.login()
        return super().request(verb, *words, **args)


def provision_through_gate(port: str, rig_address: str, key: bytes, timeout: float) -> None:
    """Provision `key` as the technician key of the simulator on `port`, started
    with its provisioning gate held, then release the gate through its rig."""
    with PumpClient(port, timeout=timeout) as client:
        client.request("PROVISION", role="tech", key=key.hex())
    with RigClient(rig_address) as rig:
        rig.call("provision_gate", held=False)


class Commissioned:
    """`with Commissioned(sim) as bench:` the started simulator `sim`, held at its
    provisioning gate, provisioned with a fresh random technician key
    (`bench.key`); `bench.pump` is a TechnicianPump logged in on its pty,
    `bench.rig` a RigClient. Both are closed on exit; the simulator keeps
    running (whoever started it stops it).

    `timeout` is the pump client's, `rig_timeout` the rig client's (days of
    virtual time take minutes on the MicroPython VM); `client_class` a
    TechnicianPump subclass (e.g. one that counts bytes)."""

    def __init__(
        self,
        sim,
        *,
        timeout: float = 10.0,
        rig_timeout: float = 120.0,
        user: str = BENCH_USER,
        client_class: type[TechnicianPump] = TechnicianPump,
    ):
        self.sim = sim
        self.key = secrets.token_bytes(auth.KEY_BYTES)
        self.timeout = timeout
        self.rig_timeout = rig_timeout
        self.user = user
        self.client_class = client_class
        self._pump: TechnicianPump | None = None
        self._rig: RigClient | None = None

    def open(self):
        sim = self.sim
        try:
            provision_through_gate(sim.pty_path, sim.rig_address, self.key, self.timeout)
            self._rig = RigClient(sim.rig_address, timeout=self.rig_timeout)
            self._pump = self.client_class(sim.pty_path, self.key, self.timeout, user=self.user)
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        for closable in (self._pump, self._rig):
            if closable is not None:
                closable.close()
        self._pump = self._rig = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    @property
    def pump(self) -> TechnicianPump:
        if self._pump is None:
            raise RuntimeError(f"{type(self).__name__} used before open() or after close()")
        return self._pump

    @property
    def rig(self) -> RigClient:
        if self._rig is None:
            raise RuntimeError(f"{type(self).__name__} used before open() or after close()")
        return self._rig
