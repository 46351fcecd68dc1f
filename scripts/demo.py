"""`make demo`: a realistic intrathecal baclofen start, on the simulator, through pumpctl.

Starts `pump-sim` in stepped time, then, as a technician would with pumpctl:
identify the pump, provision a technician key (provisioning gate held, as a
board's jumper) and log in, fill the reservoir with 50 mcg/mL (screening strength,
septum access proved by a probe injection), prime the catheter, give the 50 mcg
screening test dose over a minute, and after an 8-hour response start the
initial 24-hour infusion at the effective test dose. Virtual time is
fast-forwarded through the rig channel. Then a refill: a first attempt with the
needle in the subcutaneous pocket is refused by the pump, the second through the
septum succeeds. At the end the infusion is analysed against the plant's ground
truth (trumpet curves, delivered volume); plots and JSON land in out/demo/.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pumpsim.accuracy.expected import FlexStep, Programme
from pumpsim.accuracy.scenarios import Scenario, run_scenario
from pumpsim.rigclient import RigClient

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "demo"
HOUR_MS = 3_600_000


def say(text):
    print(f"\n=== {text}", flush=True)


def pumpctl(port, *args, check=True):
    cmd = [sys.executable, "-m", "pumphost", "--port", port, *args]
    print("$ pumpctl " + " ".join(args), flush=True)
    # the demo's technician key lives in out/demo, not in the user's own key store
    env = dict(os.environ, XDG_CONFIG_HOME=str(OUT / "config"))
    done = subprocess.run(cmd, text=True, capture_output=True, check=False, env=env)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if check and done.returncode != 0:
        raise SystemExit(f"demo failed: pumpctl {' '.join(args)} exited {done.returncode}")
    return done


def start_simulator():
    OUT.mkdir(parents=True, exist_ok=True)
    info = OUT / "sim.json"
    info.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pumpsim.cli", "--stepped", "--info-file", str(info),
         "--delivery-log", str(OUT / "delivery.csv"), "--flash", str(OUT / "flash")],
        stdout=subprocess.DEVNULL, stderr=None,
    )
    deadline = time.monotonic() + 30
    while not info.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("demo failed: pump-sim did not start")
        time.sleep(0.05)
    return proc, json.loads(info.read_text())


def main():
    for stale in ("flash", "config"):
        shutil.rmtree(OUT / stale, ignore_errors=True)
    proc, info = start_simulator()
    port = info["pty"]
    rig = RigClient(info["rig"])
    try:
        say("The pump on the bench")
        pumpctl(port, "identify")
        pumpctl(port, "status")

        say("Commissioning: provision a technician key with the gate held, then log in")
        rig.call("provision_gate", held=True)
        pumpctl(port, "provision", "--role", "tech")
        rig.call("provision_gate", held=False)
        pumpctl(port, "login", "--role", "tech", "--user", "demo")

        say("First fill: 18 mL of 50 mcg/mL; an empty reservoir proves septum access by a probe")
        rig.call("needle", at="septum")
        # the technician's syringe work, physically: probe in and back, then the fill
        rig.call("inject", ul=2000, conc_mcg_ml=50)
        rig.call("aspirate", ul=2000)
        rig.call("inject", ul=18000, conc_mcg_ml=50)
        pumpctl(port, "refill", "--aspirated", "0mL", "--probe", "2mL", "--back", "2mL",
                "--add", "18mL", "--conc", "50mcg/mL", "--conc2", "50mcg/mL", "--yes")
        rig.call("needle", at="out")

        say("Prime the catheter: 0.2 mL")
        pumpctl(port, "prime", "--vol", "0.2mL", "--yes")
        rig.call("advance", ms=60_000)

        say("Screening test dose: 50 mcg over 1 minute (labelling: at least 1 min)")
        pumpctl(port, "bolus", "--dose", "50mcg", "--over", "1min", "--yes")
        rig.call("advance", ms=8 * HOUR_MS)

        say("Response lasted more than 8 h: initial daily dose = the test dose, over 24 h")
        # the session lapsed during the 8 hours (10 min idle): the technician logs in again
        pumpctl(port, "login", "--role", "tech", "--user", "demo")
        pumpctl(port, "program", "--dose", "50mcg/day", "--conc", "50mcg/mL", "--yes")
        t0_s = float(rig.call("now")["t_s"])
        pumpctl(port, "start", "--reason", "initial infusion after positive screening", "--yes")
        rig.call("advance", ms=24 * HOUR_MS)

        say("After 24 hours")
        pumpctl(port, "status")

        say("Refill: first try with the needle in the subcutaneous pocket (refused), then right")
        pumpctl(port, "login", "--role", "tech", "--user", "demo")
        rig.call("needle", at="pocket")
        pumpctl(port, "refill", "--aspirated", "0.1mL", "--add", "18mL", "--conc", "50mcg/mL",
                "--yes", check=False)
        rig.call("needle", at="septum")
        residual_ul = rig.call("aspirate", ul=20000)["aspirated_ul"]
        rig.call("inject", ul=18000, conc_mcg_ml=50)
        pumpctl(port, "refill", "--aspirated", f"{residual_ul / 1000:.3f}mL", "--add", "18mL",
                "--conc", "50mcg/mL", "--yes")
        rig.call("needle", at="out")
        pumpctl(port, "alarms")
    finally:
        rig.close()
        proc.terminate()  # a clean stop flushes the delivery log
        proc.wait(timeout=30)

    say("Accuracy of the 24-hour infusion against the plant's ground truth (IEC 60601-2-24 style)")
    scenario = Scenario("demo-infusion", "50 mcg/day at 50 mcg/mL, after screening",
                        Programme(conc_mcg_ml=50, basal=(FlexStep("00:00", 50),)))
    summary = run_scenario(scenario, OUT, OUT / "delivery.csv", t0_s)
    total = summary["total"]
    print(json.dumps({"total": total, "within_one_microstep": summary["within_one_ustep"]},
                     indent=2))
    print(f"\nOutputs in {OUT}: delivery.csv, demo-infusion.json, "
          "demo-infusion-trumpet.png, demo-infusion-delivery.png")


if __name__ == "__main__":
    main()
