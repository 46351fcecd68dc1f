"""Host side of the pump's access control (docs/security.md).

Keys live one per file, `<config>/pumpctl/keys/<device-id>.<role>.key`, readable by
their owner only (file 0600, directory 0700); a key file others could read is
refused rather than used. Keys are never printed, logged or put in an exception.

Logging in is a challenge-response: the device sends a single-use nonce, the host
answers with HMAC-SHA256(key, "<device-id>|<nonce>|<role>|<user>"). The session
then lives on the device, not in this process: it ends on LOGOUT, after the
device's inactivity timeout, or when the device restarts.
"""

import getpass
import hashlib
import hmac
import os
import re
import secrets
import sys
from pathlib import Path

from pumphost.client import PumpClient
from pumphost.errors import BadInput

ROLES = ("tech", "eng")
KEY_BYTES = 32
_USER = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_DEVICE_ID = re.compile(r"[0-9a-f]{16}")


class KeyStoreError(BadInput):
    """A key file is missing, malformed or not private; nothing was sent."""

    def __init__(self, message: str):
        super().__init__("E_KEY", message)


def config_dir(environ: dict[str, str] | None = None) -> Path:
    """pumpctl's per-user configuration folder for this platform."""
    env = os.environ if environ is None else environ
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "pumpctl"
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pumpctl"


class KeyStore:
    """The folder of key files; `root` defaults to the user's pumpctl config folder."""

    def __init__(self, root: Path | None = None):
        self.root = root if root is not None else config_dir() / "keys"

    def path(self, device_id: str, role: str) -> Path:
        if not _DEVICE_ID.fullmatch(device_id):
            raise KeyStoreError(f"device id {device_id!r} is not 16 hex digits")
        _check_role(role)
        return self.root / f"{device_id}.{role}.key"

    def load(self, device_id: str, role: str) -> bytes:
        path = self.path(device_id, role)
        try:
            st = path.stat()
            text = path.read_text().strip()
        except FileNotFoundError:
            raise KeyStoreError(
                f"no {role} key for device {device_id} in {self.root} "
                f"(provision it: `pumpctl provision --role {role}` with the gate held)"
            ) from None
        except OSError as error:
            raise KeyStoreError(f"cannot read {path}: {error.strerror}") from None
        if os.name == "posix" and st.st_mode & 0o077:
            raise KeyStoreError(f"{path} is readable by others: `chmod 600` it (or re-provision)")
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise KeyStoreError(f"{path} does not hold a {KEY_BYTES}-byte hex key")
        return key

    def stage(self, device_id: str, role: str, key: bytes) -> Path:
        """Write `key` beside its final name, private from the first byte; commit() moves it."""
        final = self.path(device_id, role)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.name == "posix":
            self.root.chmod(0o700)  # mkdir honours the umask, and the folder may predate us
        staged = final.with_name(final.name + ".new")
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            if os.name == "posix":
                os.fchmod(fd, 0o600)
            os.write(fd, key.hex().encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return staged

    @staticmethod
    def commit(staged: Path) -> Path:
        final = staged.with_name(staged.name.removesuffix(".new"))
        os.replace(staged, final)
        return final


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise BadInput("E_VALUE", f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def default_user() -> str:
    """The login name, reduced to what the device accepts in user=."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", getpass.getuser())[:32]
    return name or "user"


def check_user(user: str) -> str:
    if not _USER.fullmatch(user):
        raise BadInput("E_VALUE", "user must be 1-32 of A-Z a-z 0-9 _ . -")
    return user


def device_id(client: PumpClient) -> str:
    """The device's persistent random id (VERSION id=), which names its key files."""
    ident = client.request("VERSION").fields.get("id", "")
    if not _DEVICE_ID.fullmatch(ident):
        raise KeyStoreError("the device reports no id= in VERSION (firmware too old?)")
    return ident


def login_mac(key: bytes, device: str, nonce: str, role: str, user: str) -> str:
    message = f"{device}|{nonce}|{role}|{user}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def authenticate(
    client: PumpClient,
    role: str = "tech",
    user: str | None = None,
    *,
    store: KeyStore | None = None,
    key: bytes | None = None,
) -> dict[str, str]:
    """Log `client`'s device in as `role` with this user's stored key.

    Returns the device's reply fields (role, user, idle_s). Raises KeyStoreError
    (no usable key; nothing sent) or PumpError (the device refused: E_AUTH).
    `key` bypasses the key store (tests, rigs that hold their own key).
    """
    _check_role(role)
    user = check_user(user if user is not None else default_user())
    device = device_id(client)
    if key is None:
        key = (store or KeyStore()).load(device, role)
    nonce = client.request("AUTH", "CHALLENGE").fields["nonce"]
    mac = login_mac(key, device, nonce, role, user)
    return client.request("AUTH", "RESPONSE", role=role, user=user, mac=mac).fields


def session_status(client: PumpClient) -> dict[str, str]:
    return client.request("AUTH", "STATUS").fields


def logout(client: PumpClient) -> str:
    """End the device's session; returns the role that was logged in, or "-"."""
    return client.request("LOGOUT").fields.get("ended", "-")


def provision(
    client: PumpClient, role: str, *, store: KeyStore | None = None, replace: bool = False
) -> tuple[str, Path]:
    """Generate a key, store it privately, give it to a device booted in gated mode.

    The key file is written before the key is sent and kept only if the device
    takes it, so the device never holds a key this host has lost. Returns
    (device id, key file path).
    """
    _check_role(role)
    store = store or KeyStore()
    device = device_id(client)
    final = store.path(device, role)
    if final.exists() and not replace:
        raise KeyStoreError(f"{final} exists: pass --rekey to replace the key for this role")
    key = secrets.token_bytes(KEY_BYTES)
    staged = store.stage(device, role, key)
    try:
        client.request("PROVISION", role=role, key=key.hex())
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return device, store.commit(staged)
