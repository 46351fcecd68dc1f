"""Issue 3's accuracy benchmark on the real firmware: each scenario of
pumpsim.accuracy.scenarios runs on the simulator (stepped time, CPython
runtime, ground-truth delivery log), driven through PumpClient, then
run_scenario analyses the log (trumpet and delivery PNGs, JSON summary)."""

import dataclasses

from pumphost.units import wire_duration

from ..accuracy.expected import clock_s
from ..accuracy.scenarios import SCENARIOS, run_scenario
from .bench_pump import BenchPump

DAY_S = 86_400


def run_one(scenario, out_dir):
    """Deliver `scenario` through the protocol and analyse it; returns its summary
    with `device_clock_at_start`, the time of day the device really read."""
    prog = scenario.programme
    log = out_dir / (scenario.name + "-delivery.csv")
    with BenchPump(delivery_log=str(log)) as bp:
        bp.first_fill(prog.conc_mcg_ml)
        # The programme starts at prog.start_clock on the device clock. Stepped
        # time stands still while filling, so with the default epoch (midnight)
        # no wait is needed; a wait is taken, and shows in t0_s, if it ever is.
        rtc = int(bp.pump.request("CLOCK").fields["rtc_s"])
        wait_s = (clock_s(prog.start_clock) - rtc) % DAY_S
        if wait_s:
            bp.advance(int(wait_s) * 1000)
        _program(bp, prog)
        bp.confirm("START", reason="accuracy bench")
        t0 = bp.sim.now()
        boluses = []
        for bolus in prog.boluses:
            bp.advance(_ms_since(bp, t0, bolus.start_s))
            bp.confirm(
                "BOLUS",
                dose=f"{bolus.dose_mcg}mcg",
                over=wire_duration(int(bolus.duration_s * 1000)),
            )
            # The analysis must use the instant the bolus really started.
            started_s = (bp.sim.now()["now_us"] - t0["now_us"]) // 1_000_000
            boluses.append(dataclasses.replace(bolus, start_s=started_s))
        bp.advance(_ms_since(bp, t0, prog.duration_s))
        ran = dataclasses.replace(
            scenario, programme=dataclasses.replace(prog, boluses=tuple(boluses))
        )
    summary = run_scenario(ran, out_dir, log, t0["t_s"])
    summary["device_clock_at_start"] = _time_of_day(t0["rtc_s"])
    return summary


def _program(bp, prog):
    conc = f"{prog.conc_mcg_ml}mcg/mL"
    if len(prog.basal) == 1:
        bp.confirm("PROGRAM", "CONT", dose=f"{prog.basal[0].dose_mcg_day}mcg/day", conc=conc)
    else:
        steps = ",".join(f"{s.at}@{s.dose_mcg_day}mcg/day" for s in prog.basal)
        bp.confirm("PROGRAM", "FLEX", conc=conc, steps=steps)


def _ms_since(bp, t0, offset_s):
    """Milliseconds from now until `offset_s` after t0."""
    return (t0["now_us"] + int(offset_s) * 1_000_000 - bp.sim.now()["now_us"]) // 1000


def _time_of_day(rtc_s):
    s = rtc_s % DAY_S
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def run_all(out_dir):
    """Every scenario; returns {"scenarios": [...], "all_within_one_ustep": bool}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = [run_one(s, out_dir) for s in SCENARIOS]
    passed = all(all(s["within_one_ustep"].values()) for s in summaries)
    return {"scenarios": summaries, "all_within_one_ustep": passed}
