"""Protocol fuzzing kit shared by the unit test, the HIL test and the campaigns.

- `line_bytes()`: a hypothesis strategy for one input: mostly valid-looking request
  lines (real verbs, real keys, plausible and hostile values, request ids, check
  values right and wrong) with hostile mutations (control bytes, non-ASCII,
  backspaces, embedded terminators, over-long lines).
- `expected_finals()`: an independent model of docs/protocol.md "Lines": how many
  final replies (OK/ERR) the device owes for the bytes of one input, and how many
  lines it must discard silently. Written from the document, not from lineio.py,
  so a framing bug in the firmware shows as a count mismatch.
- `finals()`: the final replies among device lines, by the same document.
- `DirectFuzz`: the real controller in-process (corehal), with the invariants
  checked after every input: exactly the owed replies, every device line framed
  with a valid check value, no E_INTERNAL, VERSION still answered, and no therapy
  or reservoir state changed unless the input was a CONFIRM quoting the pending
  token (a random input cannot know it: the harness only counts such luck).
"""

import binascii
import copy
import random
import string

import corehal
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

MAX_LINE = 480  # docs/protocol.md: bytes before the terminator


def crc16(data):
    """CRC-16/CCITT-FALSE by the standard library (independent of the firmware's)."""
    return binascii.crc_hqx(data, 0xFFFF)


VERBS = [
    "VERSION", "STATUS", "ALARMS", "LOG", "CLOCK", "CLOCK SET", "PROGRAM CONT", "PROGRAM FLEX",
    "PROGRAM", "BOLUS", "PRIME", "START", "STOP", "PAUSE", "RESUME", "RESET", "CONFIRM",
    "CANCEL", "ACK", "REFILL BEGIN", "REFILL ASPIRATED", "REFILL FILL", "REFILL ABORT",
    "REFILL", "AUTH", "AUTH CHALLENGE", "AUTH RESPONSE", "AUTH STATUS", "LOGOUT", "PROVISION",
    "CONFIG", "CONFIG SET", "CONFIG GET",
]  # fmt: skip
KEYS = [
    "dose", "conc", "conc2", "vol", "over", "steps", "reason", "override", "token", "id",
    "window", "probe", "back", "rtc_s", "since", "from", "to", "limit", "role", "user", "mac",
    "key",
]  # fmt: skip
UNITS = [
    "mcg/day", "mg/day", "ug/day", "mcg/d", "mcg", "mg", "ug", "ng", "g", "mcg/mL", "mg/mL",
    "mcg/ml", "MCG/ML", "mL", "ml", "uL", "nL", "L", "s", "min", "h", "ms", "", "%", "mcg/h",
]  # fmt: skip

_numbers = st.one_of(
    st.integers(0, 2000).map(str),
    st.sampled_from(["0", "00", "1e3", "-5", "+5", ".5", "5.", ".", "1.2.3", "0x10", "NaN"]),
    st.integers(0, 10**40).map(str),  # huge
    st.builds(lambda w, f: f"{w}.{f}", st.integers(0, 10**6), st.text("0123456789", max_size=12)),
)
_quantities = st.builds(lambda n, u: n + u, _numbers, st.sampled_from(UNITS))
_clock = st.builds(
    lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 30), st.integers(0, 70)
) | st.sampled_from(["24:00", "6:30", "06-30", ":", "0630"])
_steps = st.lists(
    st.builds(lambda t, d: f"{t}@{d}", _clock, _quantities), min_size=1, max_size=16
).map(",".join)
_hex = st.text("0123456789abcdefABCDEF", min_size=0, max_size=70)
_printable = st.text(string.printable, max_size=40)
_quoted = _printable.map(lambda s: '"' + s.replace('"', '\\"') + '"') | st.sampled_from(
    ['"', '"unterminated', '"a\\"', '""', '"\\\\"']
)
_values = st.one_of(
    _quantities,
    _numbers,
    _clock,
    _steps,
    _hex,
    _quoted,
    _printable,
    st.sampled_from(["tech", "eng", "none", "x" * 40]),
)
_keys = st.sampled_from(KEYS) | st.text(string.ascii_letters + "_=-*@", min_size=1, max_size=8)
_args = st.lists(st.builds(lambda k, v: f"{k}={v}", _keys, _values), max_size=5)
_words = st.lists(_values, max_size=2)
_verb = st.sampled_from(VERBS).flatmap(
    lambda v: st.sampled_from([v, v.lower(), v.title()])
) | st.text(string.ascii_uppercase, min_size=1, max_size=10)
_rid = st.one_of(
    st.none(),
    st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=12),
    st.text(string.printable.strip(), min_size=0, max_size=16),  # often malformed
)


QUANTITY_KEYS = ("dose", "conc", "conc2", "vol", "over", "probe", "back", "window")
_QUANTITY_VALUES = st.one_of(_quantities, _quantities, _values)

# the arguments each verb really takes, so most lines get past E_ARG into the values
VERB_KEYS = {
    "CLOCK SET": ["rtc_s"], "PROGRAM CONT": ["dose", "conc", "override"],
    "PROGRAM FLEX": ["steps", "conc", "override"], "BOLUS": ["dose", "over"], "PRIME": ["vol"],
    "START": ["reason"], "STOP": ["reason"], "PAUSE": ["reason"], "RESUME": ["reason"],
    "RESET": ["reason"], "CONFIRM": ["token"], "ACK": ["id"], "REFILL BEGIN": ["window"],
    "REFILL ASPIRATED": ["vol", "probe", "back"], "REFILL FILL": ["vol", "conc", "conc2"],
    "AUTH RESPONSE": ["role", "user", "mac"], "PROVISION": ["role", "key"],
    "LOG": ["since", "from", "to", "limit"],
}  # fmt: skip


@st.composite
def request_line(draw):
    """A valid-looking request: [@id] VERB [words] [key=value ...] [*CRC]."""
    verb = draw(st.sampled_from(VERBS))
    keys = VERB_KEYS.get(verb, [])
    if draw(st.integers(0, 9)) == 0:
        verb = draw(_verb)
    elif draw(st.booleans()):
        verb = verb.lower()
    chosen = [k for k in keys if draw(st.integers(0, 5))]  # usually all of them
    # a key that takes a quantity usually gets one, so the unit parser is reached
    args = [f"{k}={draw(_QUANTITY_VALUES if k in QUANTITY_KEYS else _values)}" for k in chosen]
    if draw(st.integers(0, 4)) == 0:
        args += draw(_args)
    parts = [verb] + (draw(_words) if draw(st.integers(0, 5)) == 0 else []) + args
    rid = draw(_rid)
    if rid is not None:
        parts.insert(0, "@" + rid)
    body = draw(st.sampled_from([" ", "  ", "\t"])).join(parts)
    crc = draw(st.sampled_from(["none", "right", "wrong", "malformed"]))
    if crc == "right":
        body += f" *{crc16(body.encode()):04X}"
    elif crc == "wrong":
        body += " *%04x" % (crc16(body.encode()) ^ draw(st.integers(1, 0xFFFF)))
    elif crc == "malformed":
        body += " *" + draw(st.text("0123456789ABCDEFXYZ*", max_size=6))
    return body.encode()


_hostile = st.sampled_from(
    [b"\x00", b"\x01", b"\x07", b"\x08", b"\x7f", b"\x1b[A", b"\r", b"\n", b"\r\n", b"\t",
     b"\xff", b"\x80", "\u00b5g".encode(), "\u2264".encode(), b"\xc3", b"\x00" * 8]
)  # fmt: skip


@st.composite
def line_bytes(draw):
    """One fuzz input: bytes without the final terminator (the harness adds LF)."""
    kind = draw(st.sampled_from(["request"] * 12 + ["mutated"] * 2 + ["long", "raw", "empty"]))
    if kind == "raw":
        return draw(st.binary(max_size=64))
    if kind == "empty":
        return draw(st.sampled_from([b"", b"\r", b"\x08", b"a\x08", b" ", b"\t"]))
    data = draw(request_line())
    if kind == "long":
        pad = draw(st.integers(MAX_LINE - len(data) - 3, MAX_LINE - len(data) + 40))
        return data + b" " + b"x" * max(pad, 0)
    if kind == "mutated":
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(_hostile)
        return bytes(data)
    return data


def expected_finals(data):
    """(final replies owed, lines discarded) for `data` followed by a terminator.

    docs/protocol.md: LF, CR or CR LF end a line; empty lines get no reply; BS/DEL
    erase the previous character; a line over 480 bytes gets one E_TOO_LONG; a byte
    outside printable ASCII/TAB gets E_CHARSET; every other line one final reply.
    """
    owed = discarded = 0
    for raw in data.replace(b"\r", b"\n").split(b"\n"):
        kept, too_long = 0, False
        for b in raw:
            if too_long:
                continue  # discarded up to its terminator, erasures included
            if b in (8, 127):
                kept = max(kept - 1, 0)
            elif kept >= MAX_LINE:
                too_long = True
            else:
                kept += 1
        # a bad byte fails the line even if erased later: it was received
        if (
            too_long
            or kept
            or any((b < 32 and b not in (8, 9)) or b > 126 and b != 127 for b in raw)
        ):
            owed += 1
        else:
            discarded += 1
    return owed, discarded


def kind_of(line):
    """The line kind after the optional request id: OK, ERR, ROW, or ! for pushes."""
    words = line.split(" ")
    if words[0].startswith("!"):
        return "!"
    if words[0].startswith("@") and len(words) > 1:
        return words[1]
    return words[0]


def finals(lines):
    return [ln for ln in lines if kind_of(ln) in ("OK", "ERR")]


def framed(line):
    """Every device line ends with a valid upper-case check value."""
    body, sep, check = line.rpartition(" *")
    return bool(sep) and check == f"{crc16(body.encode()):04X}"


def err_code(line):
    for word in line.split(" "):
        if word.startswith("code="):
            return word[5:]
    return "?"


class InvariantBroken(AssertionError):
    pass


class Tally:
    """Campaign counts: inputs, final replies by kind and error code, discards."""

    def __init__(self):
        self.inputs = 0
        self.lines = 0
        self.ok = 0
        self.errors = {}
        self.discards = 0
        self.lucky_confirms = 0
        self.crashes = 0

    def add(self, finals_, discarded):
        self.inputs += 1
        self.lines += len(finals_)
        self.discards += discarded
        for line in finals_:
            if kind_of(line) == "OK":
                self.ok += 1
            else:
                code = err_code(line)
                self.errors[code] = self.errors.get(code, 0) + 1

    def merge(self, other):
        for name in ("inputs", "lines", "ok", "discards", "lucky_confirms", "crashes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for code, n in other.errors.items():
            self.errors[code] = self.errors.get(code, 0) + n

    def as_dict(self):
        return {"inputs": self.inputs, "final_replies": self.lines, "ok": self.ok,
                "errors_by_code": dict(sorted(self.errors.items())),
                "discarded_empty_lines": self.discards, "lucky_confirms": self.lucky_confirms,
                "crashes": self.crashes}  # fmt: skip


# ---- the firmware in-process ---------------------------------------------------

SCENARIOS = ("fresh", "filled", "running", "refill")


def therapy_state(ctl):
    """What no fuzz input may change: programme, run state, bolus, reservoir, account."""
    t, d = ctl.therapy, ctl.delivery
    return repr((t.program, t.state, t.reason, t.started_rtc, t.last_increase_rtc, t.boluses,
                 t.bolus, t.prime, ctl.reservoir, d.volume_nl, d.floor_nl,
                 d.delivered_total_nl(), ctl.hal.step_count(), ctl.limits))  # fmt: skip


def procedure_state(ctl):
    """The refill procedure's own state: REFILL BEGIN/ASPIRATED/ABORT are documented
    single-phase steps of it (they hold delivery, change neither programme nor
    reservoir), so an authenticated REFILL line may move it and nothing else may."""
    return repr((ctl.refill, ctl.therapy.hold))


def bench_for(scenario):
    """A logged-in technician's pump in one of SCENARIOS, at a frozen instant."""
    b = corehal.Bench()
    if scenario != "fresh":
        b.ok("REFILL BEGIN")
        b.ok("REFILL ASPIRATED vol=0mL probe=2mL back=2mL")
        b.confirm("REFILL FILL vol=18mL conc=500mcg/mL conc2=500mcg/mL")
        b.confirm("PROGRAM CONT dose=200mcg/day conc=500mcg/mL")
    if scenario in ("running", "refill"):
        b.confirm("START")
        b.run_for(3_600_000_000)
    if scenario == "refill":
        b.ok("REFILL BEGIN")
    return b


_templates = {}


class DirectFuzz:
    """Feeds fuzz inputs to the real controller on corehal and checks every one."""

    def __init__(self, scenario):
        # Setting a scenario up costs far more than an input; a deep copy of a
        # ready one is the same pump (its flash, clock and controller) for less.
        if scenario not in _templates:
            _templates[scenario] = bench_for(scenario)
        self.bench = copy.deepcopy(_templates[scenario])
        self.tally = Tally()

    def _type(self, data):
        hal = self.bench.hal
        hal.tx.clear()
        hal.rx += data
        self.bench.ctl.poll()
        return [ln for ln in bytes(hal.tx).decode("ascii").split("\r\n") if ln]

    def feed(self, data):
        b = self.bench
        acc = b.ctl.access
        locked = acc.locked_until is not None and acc.locked_until > b.ctl.clock.now
        if not b.session_live() and not locked:
            b.login()  # keep the fuzz deep: most inputs then pass the access check
        ctl = b.ctl
        before, proc_before = therapy_state(ctl), procedure_state(ctl)
        pending = ctl.pending["token"] if ctl.pending else None
        owed, discarded = expected_finals(data)
        try:
            lines = self._type(data + b"\n")
        except Exception as exc:  # an escape from poll() is a crash of the loop
            self.tally.crashes += 1
            raise InvariantBroken(f"poll raised {exc!r} on {data!r}") from exc
        got = finals(lines)
        bad = [ln for ln in lines if not framed(ln)]
        if bad:
            raise InvariantBroken(f"unframed device line {bad[0]!r} after {data!r}")
        if len(got) != owed:
            raise InvariantBroken(f"{data!r}: {owed} final replies owed, got {lines!r}")
        if any(err_code(ln) == "E_INTERNAL" for ln in got):
            self.tally.crashes += 1
            raise InvariantBroken(f"{data!r}: handler failed: {got!r}")
        if therapy_state(ctl) != before:
            if pending is not None and pending.encode() in data.upper():
                self.tally.lucky_confirms += 1  # quoted the real token: a valid change
            else:
                raise InvariantBroken(f"{data!r} changed therapy state: {got!r}")
        if procedure_state(ctl) != proc_before and b"REFILL" not in data.upper():
            raise InvariantBroken(f"{data!r} changed the refill procedure: {got!r}")
        version = finals(self._type(b"@chk VERSION\n"))
        if len(version) != 1 or not version[0].startswith("@chk OK proto="):
            raise InvariantBroken(f"no VERSION answer after {data!r}: {version!r}")
        self.tally.add(got, discarded)


def run_given(body, seed, examples, batch_max):
    """Drive `body(inputs, scenario)` with `examples` hypothesis examples, each a list
    of 1..batch_max inputs, reproducibly from `seed`. A broken invariant is shrunk
    to a minimal batch by hypothesis and raised."""

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        # a batch goes through a running pump: slow, large and nested by design
        suppress_health_check=[
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.too_slow,
            HealthCheck.large_base_example,
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
            HealthCheck.nested_given,
        ],
    )
    @fixed_seed(seed)
    @given(
        st.lists(line_bytes(), min_size=batch_max // 2, max_size=batch_max),
        st.sampled_from(SCENARIOS),
    )
    def run(inputs, scenario):
        body(inputs, scenario)

    run()


_SPLICE = [b"\x00", b"\x08", b"\r", b"\xff", b"\x7f", b"=", b'"', b"@", b"*", b" ",
           b"999999999999", b".", b"mg", b"mcg", b"/mL", b"\t"]  # fmt: skip


def mutate(data, rng):
    """A cheap, seeded byte-level variant of a generated line: hypothesis draws
    cost milliseconds, the firmware a fraction of one, so each draw is stretched."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(out))
        op = rng.randrange(4)
        if op == 0:
            out[at:at] = rng.choice(_SPLICE)
        elif op == 1:
            del out[at : at + rng.randint(1, 8)]
        elif op == 2 and out:
            out[at - 1 if at else 0] = rng.randrange(256)
        else:
            out[at:at] = out[: rng.randint(0, 12)]
    return bytes(out)


def direct_campaign(seed, examples, batch_max=10, variants=9):
    """Hypothesis-driven inputs against the in-process firmware, each followed by
    `variants` seeded mutations of it; returns the Tally."""
    total = Tally()

    def body(inputs, scenario):
        fuzz = DirectFuzz(scenario)
        rng = random.Random(seed ^ crc16(b"".join(inputs)))
        try:
            for data in inputs:
                fuzz.feed(data)
                for _ in range(variants):
                    fuzz.feed(mutate(data, rng))
        finally:
            total.merge(fuzz.tally)

    run_given(body, seed, examples, batch_max)
    return total
