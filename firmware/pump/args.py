# Argument checks shared by the command handlers: every refusal names the
# argument, so a technician knows what to fix.
from pump.request import ProtocolError


def only(args, allowed):
    for key in args:
        if key not in allowed:
            raise ProtocolError("E_ARG", "unknown argument %s" % key)


def need(args, key):
    if key not in args:
        raise ProtocolError("E_ARG", "missing argument %s=" % key)
    return args[key]


def words_exactly(words, n, usage):
    if len(words) != n:
        raise ProtocolError("E_ARG", "usage: " + usage)
