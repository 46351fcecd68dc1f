# Entry point on every target: pick the HAL for this platform, then run the
# control loop for ever. The simulator imports this module and calls run(hal).
from pump.app import make_controller


def run(hal):
    ctl = make_controller(hal)
    while True:
        ctl.poll()
        hal.idle(ctl.wake_ms())


def _board_hal():
    import sys

    if sys.platform == "rp2":
        from hal.rp2040 import Rp2040Hal as Hal
    elif sys.platform == "esp32":
        from hal.esp32 import Esp32Hal as Hal
    else:
        raise SystemExit("no HAL for platform %s: run under pump-sim" % sys.platform)
    return Hal()


if __name__ == "__main__":
    run(_board_hal())
