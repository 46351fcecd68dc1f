"""The HTML page of `make bench`: one self-contained file (plots embedded as
base64 PNG), tables of the headline figures, the whole JSON at the end."""

import base64
import html
import json


def write_report(doc, path, plots_dir):
    parts = [
        "<h1>Pump benchmark</h1>",
        _targets(doc["targets"]),
        "<h2>Accuracy</h2>",
        _accuracy(doc["accuracy"]["scenarios"], plots_dir),
        "<h2>Speed</h2>",
        _speed(doc["speed"]),
        "<h2>Round-trip latency on the pty</h2>",
        _latency(doc["latency"]),
        "<h2>MicroPython VM budget</h2>",
        _budget(doc["vm_budget"], doc["mpy_size"]),
        "<h2>Campaigns</h2>",
        _pre(doc["campaigns"]),
        "<h2>All figures (JSON)</h2>",
        "<details><summary>bench.json</summary>" + _pre(doc) + "</details>",
    ]
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Pump benchmark</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #aaa;padding:.2em .5em}"
        "img{max-width:100%}.pass{color:#080}.fail{color:#b00}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )


def _table(header, rows):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _flag(ok):
    return "<span class='pass'>pass</span>" if ok else "<span class='fail'>FAIL</span>"


def _pre(data):
    return "<pre>" + html.escape(json.dumps(data, indent=2)) + "</pre>"


def _targets(targets):
    rows = []
    for name, value in targets.items():
        if isinstance(value, dict):
            rows += [[f"{name} ({key})", _flag(ok)] for key, ok in value.items()]
        else:
            rows.append([name, _flag(value)])
    return _table(["target", "result"], rows)


def _img(path):
    data = base64.b64encode(path.read_bytes()).decode()
    return f"<img alt='{html.escape(path.name)}' src='data:image/png;base64,{data}'>"


def _accuracy(scenarios, plots_dir):
    rows, plots = [], []
    for s in scenarios:
        name, total = s["scenario"]["name"], s["total"]
        full = s["trumpet"]["full_run"]["windows"]
        rows.append(
            [
                html.escape(s["scenario"]["title"]),
                s["device_clock_at_start"],
                f"{total['error_usteps']:+} ({total['error_pct']:+} %)",
                f"{max(w['max_usteps'] for w in full):+} / {min(w['min_usteps'] for w in full):+}",
                s["instantaneous"]["max_abs_usteps"],
                _flag(all(s["within_one_ustep"].values())),
            ]
        )
        plots.append(
            f"<h3>{html.escape(s['scenario']['title'])}</h3>"
            + _img(plots_dir / f"{name}-trumpet.png")
            + _img(plots_dir / f"{name}-delivery.png")
        )
    header = [
        "scenario",
        "clock at start",
        "24 h error, microsteps",
        "worst window (24 h), microsteps",
        "max |err|, microsteps",
        "within 1 microstep",
    ]
    return _table(header, rows) + "".join(plots)


def _speed(speed):
    rows = [
        [rt, r["wall_s"], r["sim_to_wall"], r["microsteps"]]
        for rt, r in speed.items()
        if isinstance(r, dict)
    ]
    return f"<p>{html.escape(speed['workload'])}</p>" + _table(
        ["runtime", "wall s for 24 h", "simulated : wall", "microsteps"], rows
    )


def _latency(lat):
    rows = [
        [
            rt,
            verb,
            r["median_ms"],
            r["p99_ms"],
            r["bytes_request"] + r["bytes_reply"],
            r["wire_floor_ms_115200_8n1"],
        ]
        for rt, verbs in lat.items()
        for verb, r in verbs.items()
    ]
    return _table(
        [
            "runtime",
            "command",
            "median ms",
            "p99 ms",
            "bytes (both ways)",
            "115200 8N1 wire floor ms",
        ],
        rows,
    )


def _budget(budget, sizes):
    heap, capped = budget["heap_run"], budget["runs_in_target_heap"]
    fuel = budget["fuel_per_loop"]
    rows = [
        [
            "peak live heap (after gc.collect, at idle), firmware as a ROMFS image",
            f"{budget['peak_live_heap_bytes']} bytes in a {heap['heap_bytes']}-byte heap "
            f"(image {budget['romfs_image_bytes']} bytes, outside the heap)",
        ],
        [
            "the same, firmware as .mpy files on the filesystem",
            f"{budget['peak_live_heap_mpy_files_bytes']} bytes",
        ],
        [
            "of the ROMFS peak: the imports alone, by kind",
            f"{budget['import_breakdown']['heap_bytes']} bytes: "
            + html.escape(json.dumps(budget["import_breakdown"]["by_kind_bytes"]))
            + f"; {budget['import_breakdown']['interned_names']} interned names in "
            f"{budget['import_breakdown']['name_pool_bytes']} bytes of name pools (in other)",
        ],
        [
            "day in a 32 KB heap",
            "completed"
            if capped["completed"]
            else "halted: " + html.escape(capped.get("halted", "")),
        ],
        [
            "fuel per control-loop iteration",
            f"mean {fuel['fuel_per_loop_mean']}, "
            f"max {fuel['fuel_per_loop_max']} ({fuel['loop_iterations']} iterations)",
        ],
    ]
    rows += [
        [
            f".mpy total, {board} ({s['arch']})",
            f"{s['mpy_bytes']} bytes in "
            f"{s['mpy_files']} files; " + html.escape(json.dumps(s["by_package"])),
        ]
        for board, s in sizes.items()
    ]
    return _table(["figure", "value"], rows)
