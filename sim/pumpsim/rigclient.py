"""A small client for the rig control channel, for tests, benches and scripts."""

import itertools
import json
import socket


class RigCommandError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class RigClient:
    def __init__(self, address, timeout=120.0, advance_timeout_s=None):
        """`address` is "host:port" (as in the info file) or a (host, port) tuple.

        `advance_timeout_s`, if given, is the wall-time budget every `advance`
        gets unless the call names its own: days of virtual time take minutes on
        the MicroPython VM, milliseconds on CPython."""
        self.advance_timeout_s = advance_timeout_s
        if isinstance(address, str):
            host, _, port = address.rpartition(":")
            address = (host, int(port))
        self._sock = socket.create_connection(address, timeout=timeout)
        self._file = self._sock.makefile("rwb")
        self._ids = itertools.count(1)

    def request(self, request):
        """Send one raw request object; return the raw response object."""
        self._file.write(json.dumps(request).encode() + b"\n")
        self._file.flush()
        line = self._file.readline()
        if not line:
            raise ConnectionError("rig channel closed")
        return json.loads(line)

    def call(self, cmd, **params):
        """Run a command; return its response, or raise RigCommandError."""
        if cmd == "advance" and self.advance_timeout_s is not None:
            params.setdefault("timeout_s", self.advance_timeout_s)
        rid = next(self._ids)
        response = self.request(dict(params, cmd=cmd, id=rid))
        if response.get("id") != rid:
            raise ConnectionError(f"rig answered id {response.get('id')!r} to request {rid!r}")
        if not response["ok"]:
            raise RigCommandError(response["error"]["code"], response["error"]["message"])
        return response

    def close(self):
        self._file.close()
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
