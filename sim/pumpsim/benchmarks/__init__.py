"""Benchmarks of the real firmware on the simulator (docs/bench.md): delivery
accuracy, simulated-to-wall speed, serial round-trip latency and the MicroPython
VM's resource budget. Each is driven the way a technician drives a pump: through
PumpClient on the simulator's pty, with the rig moving drug and time."""
