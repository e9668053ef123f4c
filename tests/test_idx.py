"""The IDX reader and writer, on files the tests build byte by byte with struct."""

import gzip
import struct

import pytest

from purenn.errors import ArgumentError, DataFileError
from purenn.files.idx import DTYPES, IdxWriter, read_idx, write_idx

# (name, type code, struct letter, sample values) for all six IDX types
TYPES = [
    ("ubyte", 0x08, "B", [0, 1, 127, 128, 255, 7]),
    ("byte", 0x09, "b", [-128, -1, 0, 1, 127, 5]),
    ("short", 0x0B, "h", [-32768, -1, 0, 1, 32767, 300]),
    ("int", 0x0C, "i", [-2 ** 31, -1, 0, 1, 2 ** 31 - 1, 70000]),
    ("float", 0x0D, "f", [-1.5, 0.0, 0.25, 3.0, 1e10, -2.0 ** -20]),
    ("double", 0x0E, "d", [-1.5, 0.1, 1e300, -0.0, 2.0 ** -1074, 1 / 3]),
]


def idx_bytes(code, shape, letter, values):
    """An IDX file's bytes, built independently of purenn.idx."""
    header = bytes([0, 0, code, len(shape)]) + struct.pack(">{}I".format(len(shape)), *shape)
    return header + struct.pack(">{}{}".format(len(values), letter), *values)


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name,code,letter,values", TYPES, ids=[t[0] for t in TYPES])
def test_reads_every_element_type_plain_and_gzip(tmp_path, name, code, letter, values, compressed):
    raw = idx_bytes(code, (2, 3), letter, values)
    path = tmp_path / "array.idx"  # no .gz in the name: gzip is told from the bytes
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    result = read_idx(path)
    assert result.dtype == name
    assert result.shape == (2, 3)
    assert result.count == 6
    expected = list(struct.unpack(">6" + letter, raw[12:]))  # float32 values as stored
    assert [struct.pack(">d", v) for v in result.data] == [struct.pack(">d", v) for v in expected]


@pytest.mark.parametrize("name,code,letter,values", TYPES, ids=[t[0] for t in TYPES])
def test_writer_produces_the_exact_bytes_of_the_format(tmp_path, name, code, letter, values):
    path = tmp_path / "out.idx"
    write_idx(path, values, (3, 2), name)
    assert path.read_bytes() == idx_bytes(code, (3, 2), letter, values)


@pytest.mark.parametrize("name", sorted(DTYPES))
def test_gzip_write_round_trips_and_is_reproducible(tmp_path, name):
    values = [v for n, _, _, vs in TYPES if n == name for v in vs]
    first, second = tmp_path / "a.idx.gz", tmp_path / "b.idx.gz"
    write_idx(first, values, (6,), name)
    write_idx(second, values, (6,), name)
    assert first.read_bytes()[:2] == b"\x1f\x8b"
    assert first.read_bytes() == second.read_bytes()
    back = read_idx(first)
    assert (back.dtype, back.shape) == (name, (6,))
    if name == "float":  # stored as float32: compare with struct's rounding of the same values
        values = list(struct.unpack("<6f", struct.pack("<6f", *values)))
    assert list(back.data) == values


def test_writer_compression_can_be_forced_either_way(tmp_path):
    plain = tmp_path / "named.gz"
    write_idx(plain, [1, 2], (2,), compress=False)
    assert plain.read_bytes()[:2] == b"\x00\x00"
    packed = tmp_path / "named.idx"
    write_idx(packed, [1, 2], (2,), compress=True)
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert list(read_idx(plain).data) == list(read_idx(packed).data) == [1, 2]


def test_writer_streams_pieces_and_checks_the_count(tmp_path):
    path = tmp_path / "images.gz"
    with IdxWriter(path, (3, 2, 2), "ubyte") as out:
        for i in range(3):
            out.write(bytes([i, i, i, 255]))
    result = read_idx(path)
    assert result.shape == (3, 2, 2)
    assert list(result.data) == [0, 0, 0, 255, 1, 1, 1, 255, 2, 2, 2, 255]


def test_writer_leaves_nothing_behind_when_short_or_failing(tmp_path):
    path = tmp_path / "short.idx"
    with pytest.raises(ArgumentError, match="1 elements written, shape 2 needs 2"):
        with IdxWriter(path, (2,)) as out:
            out.write([1])
    with pytest.raises(RuntimeError):
        with IdxWriter(path, (2,)) as out:
            out.write([1])
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_writer_keeps_the_old_file_until_the_new_one_is_complete(tmp_path):
    path = tmp_path / "data.idx"
    write_idx(path, [1, 2, 3], (3,))
    before = path.read_bytes()
    with pytest.raises(ArgumentError):
        write_idx(path, [1, 2], (3,))
    assert path.read_bytes() == before


def test_writer_rejects_values_that_do_not_fit(tmp_path):
    with pytest.raises(ArgumentError, match="does not fit IDX type ubyte"):
        write_idx(tmp_path / "x.idx", [256], (1,))
    with pytest.raises(ArgumentError, match="more than the 1 elements"):
        write_idx(tmp_path / "x.idx", [1, 2], (1,))
    with pytest.raises(ArgumentError, match="not an IDX element type"):
        write_idx(tmp_path / "x.idx", [1], (1,), "uint16")


def test_reads_big_endian_multibyte_values(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE]))
    assert list(read_idx(path).data) == [0x0102, -2]


@pytest.mark.parametrize("content,message", [
    (b"", "empty file"),
    (b"\x00\x00", "truncated header: 2 bytes"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x00", "not an IDX file: first bytes are 0x01 0x00"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX element type 0x07"),
    (b"\x00\x00\x08\x00", "declares 0 dimensions"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01", "truncated header: 2 dimensions declared"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", "truncated: the header declares 3 ubyte = 3 bytes"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "1 bytes after the 1 ubyte data"),
    (b"\x00\x00\x08\x03\x80\x00\x00\x00\x00\x00\x03\x10\x00\x00\x03\x10\x05",
     "truncated: the header declares 2147483648x784x784 ubyte"),
])
def test_malformed_files_raise_data_file_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_corrupt_and_truncated_gzip_raise_data_file_error(tmp_path):
    packed = gzip.compress(idx_bytes(0x08, (100,), "B", list(range(100))))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[:-12])
    with pytest.raises(DataFileError, match="corrupt or truncated gzip"):
        read_idx(cut)
    flipped = bytearray(packed)
    flipped[-5] ^= 0xFF  # the stored length no longer matches
    bad = tmp_path / "bad.gz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(DataFileError, match="corrupt or truncated gzip"):
        read_idx(bad)


def test_missing_file_is_a_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match="cannot open"):
        read_idx(tmp_path / "nowhere.idx")
