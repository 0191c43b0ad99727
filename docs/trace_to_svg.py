#!/usr/bin/env python3
"""Render a Chrome trace-event JSON file (as written by taskmap::TraceObserver) as an SVG
timeline: one row per worker track, complete slices ("ph": "X") as labelled bars, failed
slices in red, instant events ("ph": "i") as markers, and a time axis in milliseconds.

Usage: python3 docs/trace_to_svg.py run.trace.json trace.svg [--width 900] [--title TEXT]

Only the Python standard library is used. Perfetto (https://ui.perfetto.dev) shows the same
file interactively; this script exists to put a picture of a trace in the docs.
"""

import argparse
import json
import math
import sys
from html import escape

# Fill colours by args.status, matching taskmap::status_colour for the statuses they share.
STATUS_FILL = {
    "done": "#a5d6a7",
    "failed": "#e53935",
    "unfinished": "#fff176",
    "skipped": "#fb8c00",
    "cancelled": "#8e24aa",
}
DEFAULT_FILL = "#90caf9"
FONT = "Helvetica, Arial, sans-serif"
CHAR_WIDTH = 6.2  # average width of an 11px character, for fitting labels into bars

ROW_HEIGHT = 26
BAR_HEIGHT = 18
LABEL_WIDTH = 150
TOP = 40
AXIS_HEIGHT = 28
LEGEND_HEIGHT = 26
RIGHT_MARGIN = 16


def nice_step(span, target_ticks=8):
    """A tick step of 1, 2 or 5 times a power of ten giving about target_ticks ticks."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def fit_label(text, width):
    """text cut to fit `width` pixels, with an ellipsis when cut; '' when nothing fits."""
    room = int((width - 6) / CHAR_WIDTH)
    if room >= len(text):
        return text
    if room < 3:
        return ""
    return text[: room - 1] + "\u2026"


def load(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    process_names, thread_names = {}, {}
    slices, instants = [], []
    for e in events:
        ph = e.get("ph")
        key = (e.get("pid", 0), e.get("tid", 0))
        if ph == "M":
            name = e.get("args", {}).get("name")
            if e.get("name") == "process_name" and name is not None:
                process_names[key[0]] = name
            elif e.get("name") == "thread_name" and name is not None:
                thread_names[key] = name
        elif ph == "X":
            slices.append(e)
        elif ph in ("i", "I"):
            instants.append(e)
    return process_names, thread_names, slices, instants


def render(path, width, title):
    process_names, thread_names, slices, instants = load(path)
    tracks = sorted({(e.get("pid", 0), e.get("tid", 0)) for e in slices + instants})
    if not tracks:
        tracks = sorted(thread_names)
    pids = sorted({pid for pid, _ in tracks})

    def track_label(track):
        pid, tid = track
        thread = thread_names.get(track, f"thread {tid}")
        if len(pids) > 1:
            return f"{process_names.get(pid, pid)} #{pid} \u00b7 {thread}"
        return thread

    starts = [e["ts"] for e in slices + instants]
    ends = [e["ts"] + e.get("dur", 0) for e in slices] + [e["ts"] for e in instants]
    t0 = min(starts) if starts else 0.0
    t1 = max(ends) if ends else 1.0
    span_ms = max((t1 - t0) / 1000.0, 1e-3)
    plot_width = width - LABEL_WIDTH - RIGHT_MARGIN
    scale = plot_width / span_ms  # pixels per millisecond

    def x_of(ts):
        return LABEL_WIDTH + (ts - t0) / 1000.0 * scale

    height = TOP + len(tracks) * ROW_HEIGHT + AXIS_HEIGHT + LEGEND_HEIGHT
    if title is None:
        names = [process_names[p] for p in pids if p in process_names]
        title = "Trace of " + ", ".join(dict.fromkeys(names)) if names else "Trace"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="14">'
        f"{escape(title)}</text>",
    ]

    row_of = {track: i for i, track in enumerate(tracks)}
    for track, i in row_of.items():
        y = TOP + i * ROW_HEIGHT
        if i % 2 == 0:
            out.append(f'<rect x="0" y="{y}" width="{width}" height="{ROW_HEIGHT}" fill="#f5f5f5"/>')
        out.append(
            f'<text x="8" y="{y + ROW_HEIGHT / 2 + 4:.1f}" fill="#333333">'
            f"{escape(track_label(track))}</text>"
        )

    # Time axis with gridlines.
    axis_y = TOP + len(tracks) * ROW_HEIGHT
    step = nice_step(span_ms)
    out.append(
        f'<line x1="{LABEL_WIDTH}" y1="{axis_y}" x2="{LABEL_WIDTH + plot_width}" y2="{axis_y}" '
        f'stroke="#666666"/>'
    )
    tick = 0.0
    while tick <= span_ms + 1e-9:
        x = LABEL_WIDTH + tick * scale
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{axis_y}" stroke="#e0e0e0"/>')
        out.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#666666"/>')
        label = f"{tick:g} ms"
        out.append(
            f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#333333">{label}</text>'
        )
        tick += step

    for e in sorted(slices, key=lambda e: e["ts"]):
        track = (e.get("pid", 0), e.get("tid", 0))
        args = e.get("args", {})
        status = args.get("status", "")
        x = x_of(e["ts"])
        w = max(e.get("dur", 0) / 1000.0 * scale, 1.0)
        y = TOP + row_of[track] * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        fill = STATUS_FILL.get(status, DEFAULT_FILL)
        text_fill = "#ffffff" if status == "failed" else "#000000"
        tip = f"{e.get('name', '')} ({status}, {e.get('dur', 0) / 1000.0:.3f} ms)"
        if "error" in args:
            tip += f"\n{args['error']}"
        out.append(
            f'<g><title>{escape(tip)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{BAR_HEIGHT}" rx="3" '
            f'fill="{fill}" stroke="#555555" stroke-width="0.6"/>'
        )
        label = fit_label(e.get("name", ""), w)
        if label:
            out.append(
                f'<text x="{x + 3:.1f}" y="{y + BAR_HEIGHT / 2 + 4:.1f}" fill="{text_fill}">'
                f"{escape(label)}</text>"
            )
        out.append("</g>")

    for e in instants:
        track = (e.get("pid", 0), e.get("tid", 0))
        args = e.get("args", {})
        status = args.get("status", "")
        x = x_of(e["ts"])
        y = TOP + row_of[track] * ROW_HEIGHT + 3
        fill = STATUS_FILL.get(status, DEFAULT_FILL)
        tip = f"{e.get('name', '')} ({status or 'instant'})"
        if "error" in args:
            tip += f"\n{args['error']}"
        out.append(
            f'<g><title>{escape(tip)}</title><path d="M{x - 5:.1f},{y:.1f} h10 l-5,8 z" '
            f'fill="{fill}" stroke="#333333" stroke-width="0.6"/></g>'
        )

    # Legend: done and failed always, the other statuses when the trace has them.
    present = {e.get("args", {}).get("status") for e in slices + instants}
    legend_y = axis_y + AXIS_HEIGHT + 6
    x = LABEL_WIDTH
    for status in ("done", "failed", "unfinished"):
        if status == "unfinished" and status not in present:
            continue
        out.append(
            f'<rect x="{x}" y="{legend_y}" width="14" height="10" rx="2" fill="{STATUS_FILL[status]}" '
            f'stroke="#555555" stroke-width="0.6"/>'
        )
        out.append(f'<text x="{x + 18}" y="{legend_y + 9}">{status}</text>')
        x += 90
    for status in ("skipped", "cancelled"):
        if status not in present:
            continue
        out.append(
            f'<path d="M{x},{legend_y} h10 l-5,8 z" fill="{STATUS_FILL[status]}" '
            f'stroke="#333333" stroke-width="0.6"/>'
        )
        out.append(f'<text x="{x + 14}" y="{legend_y + 9}">{status} (instant)</text>')
        x += 130
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trace", help="trace-event JSON file")
    parser.add_argument("svg", help="SVG file to write ('-' for standard output)")
    parser.add_argument("--width", type=int, default=900, help="picture width in pixels")
    parser.add_argument("--title", help="title (default: the traced graphs' names)")
    args = parser.parse_args(argv)
    svg = render(args.trace, args.width, args.title)
    if args.svg == "-":
        sys.stdout.write(svg)
    else:
        with open(args.svg, "w", encoding="utf-8") as f:
            f.write(svg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
