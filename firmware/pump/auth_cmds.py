# The access-control verbs: AUTH CHALLENGE / RESPONSE / STATUS, LOGOUT and
# PROVISION. The rules live in pump.access; these only read arguments and reply.
# No reply ever carries a key.
from pump.access import NONCE_LIFETIME_US
from pump.args import need, only, words_exactly
from pump.request import ProtocolError

_AUTH_USAGE = "AUTH CHALLENGE | AUTH RESPONSE role=tech|eng user=<name> mac=<hex> | AUTH STATUS"


def cmd_auth(ctl, rid, words, args):
    acc = ctl.access
    sub = words[1] if len(words) > 1 else "STATUS"
    if len(words) > 2 or sub not in ("CHALLENGE", "RESPONSE", "STATUS"):
        raise ProtocolError("E_VERB", "usage: " + _AUTH_USAGE)
    if sub == "CHALLENGE":
        only(args, ())
        nonce = acc.challenge()
        ctl.send(
            "OK",
            rid,
            [("nonce", nonce), ("id", acc.device_id), ("expires_s", NONCE_LIFETIME_US // 1000000)],
        )
    elif sub == "RESPONSE":
        only(args, ("role", "user", "mac"))
        acc.respond(need(args, "role"), need(args, "user"), need(args, "mac"))
        s = acc.session
        ctl.send(
            "OK",
            rid,
            [("role", s["role"]), ("user", s["user"]), ("idle_s", acc.idle_us // 1000000)],
        )
    else:
        only(args, ())
        ctl.send("OK", rid, acc.status_pairs())


def cmd_logout(ctl, rid, words, args):
    words_exactly(words, 1, "LOGOUT")
    only(args, ())
    ended = ctl.access.end_session("logout")
    ctl.send("OK", rid, [("ended", ended or "-")])


def cmd_provision(ctl, rid, words, args):
    words_exactly(words, 1, "PROVISION role=tech|eng key=<64 hex digits>")
    only(args, ("role", "key"))
    acc = ctl.access
    role = need(args, "role")
    acc.provision(role, need(args, "key"))
    ctl.send("OK", rid, [("role", role), ("provisioned", acc.provisioned())])


HANDLERS = {
    "AUTH": cmd_auth,
    "LOGOUT": cmd_logout,
    "PROVISION": cmd_provision,
}
