# Who may change what (docs/security.md is the specification). One key per role,
# provisioned only while the physical gate was held at boot; logins by
# challenge-response (HMAC-SHA256 over a single-use device nonce), so no secret
# crosses the wire and a captured exchange is worthless; one session per device,
# ended by LOGOUT, inactivity or a reboot; repeated failures lock logins out for
# a growing time on the device's own clock, and the count survives a reboot.
import binascii
import hashlib
import os

from pump.request import ProtocolError
from pump.store import RecordStore

ROLES = ("tech", "eng")
RANK = {"none": 0, "tech": 1, "eng": 2}  # an engineer may do what a technician may
ROLE_NAMES = {"tech": "technician", "eng": "engineering"}

ID_BYTES = 8
KEY_BYTES = 32
NONCE_BYTES = 16
NONCE_LIFETIME_US = 60000000
SESSION_IDLE_US = 600000000  # 10 min without a command that needs the session
MAX_FAILS = 3  # failures in a row before each lockout
LOCKOUT_BASE_S = 30  # first lockout; doubles with each further one
LOCKOUT_MAX_S = 3600
USER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
USER_MAX = 32
_HEX = "0123456789abcdefABCDEF"

# Verbs open to anyone, and only without a sub-verb: a read never takes one, so
# a sub-verb added later (CLOCK SET is one) is gated until listed as a read.
OPEN_READS = ("VERSION", "STATUS", "ALARMS", "LOG", "CLOCK")
# Verbs that guard themselves: logging in cannot need a login, and provisioning
# is guarded by the physical gate instead.
SELF_GUARDED = ("AUTH", "LOGOUT", "PROVISION")
NEEDS_ENG = ("CONFIG",)


def hmac_sha256(key, msg):
    """HMAC-SHA256 per RFC 2104 (MicroPython has hashlib.sha256 but no hmac)."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key + bytes(64 - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(msg)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def auth_message(device_id, nonce, role, user):
    """The bytes a login MAC covers: binds it to this device, this challenge, this role."""
    return ("%s|%s|%s|%s" % (device_id, nonce, role, user)).encode()


def _same(a, b):
    # Time independent of where they differ, so timing does not leak the MAC.
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


def _hex_bytes(text, n, what):
    if len(text) != 2 * n or any(c not in _HEX for c in text):
        raise ProtocolError("E_VALUE", "%s must be %d hex digits" % (what, 2 * n))
    return binascii.unhexlify(text)


def _random_hex(n):
    return binascii.hexlify(os.urandom(n)).decode()


def required_role(words):
    """The role a request needs, or None if it is open (or guards itself)."""
    verb = words[0]
    if verb in SELF_GUARDED or (verb in OPEN_READS and len(words) == 1):
        return None
    return "eng" if verb in NEEDS_ENG else "tech"


def check_role(role):
    if role not in ROLES:
        raise ProtocolError("E_VALUE", "role must be tech or eng")
    return role


class Access:
    def __init__(self, ctl):
        self.ctl = ctl
        hal = ctl.hal
        # Read once: the gate is what was held at power-on, not what is held now.
        self.gate = "provision_gate" in hal.caps and bool(hal.provision_gate())
        self.device_id = self._device_id(RecordStore(hal, "ident"))
        self.key_store = RecordStore(hal, "keys")
        keys = self.key_store.load()[0]
        self.keys = keys if keys else {}  # role -> key hex; never sent anywhere
        self.fail_store = RecordStore(hal, "authfail")
        rec = self.fail_store.load()[0]
        self.fails = rec["fails"] if rec else 0
        self.locked_until = None
        if self.fails >= MAX_FAILS:
            # a reboot restarts the lockout in force rather than lifting it
            self.locked_until = ctl.clock.now + self._lockout_s() * 1000000
        self.nonce = None  # (hex, expires): the one outstanding challenge
        self.session = None  # {"role", "user", "last"}
        self.idle_us = SESSION_IDLE_US

    @staticmethod
    def _device_id(store):
        rec = store.load()[0]
        if rec:
            return rec["id"]
        ident = _random_hex(ID_BYTES)
        store.save({"id": ident})
        return ident

    def provisioned(self):
        return ",".join(r for r in ROLES if r in self.keys) or "-"

    # ---- the gate in front of every handler ----------------------------------
    def require(self, words):
        need = required_role(words)
        if need is None:
            return
        extra = [("need", need), ("have", "none")]
        if not self.keys:
            raise ProtocolError(
                "E_AUTH",
                "this pump has no keys and must be provisioned: hold "
                "the provisioning gate at boot, then PROVISION",
                extra + [("provisioned", "-")],
            )
        now = self.ctl.clock.now
        s = self.session
        if s is not None and now - s["last"] >= self.idle_us:
            self.end_session("idle")
            raise ProtocolError(
                "E_AUTH",
                "session expired after %d s without use: log in again" % (self.idle_us // 1000000),
                extra,
            )
        if s is None:
            raise ProtocolError(
                "E_AUTH",
                "%s needs a %s session: AUTH CHALLENGE, then AUTH "
                "RESPONSE" % (words[0], ROLE_NAMES[need]),
                extra,
            )
        if RANK[s["role"]] < RANK[need]:
            extra[1] = ("have", s["role"])
            raise ProtocolError(
                "E_AUTH",
                "%s needs an engineering session, not %s" % (words[0], ROLE_NAMES[s["role"]]),
                extra,
            )
        s["last"] = now

    # ---- login -----------------------------------------------------------------
    def _lockout_s(self):
        shift = self.fails // MAX_FAILS - 1
        return LOCKOUT_MAX_S if shift >= 7 else min(LOCKOUT_BASE_S << shift, LOCKOUT_MAX_S)

    def _check_lockout(self):
        if self.locked_until is None:
            return
        left = self.locked_until - self.ctl.clock.now
        if left <= 0:
            self.locked_until = None
            return
        secs = (left + 999999) // 1000000
        raise ProtocolError(
            "E_AUTH", "too many failed logins: locked for %d s more" % secs, [("retry_s", secs)]
        )

    def challenge(self):
        self._check_lockout()
        nonce = _random_hex(NONCE_BYTES)
        self.nonce = (nonce, self.ctl.clock.now + NONCE_LIFETIME_US)  # replaces any older one
        return nonce

    def respond(self, role, user, mac_hex):
        """Verify a login against the outstanding challenge, which it uses up."""
        check_role(role)
        if not 1 <= len(user) <= USER_MAX or any(c not in USER_CHARS for c in user):
            raise ProtocolError("E_VALUE", "user must be 1-%d of A-Z a-z 0-9 _ . -" % USER_MAX)
        mac = _hex_bytes(mac_hex, 32, "mac")
        self._check_lockout()
        ctl = self.ctl
        nonce = self.nonce
        self.nonce = None
        if nonce is None or ctl.clock.now >= nonce[1]:
            # Not counted: with no live nonce nothing is being guessed.
            raise ProtocolError("E_AUTH", "no live challenge (used or expired): AUTH CHALLENGE")
        key = self.keys.get(role)
        msg = auth_message(self.device_id, nonce[0], role, user)
        if key is None or not _same(hmac_sha256(binascii.unhexlify(key), msg), mac):
            self._failed(role, user)
        if self.fails:
            self.fails = 0
            self.fail_store.save({"fails": 0})
        if self.session is not None:
            self.end_session("replaced")
        self.session = {"role": role, "user": user, "last": ctl.clock.now}
        ctl.log_event("LOGIN", [("role", role), ("user", user)])

    def _failed(self, role, user):
        ctl = self.ctl
        self.fails += 1
        self.fail_store.save({"fails": self.fails})
        ctl.log_event("AUTH_FAIL", [("role", role), ("user", user), ("fails", self.fails)])
        left = MAX_FAILS - self.fails % MAX_FAILS
        if left == MAX_FAILS:
            secs = self._lockout_s()
            self.locked_until = ctl.clock.now + secs * 1000000
            ctl.log_event("AUTH_LOCKOUT", [("fails", self.fails), ("lock_s", secs)])
            raise ProtocolError(
                "E_AUTH",
                "authentication failed; logins locked for %d s" % secs,
                [("tries_left", 0), ("retry_s", secs)],
            )
        raise ProtocolError("E_AUTH", "authentication failed", [("tries_left", left)])

    def end_session(self, how):
        s = self.session
        if s is None:
            return None
        self.session = None
        # A proposal waiting for CONFIRM belongs to the session that made it.
        self.ctl.pending = None
        self.ctl.log_event("LOGOUT", [("role", s["role"]), ("user", s["user"]), ("how", how)])
        return s["role"]

    def status_pairs(self):
        s = self.session
        now = self.ctl.clock.now
        if s is not None and now - s["last"] >= self.idle_us:
            self.end_session("idle")
            s = None
        left = 0 if self.locked_until is None else max(self.locked_until - now, 0)
        return [
            ("role", s["role"] if s else "none"),
            ("user", s["user"] if s else "-"),
            ("idle_left_s", (s["last"] + self.idle_us - now) // 1000000 if s else -1),
            ("provisioned", self.provisioned()),
            ("gate", 1 if self.gate else 0),
            ("locked_s", (left + 999999) // 1000000),
            ("fails", self.fails),
        ]

    # ---- provisioning ----------------------------------------------------------
    def provision(self, role, key_hex):
        check_role(role)
        key = _hex_bytes(key_hex, KEY_BYTES, "key")
        if not self.gate:
            raise ProtocolError(
                "E_AUTH", "provisioning needs the physical gate: hold it while the pump boots"
            )
        if key == bytes(KEY_BYTES):
            raise ProtocolError("E_VALUE", "an all-zero key is not a secret")
        keys = dict(self.keys)
        keys[role] = binascii.hexlify(key).decode()
        self.key_store.save(keys)
        self.keys = keys
        # Someone with physical access has taken charge: the old lockout and any
        # session opened under the old key end here.
        if self.fails:
            self.fails = 0
            self.fail_store.save({"fails": 0})
        self.locked_until = None
        self.nonce = None
        if self.session is not None and self.session["role"] == role:
            self.end_session("rekeyed")
        self.ctl.log_event("PROVISION", [("role", role)])
