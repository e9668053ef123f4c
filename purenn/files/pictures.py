"""Pictures of digits: read and write PNG and PGM/PBM, and draw grids of digits.

Standard library only -- a PNG is zlib and struct.  Every picture here is
greyscale: (width, height, pixels) with `pixels` a bytes of width * height
values, 0 black to 255 white, row by row.

    read_picture(path)                  PNG (8-bit grey, grey+alpha, RGB, RGBA,
                                        palette; grey and palette also at 1, 2
                                        or 4 bits; every filter type; not
                                        interlaced) or PGM/PBM (P1, P2, P4, P5)
    decode_picture(name, data)          the same from the bytes of such a file
                                        (an upload), `name` naming it in errors
    write_png(path, width, height, pixels)    8-bit greyscale PNG
    write_pgm(path, width, height, pixels)    binary PGM (P5)
    digit_grid(digits, captions, columns)     -> (width, height, pixels): MNIST
                                        digits drawn dark on white, each with a
                                        caption underneath
    to_terminal(pixels, width, height)  -> lines of shaded blocks

Colour becomes grey by the Rec. 601 luma weights; transparent pixels are
laid on white.  Anything that is not a picture purenn can read raises
DataFileError naming the file and the problem; so does a picture too large
to decode safely -- more than MAX_PIXELS (4 megapixels, 2048 x 2048), said
from its header before any of it is decoded, or a file of more than
MAX_FILE_BYTES (33 MiB) -- and anything but a regular file (a FIFO, a device;
purenn.files.reading).  A PNG is never inflated past the size its header
promises.
"""

import struct
import zlib

from .atomic import write_bytes
from .reading import open_input, read_input
from ..errors import DataFileError

__all__ = ["read_picture", "decode_picture", "read_png", "read_pnm", "write_png", "write_pgm", "digit_grid",
           "to_terminal", "MAX_PIXELS", "MAX_FILE_BYTES"]

#: The largest picture decoded: 4 megapixels, 2048 x 2048.  Decoding and
#: reading a digit in pure Python take about 1.5 microseconds and 60 bytes a
#: pixel: at this size, up to 6 s and 250 MB (an RGBA PNG of noise, every row
#: Paeth-filtered); a digit needs far fewer pixels.
MAX_PIXELS = 4 * 1024 * 1024

#: The largest picture file read: 8 bytes a pixel at MAX_PIXELS and 1 MiB, more
#: than any picture within MAX_PIXELS needs (an RGBA PNG stored uncompressed
#: takes 4 bytes a pixel, a plain PGM of 16-bit values 6) with its metadata.
MAX_FILE_BYTES = 8 * MAX_PIXELS + 2 ** 20

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# colour type -> (name, samples per pixel)
_COLOUR_TYPES = {0: ("grey", 1), 2: ("RGB", 3), 3: ("palette", 1), 4: ("grey+alpha", 2), 6: ("RGBA", 4)}


def read_picture(path):
    """(width, height, grey pixels) from a PNG, PGM or PBM file (told apart by their first bytes)."""
    path = str(path)
    head = _read(path, 8)
    if head == _PNG_SIGNATURE:
        return read_png(path)
    if head[:1] == b"P" and head[1:2] in (b"1", b"2", b"4", b"5"):
        return read_pnm(path)
    raise DataFileError(path, "not a PNG, PGM or PBM picture (first bytes {!r})".format(head[:8]))


def decode_picture(name, data):
    """(width, height, grey pixels) from the bytes of a PNG, PGM or PBM file;
    DataFileError naming `name` if they are not one, or one too large."""
    if len(data) > MAX_FILE_BYTES:
        raise DataFileError(name, "{} bytes, more than the {} of a picture purenn reads".format(
            len(data), MAX_FILE_BYTES))
    if data[:8] == _PNG_SIGNATURE:
        return _decode_png(name, data)
    if data[:1] == b"P" and data[1:2] in (b"1", b"2", b"4", b"5"):
        return _decode_pnm(name, data)
    raise DataFileError(name, "not a PNG, PGM or PBM picture (first bytes {!r})".format(bytes(data[:8])))


#### PNG

def _chunks(path, data):
    """(type, body) of each chunk, CRCs checked."""
    at = len(_PNG_SIGNATURE)
    while at < len(data):
        if at + 8 > len(data):
            raise DataFileError(path, "truncated PNG: a chunk header is cut short at byte {}".format(at))
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        end = at + 8 + length + 4
        if end > len(data):
            raise DataFileError(path, "truncated PNG: chunk {!r} at byte {} needs {} bytes, {} remain".format(
                kind.decode("latin-1"), at, length + 12, len(data) - at))
        body = data[at + 8:at + 8 + length]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", data[end - 4:end])[0]:
            raise DataFileError(path, "bad CRC in PNG chunk {!r} at byte {}".format(kind.decode("latin-1"), at))
        yield kind, body
        if kind == b"IEND":
            return
        at = end
    raise DataFileError(path, "truncated PNG: no IEND chunk")


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(path, raw, height, stride, bpp):
    """The scanlines of a non-interlaced PNG with their filters undone."""
    rows = []
    previous = bytearray(stride)
    at = 0
    for y in range(height):
        kind = raw[at]
        line = bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                corner = previous[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, previous[i], corner)) & 0xFF
        elif kind != 0:
            raise DataFileError(path, "PNG row {} has filter type {}, expected 0-4".format(y, kind))
        rows.append(line)
        previous = line
    return rows


def _samples(line, depth, count):
    """`count` samples of `depth` bits from a scanline."""
    if depth == 8:
        return line[:count]
    per_byte = 8 // depth
    mask = (1 << depth) - 1
    out = bytearray(count)
    for i in range(count):
        byte = line[i // per_byte]
        out[i] = (byte >> (8 - depth * (i % per_byte + 1))) & mask
    return out


def _grey(r, g, b):
    """Rec. 601 luma, rounded: 0.299 R + 0.587 G + 0.114 B, in whole numbers."""
    return (299 * r + 587 * g + 114 * b + 500) // 1000


def _on_white(value, alpha):
    """A grey value with alpha 0-255 laid over white."""
    return (value * alpha + 255 * (255 - alpha) + 127) // 255


def _read(path, limit=None):
    """The bytes of a picture file (the first `limit` of them), or DataFileError
    naming it: it is not a regular file, cannot be read, or is larger than
    MAX_FILE_BYTES."""
    if limit is None:
        return read_input(path, DataFileError, MAX_FILE_BYTES, "a picture")
    with open_input(path, DataFileError) as f:
        try:
            return f.read(limit)
        except OSError as e:
            raise DataFileError(path, "cannot read: {}".format(e.strerror or e)) from None


def _too_many_pixels(path, kind, width, height):
    """DataFileError for a picture of more than MAX_PIXELS, or None."""
    if width * height <= MAX_PIXELS:
        return None
    return DataFileError(path, "{} of {} x {} pixels is larger than the {} pixels (2048 x 2048) purenn decodes; "
                               "scale it down".format(kind, width, height, MAX_PIXELS))


def read_png(path):
    """(width, height, grey pixels) from a PNG file."""
    path = str(path)
    return _decode_png(path, _read(path))


def _decode_png(path, data):
    if data[:8] != _PNG_SIGNATURE:
        raise DataFileError(path, "not a PNG file: bad signature")
    header, palette, transparency, compressed = _png_chunks(path, data)
    width, height, depth, colour = _png_header(path, header, palette, compressed)
    channels = _COLOUR_TYPES[colour][1]
    stride = (width * channels * depth + 7) // 8
    expected = height * (1 + stride)
    # Never inflated past what the header promises (and a byte, to see that there is more).
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(b"".join(compressed), expected + 1)
    except zlib.error as e:
        raise DataFileError(path, "corrupt PNG image data: {}".format(e)) from None
    if len(raw) != expected:
        raise DataFileError(path, "PNG image data holds {}{} bytes, {} x {} {} needs {}".format(
            "more than " if len(raw) > expected else "", min(len(raw), expected), width, height,
            _COLOUR_TYPES[colour][0], expected))
    rows = _unfilter(path, raw, height, stride, max(1, channels * depth // 8))
    out = bytearray(width * height)
    for y, line in enumerate(rows):
        out[y * width:(y + 1) * width] = _grey_row(path, y, _samples(line, depth, width * channels), width, depth,
                                                   colour, palette, transparency)
    return width, height, bytes(out)


def _png_chunks(path, data):
    """(IHDR fields, PLTE, tRNS, the IDAT chunks) of a PNG file's bytes."""
    header, palette, transparency, compressed = None, None, None, []
    for kind, body in _chunks(path, data):
        if header is None and kind != b"IHDR":
            raise DataFileError(path, "PNG does not begin with an IHDR chunk")
        if kind == b"IHDR":
            if len(body) != 13:
                raise DataFileError(path, "PNG IHDR chunk has {} bytes, expected 13".format(len(body)))
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            transparency = body
        elif kind == b"IDAT":
            compressed.append(body)
    return header, palette, transparency, compressed


def _png_header(path, header, palette, compressed):
    """(width, height, bit depth, colour type) from IHDR, or DataFileError for what purenn does not decode."""
    width, height, depth, colour, compression, filtering, interlace = header
    if colour not in _COLOUR_TYPES:
        raise DataFileError(path, "PNG colour type {} is not one of 0, 2, 3, 4, 6".format(colour))
    allowed = (1, 2, 4, 8) if colour in (0, 3) else (8,)
    if depth not in allowed:
        raise DataFileError(path, "{}-bit {} PNG is not supported (only {} bits)".format(
            depth, _COLOUR_TYPES[colour][0], ", ".join(map(str, allowed))))
    if compression != 0 or filtering != 0:
        raise DataFileError(path, "PNG uses an unknown compression or filter method")
    if interlace != 0:
        raise DataFileError(path, "interlaced PNG is not supported; save it without interlacing")
    if width == 0 or height == 0:
        raise DataFileError(path, "PNG of {} x {} pixels holds nothing".format(width, height))
    too_many = _too_many_pixels(path, "PNG", width, height)
    if too_many is not None:
        raise too_many
    if colour == 3 and not palette:
        raise DataFileError(path, "palette PNG without a PLTE chunk")
    if not compressed:
        raise DataFileError(path, "PNG has no IDAT chunk")
    return width, height, depth, colour


def _grey_row(path, y, values, width, depth, colour, palette, transparency):
    """Row y's samples as `width` grey bytes, colours and transparency laid on white paper."""
    if colour == 0:
        if depth != 8:
            scale = 255 // ((1 << depth) - 1)
            values = bytes(v * scale for v in values)
        return values
    if colour == 4:
        return bytes(_on_white(values[2 * x], values[2 * x + 1]) for x in range(width))
    if colour == 2:
        return bytes(_grey(*values[3 * x:3 * x + 3]) for x in range(width))
    if colour == 6:
        return bytes(_on_white(_grey(*values[4 * x:4 * x + 3]), values[4 * x + 3]) for x in range(width))
    row = bytearray(width)
    for x in range(width):
        index = values[x]
        if 3 * index + 3 > len(palette):
            raise DataFileError(path, "PNG pixel ({}, {}) uses palette entry {} of {}".format(
                x, y, index, len(palette) // 3))
        value = _grey(*palette[3 * index:3 * index + 3])
        if transparency is not None and index < len(transparency):
            value = _on_white(value, transparency[index])
        row[x] = value
    return row


def write_png(path, width, height, pixels):
    """Write an 8-bit greyscale PNG, atomically."""
    if len(pixels) != width * height:
        raise ValueError("write_png: {} pixels for {} x {}".format(len(pixels), width, height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + bytes(pixels[y * width:(y + 1) * width]) for y in range(height))
    data = (_PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    write_bytes(path, data, suffix=".png")


#### PGM and PBM

# No number in a PGM or PBM file purenn decodes has more digits than this
# (sizes up to MAX_PIXELS, values up to 65535).
_MAX_DIGITS = 12

def _pnm_tokens(data, start, count, path):
    """`count` whitespace-separated header tokens from `start` (comments skipped); and where they end."""
    tokens, at = [], start
    while len(tokens) < count:
        while at < len(data) and data[at:at + 1].isspace():
            at += 1
        if data[at:at + 1] == b"#":
            while at < len(data) and data[at:at + 1] not in (b"\n", b"\r"):
                at += 1
            continue
        begin = at
        while at < len(data) and not data[at:at + 1].isspace() and data[at:at + 1] != b"#":
            at += 1
        if begin == at:
            raise DataFileError(path, "truncated PGM/PBM header")
        token = data[begin:at]
        if not token.isdigit():
            raise DataFileError(path, "PGM/PBM header has {!r} where a number belongs".format(token[:20]))
        if len(token) > _MAX_DIGITS:  # int() of thousands of digits is slow, and refused past 4300
            raise DataFileError(path, "PGM/PBM has a number of {} digits, far larger than any picture's".format(
                len(token)))
        tokens.append(int(token))
    return tokens, at


def read_pnm(path):
    """(width, height, grey pixels) from a PGM (P2, P5) or PBM (P1, P4) file."""
    path = str(path)
    return _decode_pnm(path, _read(path))


def _decode_pnm(path, data):
    magic = data[:2]
    if magic not in (b"P1", b"P2", b"P4", b"P5"):
        raise DataFileError(path, "not a PGM or PBM file (magic {!r})".format(magic))
    bitmap = magic in (b"P1", b"P4")
    (width, height, *rest), at = _pnm_tokens(data, 2, 2 if bitmap else 3, path)
    maxval = 1 if bitmap else rest[0]
    if width == 0 or height == 0:
        raise DataFileError(path, "picture of {} x {} pixels holds nothing".format(width, height))
    too_many = _too_many_pixels(path, "picture", width, height)
    if too_many is not None:
        raise too_many
    if not 1 <= maxval <= 65535:
        raise DataFileError(path, "PGM maximum value {} is not from 1 to 65535".format(maxval))
    n = width * height
    if magic in (b"P1", b"P2"):  # plain: numbers in text (P1 digits may run together)
        body = data[at:]
        if magic == b"P1":
            values = [int(c) for c in body.decode("latin-1") if c in "01"]
        else:
            values, _ = _pnm_tokens(data, at, n, path) if n else ([], at)
    elif magic == b"P4":
        stride = (width + 7) // 8
        body = data[at + 1:at + 1 + stride * height]
        if len(body) < stride * height:
            raise DataFileError(path, "truncated PBM: {} bytes of pixels, {} needed".format(len(body), stride * height))
        values = [(body[y * stride + x // 8] >> (7 - x % 8)) & 1 for y in range(height) for x in range(width)]
    else:
        size = 2 if maxval > 255 else 1
        body = data[at + 1:at + 1 + n * size]
        if len(body) < n * size:
            raise DataFileError(path, "truncated PGM: {} bytes of pixels, {} needed".format(len(body), n * size))
        values = list(body) if size == 1 else list(struct.unpack(">{}H".format(n), body))
    if len(values) < n:
        raise DataFileError(path, "truncated: {} pixels, {} x {} needs {}".format(len(values), width, height, n))
    if bitmap:  # in PBM, 1 is black
        return width, height, bytes(0 if v else 255 for v in values[:n])
    if any(v > maxval for v in values[:n]):
        raise DataFileError(path, "a pixel exceeds the maximum value {}".format(maxval))
    return width, height, bytes((v * 255 + maxval // 2) // maxval for v in values[:n])


def write_pgm(path, width, height, pixels):
    """Write a binary PGM (P5, maximum 255), atomically."""
    if len(pixels) != width * height:
        raise ValueError("write_pgm: {} pixels for {} x {}".format(len(pixels), width, height))
    write_bytes(path, "P5\n{} {}\n255\n".format(width, height).encode("ascii") + bytes(pixels), suffix=".pgm")


#### Grids of digits, with captions

# A 3 x 5 pixel font: each glyph is five rows of three bits.
_FONT = {
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"), "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"), "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "111"),
    "-": ("000", "000", "111", "000", "000"), ">": ("100", "010", "001", "010", "100"),
    " ": ("000", "000", "000", "000", "000"), "?": ("111", "001", "011", "000", "010"),
}


def _draw_text(canvas, width, x0, y0, text, scale):
    for i, ch in enumerate(text):
        glyph = _FONT.get(ch, _FONT["?"])
        for gy, row in enumerate(glyph):
            for gx, bit in enumerate(row):
                if bit == "1":
                    for dy in range(scale):
                        for dx in range(scale):
                            canvas[(y0 + gy * scale + dy) * width + x0 + (i * 4 + gx) * scale + dx] = 0


def digit_grid(digits, captions=None, columns=10, scale=2, side=28):
    """(width, height, pixels) of a grid of MNIST digits drawn dark on white.

    `digits` are Images or sequences of side*side floats in [0, 1] (ink
    high, as MNIST stores them); `captions` (e.g. "7->2") are written under
    each in a small font: digits, "-", ">" and spaces.
    """
    digits = list(digits)
    captions = list(captions) if captions is not None else [""] * len(digits)
    rows = max(1, (len(digits) + columns - 1) // columns)
    cell_w = side * scale + 8
    text_h = 5 * scale + 6
    cell_h = side * scale + text_h + 4
    width, height = columns * cell_w, rows * cell_h
    canvas = bytearray([255]) * (width * height)
    for n, (digit, caption) in enumerate(zip(digits, captions)):
        x0, y0 = (n % columns) * cell_w + 4, (n // columns) * cell_h + 4
        pixels = getattr(digit, "pixels", None)
        values = pixels if pixels is not None else bytes(min(255, max(0, int(round(v * 256)))) for v in digit)
        for y in range(side):
            for x in range(side):
                shade = 255 - values[y * side + x]
                for dy in range(scale):
                    start = (y0 + y * scale + dy) * width + x0 + x * scale
                    canvas[start:start + scale] = bytes([shade]) * scale
        _draw_text(canvas, width, x0, y0 + side * scale + 4, caption[:(cell_w - 4) // (4 * scale)], scale)
    return width, height, bytes(canvas)


_SHADES = " .:-=+*#%@"


def to_terminal(pixels, width, height):
    """Lines of characters, darker characters for brighter pixels (ink), two per pixel across."""
    steps = len(_SHADES) - 1
    return ["".join(_SHADES[(pixels[y * width + x] * steps + 127) // 255] * 2 for x in range(width))
            for y in range(height)]
