"""Recognise a digit in a picture of any size, the way MNIST's digits were made.

MNIST's images were made from scans: the ink normalised to fit a 20 x 20
box keeping its aspect ratio (with anti-aliasing), then placed in a 28 x 28
field so that its centre of mass sits at the centre.  mnist_style() does the
same to any greyscale picture:

    1. polarity: MNIST has light ink on black, so a picture whose border is
       mostly light (dark ink on paper) is inverted;
    2. contrast: the border's level becomes 0 and the brightest ink 255;
    3. crop to the ink (pixels above a tenth of the brightest);
    4. scale to fit 20 x 20, keeping the aspect ratio, by area averaging;
    5. place in 28 x 28 with the centre of mass at the centre.

    mnist_style(width, height, pixels) -> an mnist_loader.Image
    predict(net, path)                 -> (digit, outputs, the Image fed to the net)
    digit_of(net, image)               -> (digit, outputs) for an Image already 28 x 28
"""

from ..mnist_loader import Image
from .pictures import read_picture

__all__ = ["mnist_style", "predict", "digit_of"]

BOX, SIDE = 20, 28


def _border(pixels, width, height):
    values = list(pixels[:width]) + list(pixels[(height - 1) * width:])
    for y in range(1, height - 1):
        values.append(pixels[y * width])
        values.append(pixels[y * width + width - 1])
    values.sort()
    return values[len(values) // 2]  # the median: a digit touching the edge does not move it


def _resample(values, width, height, new_width, new_height):
    """Area-average resampling of a width x height grid of floats."""
    def weights(old, new):
        # for each new cell: [(old index, fraction of it covered)]
        out = []
        ratio = old / new
        for i in range(new):
            start, end = i * ratio, (i + 1) * ratio
            cell, k = [], int(start)
            while k < end and k < old:
                overlap = min(end, k + 1) - max(start, k)
                if overlap > 0:
                    cell.append((k, overlap / ratio))
                k += 1
            out.append(cell)
        return out

    across, down = weights(width, new_width), weights(height, new_height)
    rows = [[sum(values[y * width + k] * w for k, w in cell) for cell in across] for y in range(height)]
    return [sum(rows[k][x] * w for k, w in down[y]) for y in range(new_height) for x in range(new_width)]


def mnist_style(width, height, pixels):
    """A picture (greyscale bytes, 0 black) as an MNIST-style 28 x 28 Image."""
    background = _border(pixels, width, height)
    ink = [255 - p for p in pixels] if background > 127 else list(pixels)
    level = 255 - background if background > 127 else background
    ink = [max(0, v - level) for v in ink]
    brightest = max(ink)
    if brightest == 0:
        return Image(bytes(SIDE * SIDE))  # a blank picture stays blank
    ink = [v * 255.0 / brightest for v in ink]
    # 3. crop to the ink
    threshold = 25.5
    xs = [x for x in range(width) if any(ink[y * width + x] > threshold for y in range(height))]
    ys = [y for y in range(height) if any(ink[y * width + x] > threshold for x in range(width))]
    left, right, top, bottom = xs[0], xs[-1] + 1, ys[0], ys[-1] + 1
    crop_w, crop_h = right - left, bottom - top
    cropped = [ink[y * width + x] for y in range(top, bottom) for x in range(left, right)]
    # 4. fit 20 x 20, keeping the aspect ratio
    scale = BOX / max(crop_w, crop_h)
    new_w, new_h = max(1, round(crop_w * scale)), max(1, round(crop_h * scale))
    small = _resample(cropped, crop_w, crop_h, new_w, new_h)
    # 5. centre of mass to the centre of 28 x 28
    mass = sum(small)
    cx = sum(v * (i % new_w) for i, v in enumerate(small)) / mass
    cy = sum(v * (i // new_w) for i, v in enumerate(small)) / mass
    dx, dy = round(SIDE / 2 - 0.5 - cx), round(SIDE / 2 - 0.5 - cy)
    out = bytearray(SIDE * SIDE)
    for i, v in enumerate(small):
        x, y = i % new_w + dx, i // new_w + dy
        if 0 <= x < SIDE and 0 <= y < SIDE:
            out[y * SIDE + x] = min(255, int(v + 0.5))
    return Image(bytes(out))


def predict(net, path):
    """(digit, outputs, image): what `net` (a trained network) sees in the picture
    at `path`: the digit is that of the largest of the first ten outputs (a
    network trained with more outputs was taught to keep the others at 0)."""
    width, height, pixels = read_picture(path)
    image = mnist_style(width, height, pixels)
    digit, outputs = digit_of(net, image)
    return digit, outputs, image


def digit_of(net, image):
    """(digit, outputs) of `net` for a 28 x 28 Image: the digit of the largest
    of the first ten outputs (the first on a tie)."""
    outputs = net.feedforward(image)
    best = 0
    for i, v in enumerate(outputs[:10]):
        if v > outputs[best]:
            best = i
    return best, outputs
