"""IEC 60601-2-24-style accuracy analysis of the simulator's ground-truth delivery log.

    expected     what the pump was asked to deliver: an exact piecewise-constant rate,
                 built from a therapy description with the firmware's rounding
    groundtruth  the plant's delivery log (CSV) as a step function of time
    analysis     total error, trumpet curves and instantaneous error, as a JSON-ready dict
    plots        trumpet-curve and delivered-volume PNGs (matplotlib)
    scenarios    the benchmark's therapies and the hook that analyses one simulator run

docs/accuracy.md explains the figures.
"""
