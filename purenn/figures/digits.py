"""digits (chapter 1): the first training digits, as the book's opening figure shows them (5 0 4 1 9 2).

Each digit is drawn from its 28 x 28 pixels, dark ink on white, one square per inked pixel, its
label underneath.  Settings: `count` digits from `start` in the training set.
"""

from .common import Figure

__all__ = ["DIGITS"]


def run(settings, data, progress=None, backend=None):
    training = data[0]
    chosen = training[settings["start"]:settings["start"] + settings["count"]]
    return {"digits": [{"index": settings["start"] + i, "label": y.index(max(y)) if isinstance(y, list) else int(y),
                        "pixels": list(x.pixels)} for i, (x, y) in enumerate(chosen)]}


def draw(results):
    """The SVG text: the digits in a row (ten to a row at most), 3 px a pixel."""
    scale, side, gap, caption = 3, 28, 12, 18
    digits = results["digits"]
    columns = min(10, len(digits)) or 1
    rows = -(-len(digits) // columns)
    width, height = columns * (side * scale + gap) + gap, rows * (side * scale + gap + caption) + gap
    body = []
    for n, digit in enumerate(digits):
        x0 = gap + (n % columns) * (side * scale + gap)
        y0 = gap + (n // columns) * (side * scale + gap + caption)
        body.append('<rect x="{}" y="{}" width="{}" height="{}" fill="white" stroke="#bbb"/>'.format(
            x0, y0, side * scale, side * scale))
        for k, v in enumerate(digit["pixels"]):
            if v:
                grey = 255 - v
                body.append('<rect x="{}" y="{}" width="{}" height="{}" fill="#{:02x}{:02x}{:02x}"/>'.format(
                    x0 + (k % side) * scale, y0 + (k // side) * scale, scale, scale, grey, grey, grey))
        body.append('<text x="{}" y="{}" text-anchor="middle">{}</text>'.format(
            x0 + side * scale / 2, y0 + side * scale + 14, digit["label"]))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            'shape-rendering="crispEdges">\n<style>text{{font-family:Helvetica,Arial,sans-serif;font-size:13px;'
            'fill:#222}}</style>\n<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n').format(
                w=width, h=height, body="\n".join(body))


DIGITS = Figure(
    "digits", "chapter 1 (the opening figure)", "a sample of MNIST's training digits",
    defaults={"start": 0, "count": 6}, quick={"start": 0, "count": 6},
    run=run, draw=draw, work=lambda settings: (0, 0))
