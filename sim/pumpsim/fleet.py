"""Fleet mode: N independent simulated pumps in one process, for rigs that test
host software against many pumps. Each pump is a full Simulator with its own
pty, rig channel, flash directory and firmware instance; they share nothing but
the process (each firmware runs in its own MCU thread)."""

import json
import os
from pathlib import Path

from .simulator import Simulator


class Fleet:
    def __init__(self, count, flash_root=None, **sim_args):
        """`flash_root`: a directory holding pump-<i>/ flash directories (kept);
        None gives each pump a fresh temporary one. `sim_args` go to every Simulator."""
        if count < 1:
            raise ValueError("a fleet needs at least one pump")
        self.sims = []
        for i in range(count):
            flash = Path(flash_root) / f"pump-{i}" if flash_root else None
            if flash:
                flash.mkdir(parents=True, exist_ok=True)
            self.sims.append(Simulator(flash_dir=flash, info_file=None, **sim_args))

    def start(self):
        try:
            for sim in self.sims:
                sim.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        for sim in self.sims:
            sim.stop()

    def info(self):
        return {
            "pid": os.getpid(),
            "pumps": [
                {"index": i, "pty": s.pty_path, "rig": s.rig_address}
                for i, s in enumerate(self.sims)
            ],  # fmt: skip
        }

    def write_info(self, path):
        """Written atomically, like the single simulator's info file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.info()) + "\n")
        os.replace(tmp, path)
