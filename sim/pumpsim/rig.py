"""Rig control channel: JSON lines over TCP on 127.0.0.1 (docs/rig.md).

Each request is one JSON object per line with "cmd" and an optional "id"; each
response echoes "id" and carries "ok". Commands live in a dispatch table so
later issues (needle placement, faults, torn writes, watchdog hang) add entries
without touching the transport.
"""

import json
import math
import socketserver
import threading
from typing import cast

from .errors import SimError
from .plant import NEEDLE_POSITIONS

RIG_PROTOCOL = 1
MAX_LINE = 64 * 1024
DEFAULT_ADVANCE_TIMEOUT_S = 60.0
# plant_error bound: half as much or twice as much per microstep is already a
# broken pump; beyond -100 % the plunger would suck fluid back.
MAX_ERROR_PPM = 500_000
# runaway bound: far beyond any STEP/DIR driver (a DRV8825 takes 250 kHz), and
# keeps the pulse arithmetic cheap.
MAX_RUNAWAY_SPS = 1_000_000


class Rig:
    """Parses requests and runs commands against a Simulator."""

    def __init__(self, sim):
        self.sim = sim
        self._lock = threading.Lock()  # one command at a time keeps runs reproducible
        self.commands = {
            "hello": self.cmd_hello,
            "now": self.cmd_now,
            "advance": self.cmd_advance,
            "speed": self.cmd_speed,
            "truth": self.cmd_truth,
            "mcu": self.cmd_mcu,
            "power_cycle": self.cmd_power_cycle,
            "needle": self.cmd_needle,
            "provision_gate": self.cmd_provision_gate,
            "needle_detect": self.cmd_needle_detect,
            "aspirate": self.cmd_aspirate,
            "inject": self.cmd_inject,
            "plant_error": self.cmd_plant_error,
            "power_cut": self.cmd_power_cycle,
            "hang": self.cmd_hang,
            "stall": self.cmd_stall,
            "occlude": self.cmd_occlude,
            "runaway": self.cmd_runaway,
            "tear": self.cmd_tear,
            "corrupt": self.cmd_corrupt,
            "flash": self.cmd_flash,
            "shutdown": self.cmd_shutdown,
        }
        # Answered without waiting for a long-running command (an advance) to end.
        self.unlocked = {"hello", "shutdown"}
        # Run once the successful response has been sent.
        self.after_reply = {"shutdown": sim.request_stop}

    def handle_line(self, line):
        """One request line (bytes) -> (response dict, callable to run after replying or None)."""
        try:
            request = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(None, "E_JSON", f"request is not valid JSON: {exc}"), None
        response = self.handle(request)
        after = self.after_reply.get(request.get("cmd")) if response["ok"] else None
        return response, after

    def handle(self, request):
        """One decoded request -> response dict."""
        if not isinstance(request, dict):
            return _error(None, "E_REQUEST", "request must be a JSON object")
        rid = request.get("id")
        cmd = request.get("cmd")
        if not isinstance(cmd, str):
            return _error(rid, "E_REQUEST", 'request needs a string "cmd"')
        handler = self.commands.get(cmd)
        if handler is None:
            return _error(
                rid,
                "E_UNKNOWN_CMD",
                f"unknown cmd {cmd!r} (have: {', '.join(sorted(self.commands))})",
            )
        try:
            if cmd in self.unlocked:
                data = handler(request)
            else:
                with self._lock:
                    data = handler(request)
        except SimError as exc:
            return _error(rid, exc.code, exc.message)
        response = {"id": rid, "ok": True}
        response.update(data)
        return response

    # -- commands ----------------------------------------------------------------
    def cmd_hello(self, req):
        sim = self.sim
        return {
            "sim": "pump-sim",
            "version": sim.version,
            "rig_protocol": RIG_PROTOCOL,
            "board": sim.hal.board,
            "caps": list(sim.hal.caps),
            "runtime": sim.runtime.name,
            "pty": sim.pty_path,
            "mode": sim.machine.mode(),
            "speed": sim.machine.speed,
            "commands": sorted(self.commands),
        }

    def cmd_now(self, req):
        return self.sim.now()

    def cmd_advance(self, req):
        ms = _int_arg(req, "ms", low=0)
        timeout_s = _number_arg(req, "timeout_s", DEFAULT_ADVANCE_TIMEOUT_S)
        self.sim.advance(ms, timeout_s=timeout_s)
        return self.sim.now()

    def cmd_speed(self, req):
        speed = req.get("speed")
        if speed != "stepped":
            speed = _number_arg(req, "speed", None)
            if speed is None:
                raise SimError("E_ARG", 'speed must be a positive number or "stepped"')
        self.sim.set_speed(None if speed == "stepped" else speed)
        return {"mode": self.sim.machine.mode(), "speed": self.sim.machine.speed}

    def cmd_truth(self, req):
        return self.sim.truth()

    def cmd_mcu(self, req):
        return self.sim.mcu()

    def cmd_power_cycle(self, req):
        self.sim.power_cycle()
        return self.sim.mcu()

    def cmd_needle(self, req):
        at = req.get("at")
        if at not in NEEDLE_POSITIONS:
            raise SimError("E_ARG", f"at must be one of {', '.join(NEEDLE_POSITIONS)}")

        def act(plant, now_us):
            plant.needle = at
            return {"needle": at, "present": plant.needle_detected}

        return self._on_plant(act)

    def _on_plant(self, act):
        """Run `act(plant, now_us)` at the present instant, with the MCU held."""
        machine = self.sim.machine
        with machine.cond:
            machine.sync()
            return act(self.sim.plant, self.sim.clock.now_us)

    def cmd_needle_detect(self, req):
        stuck = req.get("stuck")
        if not isinstance(stuck, bool):
            raise SimError("E_ARG", "stuck must be true or false")

        def act(plant, now_us):
            plant.detect_stuck = stuck
            return {"stuck": stuck, "present": plant.needle_detected}

        return self._on_plant(act)

    def cmd_aspirate(self, req):
        ul = _number_arg(req, "ul", None)
        if ul is None:
            raise SimError("E_ARG", "ul must be a positive number")

        def act(plant, now_us):
            got = plant.aspirate(ul, now_us)
            return {"aspirated_ul": got, "needle": plant.needle, "reservoir_ul": plant.reservoir_ul}

        return self._on_plant(act)

    def cmd_inject(self, req):
        ul = _number_arg(req, "ul", None)
        conc = _number_arg(req, "conc_mcg_ml", None)
        if ul is None or conc is None:
            raise SimError("E_ARG", "ul and conc_mcg_ml must be positive numbers")

        def act(plant, now_us):
            event = plant.inject(ul, conc, now_us)
            return {
                "event": event["event"],
                "needle": plant.needle,
                "reservoir_ul": plant.reservoir_ul,
                "reservoir_conc_mcg_ml": plant.conc_mcg_ml,
                "pocket_fill_ul": plant.pocket_fill_ul,
                "pocket_fill_mcg": plant.pocket_fill_mcg,
            }

        return self._on_plant(act)

    def cmd_plant_error(self, req):
        ppm = _int_arg(req, "ppm", low=-MAX_ERROR_PPM, high=MAX_ERROR_PPM)

        def act(plant, now_us):
            plant.error_ppm = ppm
            return {"error_ppm": ppm}

        return self._on_plant(act)

    # -- faults (docs/rig.md, "Faults") --------------------------------------------
    def cmd_hang(self, req):
        # The MCU is held in idle while a rig command runs, so "next" is well
        # defined: the first HAL call after that idle returns.
        self.sim.machine.arm_hang()
        return {"armed": True}

    def cmd_stall(self, req):
        on = _bool_arg(req, "on")

        def act(plant, now_us):
            plant.forced_stall = on
            return {"on": on, "stalled": plant.stalled}

        return self._on_plant(act)

    def cmd_occlude(self, req):
        on = _bool_arg(req, "on")

        def act(plant, now_us):
            plant.occluded = on
            return {"on": on, "stalled": plant.stalled}

        return self._on_plant(act)

    def cmd_runaway(self, req):
        sps = _int_arg(req, "steps_per_s", low=0, high=MAX_RUNAWAY_SPS)
        machine = self.sim.machine
        with machine.cond:
            machine.sync()  # pulses before now were emitted at the old rate
            machine.runaway_sps = sps
        return {"steps_per_s": sps}

    def cmd_tear(self, req):
        keep = _int_arg(req, "bytes", low=0)
        machine = self.sim.machine
        with machine.cond:
            self.sim.flash.arm_tear(keep)
        return {"bytes": keep}

    def cmd_corrupt(self, req):
        name = req.get("file")
        offset = req.get("offset")
        if offset is not None:
            offset = _int_arg(req, "offset", low=0)
        machine = self.sim.machine
        with machine.cond:
            try:
                at = self.sim.flash.corrupt(name, offset)
            except (OSError, ValueError) as exc:
                raise SimError("E_ARG", f"cannot corrupt {name!r}: {exc}") from None
        return {"file": name, "offset": at}

    def cmd_flash(self, req):
        machine = self.sim.machine
        flash = self.sim.flash
        with machine.cond:
            return {
                "files": {name: len(flash.read(name) or b"") for name in flash.names()},
                "used": flash.used(),
                "tears": [dict(t) for t in flash.tears],
            }

    def cmd_provision_gate(self, req):
        # The firmware reads the switch only at boot, as a board reads its jumper,
        # so setting it is followed by a power cycle.
        held = req.get("held")
        if not isinstance(held, bool):
            raise SimError("E_ARG", "held must be true or false")
        self.sim.hal.gate_held = held
        self.sim.power_cycle()
        data = self.sim.mcu()
        data["held"] = held
        return data

    def cmd_shutdown(self, req):
        return {}  # the stop itself runs after the reply (after_reply)


def _error(rid, code, message):
    return {"id": rid, "ok": False, "error": {"code": code, "message": message}}


def _int_arg(req, key, low=None, high=None):
    value = req.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SimError("E_ARG", f"{key} must be an integer")
    if low is not None and value < low:
        raise SimError("E_ARG", f"{key} must be >= {low}")
    if high is not None and value > high:
        raise SimError("E_ARG", f"{key} must be <= {high}")
    return value


def _bool_arg(req, key):
    value = req.get(key)
    if not isinstance(value, bool):
        raise SimError("E_ARG", f"{key} must be true or false")
    return value


def _number_arg(req, key, default):
    """A positive finite number, or `default` if absent."""
    if key not in req:
        return default
    value = req[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise SimError("E_ARG", f"{key} must be a positive number")
    return value


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        rig = cast(RigServer, self.server).rig
        while True:
            line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                return
            after = None
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):  # discard the rest of it
                    line = self.rfile.readline(MAX_LINE + 1)
                response = _error(None, "E_TOO_LONG", f"request line longer than {MAX_LINE} bytes")
            elif not line.strip():
                continue
            else:
                response, after = rig.handle_line(line)
            try:
                self.wfile.write(json.dumps(response).encode() + b"\n")
                self.wfile.flush()
            except OSError:
                return
            if after is not None:
                after()


class RigServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, rig, port=0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.rig = rig
        # A short poll interval keeps stop() quick; idle polling costs nothing measurable.
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="pump-sim-rig",
            daemon=True,
        )

    @property
    def address(self):
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def start(self):
        self._thread.start()

    def stop(self):
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()
