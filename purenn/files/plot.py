"""Charts as SVG, written by purenn -- no plotting library.

    Series(name, points, colour=None, dash="", markers=True)   one curve: [(x, y)]
    Panel(title, series, xlabel="epoch", ylabel="", xlog=False, ylog=False,
          xrange=None, yrange=None, percent=False, xintegers=None)  one chart: axes, ticks, grid, legend
    render_figure(panels, title="", columns=2)  -> SVG text: the panels in rows, a title above
    write_figure(path, panels, title="", columns=2)            the same, written atomically
    write_svg(path, records, title="")          a training run's monitored curves (train --plot):
                                                a cost panel and an accuracy panel, side by side

`records` is one dict per epoch, as network2.Network.SGD passes to its
`on_epoch` callback: "epoch", and any of "training_cost", "evaluation_cost",
"training_accuracy", "evaluation_accuracy" (accuracies as fractions).  A
panel with nothing to show is left out.  On a log axis, ticks are the powers
of ten the data spans (with 2 and 5 between them when it spans less than
three), and points at or below zero are not drawn.  A legend wraps onto as
many rows as its names need, below the axes, so that no text overlaps.
"""

import math

from .atomic import write_text

__all__ = ["Series", "Panel", "render_figure", "write_figure", "write_svg", "render_svg", "nice_ticks",
           "log_ticks", "COLOURS"]

#: The book's figure colours first (its scripts' '#2A6EA6', '#FFA933', '#FF5555'), then more.
COLOURS = ("#2A6EA6", "#FFA933", "#FF5555", "#3A9D3A", "#8A5CC2", "#555555")

_PANEL_W, _PLOT_H = 460, 245
_LEFT, _RIGHT, _TOP = 70, 20, 40
_AXIS_SPACE = 45        # below the plot: tick labels and the axis label
_LEGEND_ROW = 18


def escape(text):
    """`text` safe inside an SVG element: &, < and > as entities (xml.sax.saxutils.escape's
    rule, without importing it: it brings in urllib, ssl and hashlib)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Series:
    def __init__(self, name, points, colour=None, dash="", markers=True):
        self.name, self.points, self.colour, self.dash, self.markers = name, list(points), colour, dash, markers


class Panel:
    def __init__(self, title, series, xlabel="epoch", ylabel="", xlog=False, ylog=False, xrange=None, yrange=None,
                 percent=False, xintegers=None):
        self.title, self.series, self.xlabel, self.ylabel = title, list(series), xlabel, ylabel
        self.xintegers = xlabel == "epoch" if xintegers is None else xintegers  # ticks only at whole numbers
        self.xlog, self.ylog, self.xrange, self.yrange, self.percent = xlog, ylog, xrange, yrange, percent
        for i, s in enumerate(self.series):
            if s.colour is None:
                s.colour = COLOURS[i % len(COLOURS)]


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


def log_ticks(low, high):
    """Ticks for a log axis covering [low, high] (both > 0): the powers of ten around them, and
    2 and 5 times each when the range spans fewer than three decades."""
    first, last = math.floor(math.log10(low) + 1e-12), math.ceil(math.log10(high) - 1e-12)
    if last <= first:
        last = first + 1
    steps = (1, 2, 5) if last - first < 3 else (1,)
    ticks = [m * 10.0 ** e for e in range(first, last) for m in steps] + [10.0 ** last]
    return [round(t, 12 - e) if e < 12 else t for t, e in ((t, math.floor(math.log10(t))) for t in ticks)]


def _tick(value, percent=False, log=False):
    """A tick's text as SVG markup: on a log axis a power of ten is 10 with its exponent raised."""
    if log and not percent:
        exponent = round(math.log10(value))
        if abs(value - 10.0 ** exponent) <= 1e-9 * value:
            return '10<tspan dy="-6" font-size="9">{}</tspan>'.format(str(exponent).replace("-", "\u2212"))
    return escape(_label(value, percent))


def _label(value, percent=False):
    if percent:
        value *= 100
    text = "{:.6g}".format(value)
    text = "0" if text in ("-0", "0") else text
    if "e" in text:  # 1e-05 -> 10^-5, written as the book's axes do
        mantissa, exponent = text.split("e")
        text = ("" if mantissa == "1" else mantissa + "\u00d7") + "10^" + str(int(exponent))
    return text + ("%" if percent else "")


class _Axis:
    """Maps data to pixels along one axis: linear or log, with its ticks."""

    def __init__(self, values, log, fixed, start, length, most, integers=False):
        self.log, self.start, self.length = log, start, length
        values = [v for v in values if math.isfinite(v) and (v > 0 or not log)]
        if fixed is not None:
            low, high = fixed
        elif values:
            low, high = min(values), max(values)
        else:
            low, high = (1.0, 10.0) if log else (0.0, 1.0)
        if log:
            self.ticks = log_ticks(low, high)
            if fixed is None:
                low, high = self.ticks[0], self.ticks[-1]
            self.ticks = [t for t in self.ticks if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]
        else:
            self.ticks = nice_ticks(low, high, most)
            if integers:
                self.ticks = [t for t in self.ticks if float(t).is_integer()] or self.ticks
            if fixed is None:
                low, high = self.ticks[0], max(self.ticks[-1], self.ticks[0] + (1 if integers else 0))
            self.ticks = [t for t in self.ticks if low - 1e-12 <= t <= high + 1e-12]
        self.low, self.high = low, high if high > low else low + 1

    def __call__(self, v):
        if self.log:
            fraction = (math.log10(v) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        else:
            fraction = (v - self.low) / (self.high - self.low)
        return self.start + fraction * self.length

    def shows(self, v):
        return math.isfinite(v) and (v > 0 or not self.log) and self.low - 1e-9 * abs(self.low) <= v <= \
            self.high + 1e-9 * abs(self.high)


def _legend_rows(series, width):
    """The legend's items in rows that fit `width` (about 7 px a character, 40 for the sample line)."""
    rows, row, used = [], [], 0
    for s in series:
        need = 40 + 7 * len(s.name) + 16
        if row and used + need > width:
            rows.append(row)
            row, used = [], 0
        row.append((used, s))
        used += need
    if row:
        rows.append(row)
    return rows


def _panel_height(panel):
    plot_w = _PANEL_W - _LEFT - _RIGHT
    return _TOP + _PLOT_H + _AXIS_SPACE + _LEGEND_ROW * len(_legend_rows(panel.series, plot_w)) + 8


def _panel(panel, x0, y0, height):
    """SVG elements for one panel whose top-left corner is at (x0, y0)."""
    out = []
    plot_w = _PANEL_W - _LEFT - _RIGHT
    left, top = x0 + _LEFT, y0 + _TOP
    xs = _Axis([x for s in panel.series for x, _ in s.points], panel.xlog, panel.xrange, left, plot_w, 8,
               panel.xintegers)
    ys = _Axis([y for s in panel.series for _, y in s.points], panel.ylog, panel.yrange, top + _PLOT_H, -_PLOT_H, 7)
    out.append('<text x="{}" y="{}" class="title">{}</text>'.format(x0 + _PANEL_W / 2, y0 + 22, escape(panel.title)))
    for t in ys.ticks:
        y = ys(t)
        out.append('<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" class="grid"/>'.format(left, y, left + plot_w, y))
        out.append('<text x="{}" y="{:.1f}" class="ytick">{}</text>'.format(left - 6, y + 4,
                                                                         _tick(t, panel.percent, panel.ylog)))
    for t in xs.ticks:
        x = xs(t)
        out.append('<line x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" class="grid"/>'.format(x, top, x, top + _PLOT_H))
        out.append('<text x="{:.1f}" y="{}" class="xtick">{}</text>'.format(x, top + _PLOT_H + 19,
                                                                          _tick(t, False, panel.xlog)))
    out.append('<rect x="{}" y="{}" width="{}" height="{}" class="frame"/>'.format(left, top, plot_w, _PLOT_H))
    out.append('<text x="{}" y="{}" class="xlabel">{}</text>'.format(left + plot_w / 2, top + _PLOT_H + 36,
                                                                      escape(panel.xlabel)))
    if panel.ylabel:
        out.append('<text transform="translate({},{}) rotate(-90)" class="ylabel">{}</text>'.format(
            x0 + 16, top + _PLOT_H / 2, escape(panel.ylabel)))
    for s in panel.series:
        shown = [(x, y) for x, y in s.points if xs.shows(x) and ys.shows(y)]
        dashes = ' stroke-dasharray="{}"'.format(s.dash) if s.dash else ""
        if len(shown) > 1:
            path = " ".join("{}{:.1f},{:.1f}".format("M" if j == 0 else "L", xs(x), ys(y))
                            for j, (x, y) in enumerate(shown))
            out.append('<path d="{}" stroke="{}" class="line"{}/>'.format(path, s.colour, dashes))
        if s.markers or len(shown) == 1:
            for x, y in shown:
                out.append('<circle cx="{:.1f}" cy="{:.1f}" r="2.8" fill="{}"/>'.format(xs(x), ys(y), s.colour))
    for r, row in enumerate(_legend_rows(panel.series, plot_w)):
        ly = top + _PLOT_H + _AXIS_SPACE + _LEGEND_ROW * r + 12
        for offset, s in row:
            lx = left + offset
            dashes = ' stroke-dasharray="{}"'.format(s.dash) if s.dash else ""
            out.append('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" class="line"{}/>'.format(
                lx, ly - 4, lx + 28, ly - 4, s.colour, dashes))
            if s.markers:  # a round square, so that the chart's circles are its data points alone
                out.append('<rect x="{:.1f}" y="{:.1f}" width="5.6" height="5.6" rx="2.8" fill="{}"/>'.format(
                    lx + 11.2, ly - 6.8, s.colour))
            out.append('<text x="{}" y="{}" class="legend">{}</text>'.format(lx + 34, ly, escape(s.name)))
    return out


_STYLE = ("text{font-family:Helvetica,Arial,sans-serif;font-size:12px;fill:#222}"
          ".title{font-size:14px;font-weight:bold;text-anchor:middle}"
          ".ytick{text-anchor:end}.xtick,.xlabel,.ylabel{text-anchor:middle}"
          ".grid{stroke:#e4e4e4}.axis{stroke:#444}.frame{fill:none;stroke:#444}"
          ".line{fill:none;stroke-width:2}.legend{font-size:12px}")


def render_figure(panels, title="", columns=2, empty="nothing to draw"):
    """The SVG text of `panels` laid out `columns` to a row, `title` above them."""
    columns = max(1, min(columns, len(panels) or 1))
    rows = [panels[i:i + columns] for i in range(0, len(panels), columns)]
    heights = [max(_panel_height(p) for p in row) for row in rows]
    panels_width = _PANEL_W * columns
    width = max(panels_width, 8 * len(title) + 40)  # room for the title (about 8 px a character)
    margin = (width - panels_width) // 2
    shift = 24 if title else 0
    height = shift + (sum(heights) if rows else 200)
    body, y = [], 0
    for row, row_height in zip(rows, heights):
        for i, panel in enumerate(row):
            body.extend(_panel(panel, margin + i * _PANEL_W, y, row_height))
        y += row_height
    if not panels:
        body.append('<text x="{}" y="{}" class="title">{}</text>'.format(width / 2, height / 2, escape(empty)))
    heading = '<text x="{}" y="18" class="title">{}</text>'.format(width / 2, escape(title)) if title else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">\n'
            '<style>{style}</style>\n<rect width="100%" height="100%" fill="white"/>\n{heading}\n'
            '<g transform="translate(0,{shift})">\n{body}\n</g>\n</svg>\n').format(
                w=width, h=height, style=_STYLE, heading=heading, shift=shift, body="\n".join(body))


def write_figure(path, panels, title="", columns=2):
    """Write the figure to `path`, atomically (see purenn.files.atomic)."""
    write_text(path, render_figure(panels, title, columns), suffix=".svg")


#### a training run's monitored curves

_RUN_SERIES = (("training", "#1f77b4", ""), ("evaluation", "#d62728", "6,4"))


def render_svg(records, title=""):
    """The SVG text of the chart for a run's per-epoch `records`."""
    panels = []
    for kind, percent in (("cost", False), ("accuracy", True)):
        series = []
        for who, colour, dash in _RUN_SERIES:
            key = "{}_{}".format(who, kind)
            points = [(r["epoch"], r[key]) for r in records if key in r]
            if points:
                series.append(Series("{} data".format(who), points, colour, dash))
        if series:
            panels.append(Panel("{} per epoch".format(kind.capitalize()), series, ylabel=kind, percent=percent))
    return render_figure(panels, title, columns=2, empty="nothing was monitored")


def write_svg(path, records, title=""):
    """Write the chart to `path`, atomically (see purenn.files.atomic)."""
    write_text(path, render_svg(records, title), suffix=".svg")
