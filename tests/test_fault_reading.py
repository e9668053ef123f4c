"""Input that would cost without end is bad input too (issue 12): a gzip bomb,
a picture whose header promises more than can be decoded, a FIFO or a device
in place of a file.  Each is refused in one line naming the file, exit status
2, before the cost is paid: what a file may cost is bounded by what its header
declares and a stated cap.  Command-line cases run `python -m purenn` as real
processes, with a timeout, so that a hang fails the test."""

import os
import struct
import subprocess
import sys
import zlib

import pytest

import purenn as package
from purenn import network2
from purenn.cli import options
from purenn.errors import DataFileError, ModelFileError
from purenn.files import idx, modelfile, pictures
from purenn.files.idx import read_idx, write_idx
from purenn.files.pictures import read_picture, write_png

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


def purenn(args, cwd):
    """`python -m purenn ARGS` in `cwd`, running the purenn these tests import."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(package.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return subprocess.run([sys.executable, "-m", "purenn"] + args, cwd=str(cwd), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60, env=env)


def one_line(stderr):
    assert "Traceback" not in stderr, stderr
    assert stderr.count("\n") == 1, stderr
    return stderr.strip()


def refused(args, cwd):
    """The one line `purenn ARGS` printed, having failed with exit status 2 and printed nothing else."""
    done = purenn(args, cwd)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    return one_line(done.stderr)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "net.json"
    network2.Network([784, 10, 10], seed=1).save(path)
    return path


def data_dir(directory, images=None, shape=(12, 28, 28)):
    """A data directory in MNIST's layout whose images (train and test) are `images`
    (a flat list of pixels of `shape`, a pattern by default)."""
    directory.mkdir()
    count = 1
    for size in shape:
        count *= size
    if images is None:
        images = [(7 * i) % 256 for i in range(count)]
    for prefix in ("train", "t10k"):
        write_idx(directory / "{}-images-idx3-ubyte".format(prefix), images, shape)
        write_idx(directory / "{}-labels-idx1-ubyte".format(prefix), [i % 10 for i in range(shape[0])], shape[:1])
    return directory


def gzip_bomb(n, rows, cols, megabytes):
    """A gzip stream of an IDX header declaring n x rows x cols ubyte, then `megabytes`
    MB of zeros (some 1 KB each) -- and then bytes that are not deflate at all, so
    that a reader that inflated as far as them would call the file corrupt."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    parts = [deflate.compress(bytes([0, 0, 0x08, 3]) + struct.pack(">3I", n, rows, cols))]
    zeros = bytes(1 << 20)
    for _ in range(megabytes):
        parts.append(deflate.compress(zeros))
    parts.append(deflate.flush(zlib.Z_FULL_FLUSH))
    return b"".join(parts) + b"\xff" * 64


def sparse(path, head, size):
    """A file of `size` bytes that begins with `head` and is a hole after it (no disk used)."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


#### IDX files

def test_a_gzip_whose_header_claims_2_to_the_31_images_is_refused_before_inflating(tmp_path):
    data = data_dir(tmp_path / "data")
    bomb = gzip_bomb(2 ** 31, 28, 28, 16)
    (data / "train-images-idx3-ubyte").unlink()
    (data / "train-images-idx3-ubyte.gz").write_bytes(bomb)
    # Had it inflated the 16 MB of zeros, it would have met the bytes that are
    # not deflate and said "corrupt or truncated gzip data".
    assert refused(["show", "--data", "data"], tmp_path) == (
        "purenn: error: data/train-images-idx3-ubyte.gz: truncated or damaged: the header declares "
        "2147483648x28x28 ubyte = 1683627180032 bytes of data, more than a gzip file of {} bytes can hold "
        "(deflate expands at most 1032:1)".format(len(bomb)))


def test_a_gzip_that_could_hold_its_claim_is_still_refused_above_the_cap(tmp_path):
    # 2 GiB of 1 x 1 images: a 3 MB gzip file could hold that much, but it is
    # more than MAX_BYTES (the file is a hole after its first few bytes).
    path = sparse(tmp_path / "images.gz", gzip_bomb(2 ** 31, 1, 1, 1), 3 * 2 ** 20)
    with pytest.raises(DataFileError) as caught:
        read_idx(path)
    assert str(caught.value) == ("{}: the header declares 2147483648x1x1 ubyte = 2147483648 bytes of data, more "
                                 "than the 1 GiB (1,073,741,824 bytes) purenn reads from an IDX file".format(path))


def test_a_plain_file_above_the_cap_is_refused_without_reading_it(tmp_path):
    n = idx.MAX_BYTES + 1
    data = data_dir(tmp_path / "data")
    sparse(data / "t10k-images-idx3-ubyte", bytes([0, 0, 0x08, 3]) + struct.pack(">3I", n, 1, 1), 16 + n)
    assert refused(["show", "--data", "data"], tmp_path) == (
        "purenn: error: data/t10k-images-idx3-ubyte: the header declares {0}x1x1 ubyte = {0} bytes of data, "
        "more than the 1 GiB (1,073,741,824 bytes) purenn reads from an IDX file".format(n))


def test_a_plain_file_shorter_or_longer_than_its_header_declares_is_refused_up_front(tmp_path):
    short = tmp_path / "short.idx"
    short.write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2 ** 31, 28, 28) + bytes(100))
    with pytest.raises(DataFileError, match="truncated: the header declares 2147483648x28x28 ubyte = "
                                            "1683627180032 bytes of data, the file holds 100$"):
        read_idx(short)
    long = tmp_path / "long.idx"
    long.write_bytes(bytes([0, 0, 0x08, 1, 0, 0, 0, 10]) + bytes(10 + 3 * 2 ** 20))
    with pytest.raises(DataFileError, match=r"long.idx: 3145728 bytes after the 10 ubyte data the header declares$"):
        read_idx(long)


def test_more_than_the_memory_available_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "images.idx"
    write_idx(path, bytes(2000), (2000,))
    monkeypatch.setattr(idx, "available_memory", lambda: 1000)
    with pytest.raises(DataFileError, match=r"images.idx: the header declares 2000 ubyte = 2000 bytes of data, "
                                            r"more than the 1,000 bytes of memory available$"):
        read_idx(path)


def test_a_gzip_far_larger_than_its_contents_is_refused_without_reading_its_padding(tmp_path):
    # gzip skips zero padding after a member a byte at a time, some 100 ns a byte:
    # 64 MiB of it would take seconds, a few GiB many minutes.  The file is far
    # more than its 18 bytes of IDX can need.
    head = zlib.compressobj(9, zlib.DEFLATED, 31)
    member = head.compress(bytes([0, 0, 0x08, 1, 0, 0, 0, 10]) + bytes(10)) + head.flush()
    path = sparse(tmp_path / "padded.gz", member, 64 * 2 ** 20)
    with pytest.raises(DataFileError, match=r"padded.gz: a gzip file of 67108864 bytes, far more than the 18 "
                                            r"bytes of IDX its header declares need: trailing data or padding$"):
        read_idx(path)


def test_data_past_the_declared_inside_a_gzip_is_read_no_further_than_a_piece(tmp_path):
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    stream = deflate.compress(bytes([0, 0, 0x08, 1, 0, 0, 0, 10]) + bytes(10 + 8 * 2 ** 20)) + deflate.flush()
    (tmp_path / "long.gz").write_bytes(stream)
    with pytest.raises(DataFileError, match="more than 1048576 bytes after the 10 ubyte data the header declares"):
        read_idx(tmp_path / "long.gz")


def test_the_expanded_mnist_fits_under_the_cap_five_times_over():
    assert 260000 * 28 * 28 * 5 < idx.MAX_BYTES


#### Pictures

def _png(width, height, idat, colour=0):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_a_small_png_of_8192_by_8192_is_refused_from_its_header(model, tmp_path):
    # Its image data is not deflate at all: inflating it would say "corrupt".
    (tmp_path / "big.png").write_bytes(_png(8192, 8192, b"not deflate"))
    assert refused(["predict", str(model), "big.png"], tmp_path) == (
        "purenn: error: big.png: PNG of 8192 x 8192 pixels is larger than the 4194304 pixels (2048 x 2048) "
        "purenn decodes; scale it down")


def test_pgm_and_pbm_dimensions_are_capped_too(tmp_path):
    for name, head, size in (("big.pgm", b"P5\n4096 4096\n255\n", "4096 x 4096"),
                             ("big.pbm", b"P4\n2049 2048\n", "2049 x 2048")):
        (tmp_path / name).write_bytes(head + bytes(64))
        with pytest.raises(DataFileError, match="{}: picture of {} pixels is larger than the 4194304 pixels "
                                                "[(]2048 x 2048[)] purenn decodes; scale it down$".format(name, size)):
            read_picture(tmp_path / name)


def test_a_picture_at_the_cap_is_read(tmp_path):
    write_png(tmp_path / "cap.png", 2048, 2048, bytes(2048 * 2048))
    assert read_picture(tmp_path / "cap.png")[:2] == (2048, 2048)
    assert pictures.MAX_PIXELS == 2048 * 2048


def test_a_png_is_never_inflated_past_what_its_header_promises(tmp_path):
    (tmp_path / "more.png").write_bytes(_png(4, 3, zlib.compress(bytes(100 * 2 ** 20))))
    with pytest.raises(DataFileError, match=r"more.png: PNG image data holds more than 15 bytes, "
                                            r"4 x 3 grey needs 15$"):
        read_picture(tmp_path / "more.png")


def test_a_picture_file_larger_than_the_cap_is_not_read(tmp_path):
    path = sparse(tmp_path / "huge.png", _png(28, 28, zlib.compress(bytes(28 * 29))), pictures.MAX_FILE_BYTES + 1)
    with pytest.raises(DataFileError, match=r"huge.png: 34,603,009 bytes, larger than the 33 MiB "
                                            r"[(]34,603,008 bytes[)] purenn reads as a picture$"):
        read_picture(path)


#### Not regular files: FIFOs and devices

@needs_fifo
@pytest.mark.parametrize("args", [["evaluate", "fifo"], ["train", "--resume", "fifo"]])
def test_a_fifo_as_model_or_checkpoint_is_refused_at_once(tmp_path, args):
    os.mkfifo(str(tmp_path / "fifo"))
    assert refused(args, tmp_path) == "purenn: error: fifo: not a regular file (a FIFO)"


@needs_fifo
def test_a_fifo_as_a_picture_is_refused_at_once(model, tmp_path):
    os.mkfifo(str(tmp_path / "fifo"))
    assert refused(["predict", str(model), "fifo"], tmp_path) == "purenn: error: fifo: not a regular file (a FIFO)"


@needs_fifo
def test_a_fifo_among_the_data_files_is_named_not_missing(tmp_path):
    data = data_dir(tmp_path / "data")
    (data / "t10k-labels-idx1-ubyte").unlink()
    os.mkfifo(str(data / "t10k-labels-idx1-ubyte"))
    assert refused(["show", "--data", "data"], tmp_path) == (
        "purenn: error: data/t10k-labels-idx1-ubyte: not a regular file (a FIFO)")
    assert refused(["expand", "--data", "data", "--out", "out", "--quiet"], tmp_path) == (
        "purenn: error: data/t10k-labels-idx1-ubyte: not a regular file (a FIFO)")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_evaluating_dev_zero_is_refused_at_once(tmp_path):
    assert refused(["evaluate", "/dev/zero"], tmp_path) == (
        "purenn: error: /dev/zero: not a regular file (a character device)")


def test_a_directory_as_a_model_says_so(tmp_path):
    with pytest.raises(ModelFileError, match="not a regular file [(]a directory[)]$"):
        network2.load(tmp_path)


def test_a_model_file_larger_than_the_cap_is_not_read(tmp_path):
    path = sparse(tmp_path / "huge.json", b"[", modelfile.MAX_BYTES + 1)
    with pytest.raises(ModelFileError) as caught:
        network2.load(path)
    assert str(caught.value) == ("{}: 1,073,741,825 bytes, larger than the 1 GiB (1,073,741,824 bytes) purenn "
                                 "reads as a model or checkpoint file".format(path))


#### Images that are not n x rows x cols, and images of any size in the terminal

@pytest.mark.parametrize("shape", [(12,), (12, 784)])
def test_expand_on_images_that_are_not_n_by_rows_by_cols_is_one_line(tmp_path, shape):
    data_dir(tmp_path / "data", shape=shape)
    assert refused(["expand", "--data", "data", "--out", "out", "--quiet"], tmp_path) == (
        "purenn: error: data/train-images-idx3-ubyte: expected images as ubyte n x rows x cols, found ubyte of "
        "shape {}".format("x".join(map(str, shape))))
    assert not (tmp_path / "out").exists()


def test_show_draws_one_pixel_images(tmp_path):
    data_dir(tmp_path / "data", images=[0, 255], shape=(2, 1, 1))
    done = purenn(["show", "--data", "data"], tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == "test image 0: label 0\n\ntest image 1: label 1\n@@\n"


def test_show_draws_29_by_29_images_as_they_are(tmp_path):
    diagonal = [255 if x == y else 0 for y in range(29) for x in range(29)]
    data_dir(tmp_path / "data", images=diagonal, shape=(1, 29, 29))
    done = purenn(["show", "--data", "data"], tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines() == ["test image 0: label 0"] + ["  " * y + "@@" for y in range(29)]


def test_show_draws_rows_as_rows_and_columns_as_columns(tmp_path):
    top_row = [255] * 5 + [0] * 10  # 3 rows of 5
    data_dir(tmp_path / "data", images=top_row, shape=(1, 3, 5))
    done = purenn(["show", "--data", "data"], tmp_path)
    assert done.stdout.splitlines() == ["test image 0: label 0", "@" * 10, "", ""]


def test_show_with_a_model_for_other_images_names_both(model, tmp_path):
    data_dir(tmp_path / "data", shape=(2, 29, 29))
    assert refused(["show", "--data", "data", "--model", str(model)], tmp_path) == (
        "purenn: error: {}: the network takes 784 inputs, the images in data have 841 pixels".format(model))


#### misclassified --columns

def test_misclassified_columns_has_an_upper_bound(model, tmp_path):
    assert refused(["misclassified", str(model), "--out", "x.png", "--columns", str(10 ** 20)], tmp_path) == (
        "purenn misclassified: error: argument --columns: 100000000000000000000 is more than 100; give 1 to 100 "
        "(see purenn misclassified --help)")
    assert options.at_most(100)("100") == 100
    assert not (tmp_path / "x.png").exists()
