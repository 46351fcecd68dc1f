"""A minimal, single-threaded HAL for unit tests of the firmware core.

Time is a plain integer of microseconds that only `idle` moves, so a test can
run days of therapy in milliseconds and assert exact step counts. The simulator
(`pumpsim`) is the full-featured HAL; this one exists so core tests need no
threads, pty or plant.
"""

import hashlib
import hmac
import sys
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
if str(FIRMWARE) not in sys.path:
    sys.path.insert(0, str(FIRMWARE))

from boards import sim as sim_board  # noqa: E402

PERIOD = 1 << 30

TECH_KEY = "5ec7e7" + "11" * 29  # the bench's technician key (test only)
ENG_KEY = "e9" * 32


def auth_mac(key_hex, device_id, nonce, role, user):
    """The login MAC of docs/security.md, by CPython's hmac (not the firmware's)."""
    msg = f"{device_id}|{nonce}|{role}|{user}".encode()
    return hmac.new(bytes.fromhex(key_hex), msg, hashlib.sha256).hexdigest()


class CoreHal:
    board = "core-test"
    caps = ("provision_gate",)

    def __init__(self, start_rtc=1_800_000_000, tick0=PERIOD - 5_000_000, gate_held=False):
        self.gate_held = gate_held  # the provisioning switch; firmware reads it at boot
        self.mechanics = dict(sim_board.MECHANICS)
        self.now_us = 0
        self.tick0 = tick0  # ticks start near the wrap so wrap bugs show at once
        self.rtc0 = start_rtc
        self.rx = bytearray()
        self.tx = bytearray()
        self.files = {}
        self.segments = []  # [abs_start, count, interval]
        self.emitted = 0
        self.step_times = []
        self.feeds = 0
        self.cause = "power_on"

    # time
    def ticks_us(self):
        return (self.tick0 + self.now_us) % PERIOD

    def ticks_ms(self):
        return (self.tick0 // 1000 + self.now_us // 1000) % PERIOD

    def ticks_diff(self, a, b):
        return ((a - b + PERIOD // 2) % PERIOD) - PERIOD // 2

    def ticks_add(self, t, d):
        return (t + d) % PERIOD

    def rtc_s(self):
        return self.rtc0 + self.now_us // 1_000_000

    def set_rtc_s(self, s):
        self.rtc0 = s - self.now_us // 1_000_000

    def reset_cause(self):
        return self.cause

    # steps
    def step_queue(self, start_tick, count, interval):
        if len(self.segments) >= 2:
            return False
        start = self.now_us + self.ticks_diff(start_tick, self.ticks_us())
        start = max(start, self.now_us)
        if self.segments:
            last = self.segments[-1]
            start = max(start, last[0] + (last[1] - 1) * last[2])
        self.segments.append([start, count, interval])
        return True

    def _emit_until(self, t):
        while self.segments:
            seg = self.segments[0]
            start, count, interval = seg
            while count and start <= t:
                self.emitted += 1
                self.step_times.append(start)
                count -= 1
                start += interval
            seg[0], seg[1] = start, count
            if count:
                return
            self.segments.pop(0)

    def step_pending(self):
        return len(self.segments)

    def step_count(self):
        return self.emitted

    def step_stop(self):
        self.segments = []

    def driver_enable(self, on):
        pass

    # serial
    def serial_read(self):
        data = bytes(self.rx)
        self.rx.clear()
        return data

    def serial_write(self, data):
        self.tx += data.encode() if isinstance(data, str) else data

    # storage
    def fs_read(self, name):
        return self.files.get(name)

    def fs_write(self, name, data):
        self.files[name] = bytes(data)

    def fs_append(self, name, data):
        self.files[name] = self.files.get(name, b"") + bytes(data)

    def fs_rename(self, src, dst):
        self.files[dst] = self.files.pop(src)

    def fs_remove(self, name):
        self.files.pop(name, None)

    def wdt_feed(self):
        self.feeds += 1

    def provision_gate(self):
        return self.gate_held

    def idle(self, timeout_ms):
        """Advance to the earlier of the timeout and the next segment's end."""
        target = self.now_us + timeout_ms * 1000
        if self.segments:
            s = self.segments[0]
            target = min(target, s[0] + (s[1] - 1) * s[2])
        self._emit_until(target)
        self.now_us = max(self.now_us, target)


class Bench:
    """Runs a Controller on a CoreHal, typing lines and advancing virtual time.

    By default the bench is a technician at a provisioned pump: the flash holds
    TECH_KEY (as if provisioned earlier) and every request is preceded by a login
    whenever no session is live (at start, after a reboot, after idling), so
    tests of everything but access control need not think about it. Pass
    `login=False` for a bare pump and an anonymous line.
    """

    def __init__(self, hal=None, login=True):
        from pump.app import make_controller
        from pump.store import RecordStore

        self.hal = hal or CoreHal()
        self.relogin = login
        if login and RecordStore(self.hal, "keys").load()[0] is None:
            RecordStore(self.hal, "keys").save({"tech": TECH_KEY})
        self.ctl = make_controller(self.hal)
        self.ctl.poll()
        self.hal.tx.clear()

    def send(self, line):
        if self.relogin and not self.session_live():
            self.login()
        return self.type(line)

    def type(self, line):
        """One line on the serial port, as is; returns the device's lines."""
        self.hal.tx.clear()
        self.hal.rx += line.encode() + b"\n"
        self.ctl.poll()
        return self.replies()

    def session_live(self):
        acc = self.ctl.access
        s = acc.session
        return s is not None and self.ctl.clock.now - s["last"] < acc.idle_us

    def login(self, role="tech", user="bench", key=TECH_KEY):
        """AUTH CHALLENGE/RESPONSE with the MAC computed by CPython's hmac."""
        challenge = fields(self.type("AUTH CHALLENGE")[-1])
        mac = auth_mac(key, challenge["id"], challenge["nonce"], role, user)
        reply = self.type(f"AUTH RESPONSE role={role} user={user} mac={mac}")
        assert reply[-1].split(" ")[0] == "OK", reply
        return fields(reply[-1])

    def replies(self):
        lines = bytes(self.hal.tx).decode().split("\r\n")
        return [ln for ln in lines if ln]

    def ok(self, line):
        out = [r for r in self.send(line) if not r.startswith("!")]
        assert out and out[-1].split(" ")[0] == "OK", (line, out)
        return fields(out[-1])

    def confirm(self, line):
        token = self.ok(line)["token"]
        return self.ok("CONFIRM token=" + token)

    def run_for(self, us):
        end = self.hal.now_us + us
        while self.hal.now_us < end:
            self.ctl.poll()
            self.hal.idle(min(self.ctl.wake_ms(), (end - self.hal.now_us + 999) // 1000))
        self.hal._emit_until(end)
        self.ctl.poll()


def fields(line):
    from pump.request import parse

    body = line.rsplit(" *", 1)[0]
    _, words, args = parse(body)
    return args
