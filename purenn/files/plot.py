"""Draw the monitored curves of a training run as an SVG chart -- no plotting library.

    write_svg("run.svg", records, title="...")

`records` is one dict per epoch, as network2.Network.SGD passes to its
`on_epoch` callback: "epoch", and any of "training_cost", "evaluation_cost",
"training_accuracy", "evaluation_accuracy" (accuracies as fractions).  The
chart has a cost panel and an accuracy panel side by side, each with its
axes, ticks, labels and a legend; a panel with nothing to show is left out.
"""

import math

from .atomic import write_text

__all__ = ["write_svg", "render_svg", "nice_ticks"]


def escape(text):
    """`text` safe inside an SVG element: &, < and > as entities (xml.sax.saxutils.escape's
    rule, without importing it: it brings in urllib, ssl and hashlib)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SERIES = (
    ("training", "#1f77b4", ""),
    ("evaluation", "#d62728", "6,4"),
)
_PANEL_W, _PANEL_H = 460, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 20, 40, 75


def nice_ticks(low, high, most=7):
    """Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        low, high = low - 0.5 if low == high else high, high + 0.5
    raw = (high - low) / max(1, most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def _label(value):
    text = "{:.6g}".format(value)
    return "0" if text in ("-0", "0") else text


def _panel(x0, title, ylabel, epochs, series, percent):
    """SVG elements for one panel whose top-left corner is at x0."""
    out = []
    plot_w, plot_h = _PANEL_W - _LEFT - _RIGHT, _PANEL_H - _TOP - _BOTTOM
    left, top = x0 + _LEFT, _TOP
    values = [v for _, points, _, _ in series for _, v in points if math.isfinite(v)]
    yticks = nice_ticks(min(values), max(values)) if values else [0.0, 1.0]
    xticks = nice_ticks(min(epochs), max(epochs), most=8) if epochs else [0, 1]
    xticks = [t for t in xticks if float(t).is_integer()] or xticks
    y_lo, y_hi = yticks[0], yticks[-1]
    x_lo, x_hi = xticks[0], max(xticks[-1], xticks[0] + 1)

    def sx(e):
        return left + (e - x_lo) / (x_hi - x_lo) * plot_w

    def sy(v):
        return top + plot_h - (v - y_lo) / (y_hi - y_lo) * plot_h

    out.append('<text x="{}" y="22" class="title">{}</text>'.format(x0 + _PANEL_W / 2, escape(title)))
    for t in yticks:
        y = sy(t)
        out.append('<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" class="grid"/>'.format(left, y, left + plot_w, y))
        text = _label(t * 100) + "%" if percent else _label(t)
        out.append('<text x="{}" y="{:.1f}" class="ytick">{}</text>'.format(left - 6, y + 4, text))
    for t in xticks:
        x = sx(t)
        out.append('<line x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" class="axis"/>'.format(
            x, top + plot_h, x, top + plot_h + 5))
        out.append('<text x="{:.1f}" y="{}" class="xtick">{}</text>'.format(x, top + plot_h + 19, _label(t)))
    out.append('<rect x="{}" y="{}" width="{}" height="{}" class="frame"/>'.format(left, top, plot_w, plot_h))
    out.append('<text x="{}" y="{}" class="xlabel">epoch</text>'.format(left + plot_w / 2, top + plot_h + 36))
    out.append('<text transform="translate({},{}) rotate(-90)" class="ylabel">{}</text>'.format(
        x0 + 16, top + plot_h / 2, escape(ylabel)))
    for i, (name, points, colour, dash) in enumerate(series):
        path = " ".join("{}{:.1f},{:.1f}".format("M" if j == 0 else "L", sx(e), sy(v))
                        for j, (e, v) in enumerate(points) if math.isfinite(v))
        dashes = ' stroke-dasharray="{}"'.format(dash) if dash else ""
        out.append('<path d="{}" stroke="{}" class="line"{}/>'.format(path, colour, dashes))
        for e, v in points:
            if math.isfinite(v):
                out.append('<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>'.format(sx(e), sy(v), colour))
    for i, (name, points, colour, dash) in enumerate(series):  # the legend, in a row below
        lx, ly = left + 150 * i, _PANEL_H - 12
        dashes = ' stroke-dasharray="{}"'.format(dash) if dash else ""
        out.append('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" class="line"{}/>'.format(
            lx, ly - 4, lx + 25, ly - 4, colour, dashes))
        out.append('<text x="{}" y="{}" class="legend">{}</text>'.format(lx + 32, ly, escape(name)))
    return out


def render_svg(records, title=""):
    """The SVG text of the chart for `records`."""
    panels = []
    for kind, ylabel, percent in (("cost", "cost", False), ("accuracy", "accuracy", True)):
        series = []
        for who, colour, dash in _SERIES:
            key = "{}_{}".format(who, kind)
            points = [(r["epoch"], r[key]) for r in records if key in r]
            if points:
                series.append(("{} data".format(who), points, colour, dash))
        if series:
            panels.append((kind, ylabel, percent, series))
    epochs = [r["epoch"] for r in records]
    panels_width = _PANEL_W * max(1, len(panels))
    width = max(panels_width, 8 * len(title) + 40)  # room for the title (about 8 px a character)
    margin = (width - panels_width) // 2
    height = _PANEL_H + (24 if title else 0)
    shift = 24 if title else 0
    body = []
    for i, (kind, ylabel, percent, series) in enumerate(panels):
        body.extend(_panel(margin + i * _PANEL_W, "{} per epoch".format(kind.capitalize()), ylabel, epochs,
                           series, percent))
    if not panels:
        body.append('<text x="{}" y="{}" class="title">nothing was monitored</text>'.format(width / 2, height / 2))
    style = ("text{font-family:Helvetica,Arial,sans-serif;font-size:12px;fill:#222}"
             ".title{font-size:14px;font-weight:bold;text-anchor:middle}"
             ".ytick{text-anchor:end}.xtick,.xlabel,.ylabel{text-anchor:middle}"
             ".grid{stroke:#e4e4e4}.axis{stroke:#444}.frame{fill:none;stroke:#444}"
             ".line{fill:none;stroke-width:2}.legend{font-size:12px}")
    heading = '<text x="{}" y="18" class="title">{}</text>'.format(width / 2, escape(title)) if title else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">\n'
            '<style>{style}</style>\n<rect width="100%" height="100%" fill="white"/>\n{heading}\n'
            '<g transform="translate(0,{shift})">\n{body}\n</g>\n</svg>\n').format(
                w=width, h=height, style=style, heading=heading, shift=shift, body="\n".join(body))


def write_svg(path, records, title=""):
    """Write the chart to `path`, atomically (see purenn.atomic)."""
    write_text(path, render_svg(records, title), suffix=".svg")
