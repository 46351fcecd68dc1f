"""pumpctl's per-user configuration file: defaults that flags override.

`<config>/pumpctl/config.toml` (`$XDG_CONFIG_HOME`, else `~/.config`, on Linux
and macOS; `%APPDATA%` on Windows), the folder that also holds the key store.
Only the keys below are accepted: a misspelt key would otherwise be silently
ignored and the technician would talk to the wrong port. Keys themselves never
go in this file, only where to find them (`keys`).
"""

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pumphost import auth
from pumphost.errors import BadInput

FILE_NAME = "config.toml"


class ConfigFileError(BadInput):
    """The configuration file is unreadable or malformed; nothing was sent."""

    def __init__(self, path: Path, message: str):
        super().__init__("E_CONFIG", f"{path}: {message}")


@dataclass(frozen=True)
class HostConfig:
    port: str | None = None  # default --port
    timeout: float | None = None  # default --timeout, seconds
    user: str | None = None  # name the device logs for --login and login
    role: str = "tech"  # role of a bare --login
    keys: Path | None = None  # the key store folder (default <config>/pumpctl/keys)


def config_path(environ: dict[str, str]) -> Path:
    return auth.config_dir(environ) / FILE_NAME


def _string(path: Path, data: dict, key: str) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigFileError(path, f"{key} must be a non-empty string")
    return value


def load(environ: dict[str, str]) -> HostConfig:
    """The file's settings, or all defaults when there is no file."""
    path = config_path(environ)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return HostConfig()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigFileError(path, f"cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigFileError(path, f"not valid TOML: {error}") from None
    unknown = sorted(set(data) - {"port", "timeout", "user", "role", "keys"})
    if unknown:
        raise ConfigFileError(
            path, f"unknown key {unknown[0]!r} (known: port, timeout, user, role, keys)"
        )
    timeout = data.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not (math.isfinite(timeout) and timeout > 0)
    ):
        raise ConfigFileError(path, "timeout must be a number of seconds above 0")
    user = _string(path, data, "user")
    if user is not None:
        try:
            auth.check_user(user)
        except BadInput as error:
            raise ConfigFileError(path, f"user: {error.message}") from None
    role = _string(path, data, "role") or "tech"
    if role not in auth.ROLES:
        raise ConfigFileError(path, f"role must be one of {', '.join(auth.ROLES)}")
    keys = _string(path, data, "keys")
    return HostConfig(
        port=_string(path, data, "port"),
        timeout=float(timeout) if timeout is not None else None,
        user=user,
        role=role,
        keys=Path(keys).expanduser() if keys else None,
    )
