"""Pictures: PNG and PGM/PBM read (from files these tests encode themselves,
every colour type and filter) and written; grids; recognising digits in
pictures of other sizes, polarities and colours."""

import struct
import zlib

import pytest

from purenn import cli, network2
from purenn.errors import DataFileError
from purenn.mnist_loader import Image
from purenn.files.pictures import digit_grid, read_picture, to_terminal, write_pgm, write_png
from purenn.files.handwriting import mnist_style, predict


def png_bytes(width, height, colour, rows, depth=8, filters=None, palette=None, trns=None, interlace=0):
    """A PNG built here, independently of purenn: rows are bytes of samples per row (already packed
    for depths below 8); each row is filtered with filters[y] (0-4)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    bpp = max(1, channels * depth // 8)
    out, previous = b"", bytes(len(rows[0]))
    for y, row in enumerate(rows):
        kind = (filters or [0] * height)[y]
        enc = bytearray()
        for i, v in enumerate(row):
            left = row[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 0:
                p = 0
            elif kind == 1:
                p = left
            elif kind == 2:
                p = up
            elif kind == 3:
                p = (left + up) // 2
            else:
                e = left + up - corner
                pa, pb, pc = abs(e - left), abs(e - up), abs(e - corner)
                p = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            enc.append((v - p) & 0xFF)
        out += bytes([kind]) + bytes(enc)
        previous = row

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0,
                                                            interlace))
    if palette:
        data += chunk(b"PLTE", palette)
    if trns:
        data += chunk(b"tRNS", trns)
    return data + chunk(b"IDAT", zlib.compress(out)) + chunk(b"IEND", b"")


GREYS = [[0, 64, 128, 255], [10, 20, 30, 40], [255, 254, 1, 0]]  # 4 x 3


@pytest.mark.parametrize("filters", [[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4], [0, 3, 4]])
def test_grey_png_with_every_filter(tmp_path, filters):
    path = tmp_path / "g.png"
    path.write_bytes(png_bytes(4, 3, 0, [bytes(r) for r in GREYS], filters=filters))
    assert read_picture(path) == (4, 3, bytes(sum(GREYS, [])))


def test_colour_pngs_become_grey(tmp_path):
    rgb = [bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 200, 200])]
    (tmp_path / "rgb.png").write_bytes(png_bytes(4, 1, 2, rgb, filters=[4]))
    assert read_picture(tmp_path / "rgb.png")[2] == bytes([76, 150, 29, 200])  # Rec. 601 luma
    rgba = [bytes([0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128])]
    (tmp_path / "rgba.png").write_bytes(png_bytes(3, 1, 6, rgba, filters=[1]))
    assert read_picture(tmp_path / "rgba.png")[2] == bytes([0, 255, 127])  # transparent lies on white
    grey_alpha = [bytes([100, 255, 100, 0])]
    (tmp_path / "ga.png").write_bytes(png_bytes(2, 1, 4, grey_alpha, filters=[3]))
    assert read_picture(tmp_path / "ga.png")[2] == bytes([100, 255])
    palette = bytes([0, 0, 0, 255, 255, 255, 255, 0, 0])
    (tmp_path / "p.png").write_bytes(png_bytes(3, 1, 3, [bytes([2, 1, 0])], palette=palette))
    assert read_picture(tmp_path / "p.png")[2] == bytes([76, 255, 0])
    packed = [bytes([0b00011011])]  # 2-bit palette indices 0, 1, 2, 3... three used
    (tmp_path / "p2.png").write_bytes(png_bytes(3, 1, 3, packed, depth=2, palette=palette + bytes([9, 9, 9])))
    assert read_picture(tmp_path / "p2.png")[2] == bytes([0, 255, 76])
    (tmp_path / "g1.png").write_bytes(png_bytes(8, 1, 0, [bytes([0b10100000])], depth=1))
    assert read_picture(tmp_path / "g1.png")[2] == bytes([255, 0, 255, 0, 0, 0, 0, 0])


def test_png_and_pgm_round_trip(tmp_path):
    pixels = bytes(range(0, 240, 10)) * 2
    write_png(tmp_path / "w.png", 6, 8, pixels)
    write_pgm(tmp_path / "w.pgm", 6, 8, pixels)
    assert read_picture(tmp_path / "w.png") == read_picture(tmp_path / "w.pgm") == (6, 8, pixels)


def test_plain_pgm_and_pbm(tmp_path):
    (tmp_path / "a.pgm").write_bytes(b"P2\n# a comment\n3 2\n15\n0 15 7\n8 1 2\n")
    assert read_picture(tmp_path / "a.pgm") == (3, 2, bytes([0, 255, 119, 136, 17, 34]))
    (tmp_path / "b.pbm").write_bytes(b"P1\n3 2\n1 0 1\n0 1 0\n")
    assert read_picture(tmp_path / "b.pbm") == (3, 2, bytes([0, 255, 0, 255, 0, 255]))
    (tmp_path / "c.pbm").write_bytes(b"P4\n3 2\n" + bytes([0b10100000, 0b01000000]))
    assert read_picture(tmp_path / "c.pbm")[2] == bytes([0, 255, 0, 255, 0, 255])


@pytest.mark.parametrize("make,message", [
    (lambda: b"GIF89a", "not a PNG, PGM or PBM picture"),
    (lambda: png_bytes(4, 3, 0, [bytes(r) for r in GREYS])[:-20], "truncated PNG"),
    (lambda: png_bytes(4, 3, 0, [bytes(r) for r in GREYS], interlace=1), "interlaced PNG is not supported"),
    (lambda: png_bytes(2, 1, 2, [bytes(12)], depth=16), "16-bit RGB PNG is not supported"),
    (lambda: _corrupt_crc(png_bytes(4, 3, 0, [bytes(r) for r in GREYS])), "bad CRC in PNG chunk 'IHDR'"),
    (lambda: _huge_png(), "larger than the"),
    (lambda: b"P5\n3 2\n255\n\x00", "truncated PGM"),
    (lambda: b"P2\n" + b"9" * 5000 + b" 2\n255\n0 0\n", "a number of 5000 digits"),
    (lambda: b"P2\n2 1\n255\n0 " + b"7" * 5000 + b"\n", "a number of 5000 digits"),
    (lambda: b"P2\n2 1\n" + b"0" * 5000 + b"9\n0 0\n", "a number of 5001 digits"),
])
def test_bad_pictures_raise_data_file_error(tmp_path, make, message):
    path = tmp_path / "bad.img"
    path.write_bytes(make())
    with pytest.raises(DataFileError, match=message) as info:
        read_picture(path)
    assert str(path) in str(info.value)


def _corrupt_crc(data):
    data = bytearray(data)
    data[29] ^= 1  # the IHDR CRC
    return bytes(data)


def _huge_png():
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def test_grid_and_terminal(tmp_path):
    digit = Image(bytes([255 if 8 <= x < 20 and 4 <= y < 24 else 0 for y in range(28) for x in range(28)]))
    width, height, pixels = digit_grid([digit, digit, digit], ["7->1", "2", ""], columns=2, scale=1)
    assert (width, height) == (2 * 36, 2 * (28 + 11 + 4))
    assert pixels[4 * width + 4] == 255 and pixels[10 * width + 14] == 0  # white paper, dark ink
    assert 0 in pixels[(4 + 28 + 4) * width:(4 + 28 + 9) * width]  # a caption was drawn
    lines = to_terminal(digit.pixels, 28, 28)
    assert len(lines) == 28 and lines[10][16:40] == "@" * 24 and lines[0] == " " * 56


def picture_of(image, zoom, invert, margin, rgb):
    """A test digit drawn larger, shifted by a margin, maybe inverted and in RGB, as PNG bytes."""
    side = 28 * zoom + 2 * margin + 7
    rows = []
    for y in range(side):
        row = []
        for x in range(side):
            sy, sx = (y - margin) // zoom, (x - margin - 7) // zoom
            v = image.pixels[sy * 28 + sx] if 0 <= sy < 28 and 0 <= sx < 28 and y >= margin and x >= margin + 7 else 0
            v = 255 - v if invert else v
            row.extend([v, v, v] if rgb else [v])
        rows.append(bytes(row))
    return png_bytes(side, side, 2 if rgb else 0, rows, filters=[y % 5 for y in range(side)])


@pytest.fixture(scope="module")
def trained(mnist):
    training, _, _ = mnist
    net = network2.Network([784, 30, 10], seed=1)
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        net.SGD(training[:10000], 2, 10, 0.5)
    return net


def test_digits_drawn_bigger_shifted_inverted_and_in_colour_are_recognised(trained, mnist, tmp_path):
    _, _, test = mnist
    agree, total = 0, 0
    for i, (x, _) in enumerate(test[:40]):
        expected = max(range(10), key=trained.feedforward(x).__getitem__)
        path = tmp_path / "digit{}.png".format(i)
        path.write_bytes(picture_of(x, zoom=2 + i % 4, invert=i % 2 == 0, margin=3 + 5 * (i % 3), rgb=i % 3 == 0))
        digit, outputs, image = predict(trained, path)
        assert len(outputs) == 10 and len(image) == 784
        agree += int(digit == expected)
        total += 1
    assert agree >= 0.85 * total, "{} of {}".format(agree, total)


def test_mnist_style_centres_the_ink(tmp_path):
    pixels = bytearray([255] * (60 * 40))  # white paper, a dark 10 x 30 bar near a corner
    for y in range(2, 32):
        for x in range(3, 13):
            pixels[y * 60 + x] = 0
    image = mnist_style(60, 40, bytes(pixels))
    rows = [y for y in range(28) if any(image.pixels[y * 28:(y + 1) * 28])]
    cols = [x for x in range(28) if any(image.pixels[y * 28 + x] for y in range(28))]
    assert len(rows) == 20 and rows[0] == 4  # fitted to 20 pixels high, centred
    assert 6 <= len(cols) <= 8 and 10 <= cols[0] <= 11


def test_predict_from_the_command_line_saves_what_the_network_saw(trained, mnist, tmp_path, capsys):
    _, _, test = mnist
    model = tmp_path / "net.json"
    trained.save(model)
    picture = tmp_path / "seven.png"
    picture.write_bytes(picture_of(test[0][0], zoom=3, invert=True, margin=10, rgb=True))
    assert cli.main(["predict", str(model), str(picture), "--save-input", str(tmp_path / "seen.png")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("{}: 7 (".format(picture))
    assert "outputs: 0:" in out
    assert read_picture(tmp_path / "seen.png")[:2] == (28, 28)
