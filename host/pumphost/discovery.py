"""Where a running simulator announces itself.

`pump-sim` writes a small JSON file ({"pty": ..., "rig": "127.0.0.1:PORT",
"pid": ...}) at this path and removes it on a clean exit; `pumpctl --port sim`
reads it. Both import this one function so they always agree.
"""

import os
from pathlib import Path


def sim_info_path():
    """$XDG_RUNTIME_DIR/pump-sim/current.json, else ~/.cache/pump-sim/current.json."""
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime_dir) if runtime_dir else Path.home() / ".cache"
    return base / "pump-sim" / "current.json"
