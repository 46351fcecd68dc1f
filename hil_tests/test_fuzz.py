"""Short version of the protocol fuzz campaign through the serial line (the full
one is scripts/campaign_fuzz.py): about 1000 hypothesis-generated hostile lines,
pipelined, against a pump with a running therapy; every input must get exactly
its owed replies, VERSION must answer after each, and no therapy field may move.
Runs on a bare board too (the refill needle goes through the rig where one exists)."""

from ptyfuzz import PtyFuzz, fuzzlines
from therapy import first_fill, start_continuous

SEED = 8


def test_pipelined_fuzz_changes_nothing(request, dut, pump, tech_key):
    rig = request.getfixturevalue("rig") if dut.rig_address else None
    first_fill(pump, rig, vol="18mL", conc="500mcg/mL")
    start_continuous(pump, dose="150mcg/day", conc="500mcg/mL")
    pump.close()  # the fuzz opens the line itself; the session stays on the device
    fuzz = PtyFuzz(dut.port, tech_key)
    fuzzlines.run_given(lambda inputs, _: fuzz.batch(inputs), SEED, examples=30, batch_max=50)
    tally = fuzz.tally
    assert tally.inputs >= 700 and tally.crashes == 0
    assert tally.ok > 0 and tally.errors.get("E_CHARSET", 0) > 0
