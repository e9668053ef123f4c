"""The book's mnist.pkl.gz: read without NumPy, the same numbers as the IDX files, and never any code run.

The files are made here as the book's was: NumPy arrays (float32 images = bytes / 256, int64
labels) of a slice of the bundled MNIST, pickled with protocol 2 and gzipped -- by NumPy and
Python 3's pickle, and byte by byte as Python 2's cPickle wrote them (strings as BINSTRING).
The loading always runs where NumPy cannot be imported.
"""

import gzip
import hashlib
import io
import json
import os
import pickle
import pickletools
import struct
import subprocess
import sys

import pytest

from purenn import mnist_loader
from purenn.errors import ArgumentError, DataFileError
from purenn.files import bookpickle
from purenn.files.idx import write_idx
from purenn.files.pictures import read_picture

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
SLICE = (100, 50, 50)  # training, validation, test


def _raw(name, header):
    with gzip.open(os.path.join(DATA, name)) as f:
        return f.read()[header:]


@pytest.fixture(scope="module")
def sets():
    """[(pixel bytes, labels)] of the first 100 + 50 training digits and the first 50 test digits."""
    train_pixels, train_labels = _raw("train-images-idx3-ubyte.gz", 16), _raw("train-labels-idx1-ubyte.gz", 8)
    test_pixels, test_labels = _raw("t10k-images-idx3-ubyte.gz", 16), _raw("t10k-labels-idx1-ubyte.gz", 8)
    a, b, c = SLICE
    return [(train_pixels[:a * 784], list(train_labels[:a])),
            (train_pixels[a * 784:(a + b) * 784], list(train_labels[a:a + b])),
            (test_pixels[:c * 784], list(test_labels[:c]))]


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory, sets):
    """The same digits as IDX files: 150 training (the last 50 for validation), 50 test."""
    directory = tmp_path_factory.mktemp("idx")
    training, validation, test = sets
    for prefix, pixels, labels in (("train", training[0] + validation[0], training[1] + validation[1]),
                                   ("t10k",) + test):
        write_idx(str(directory / "{}-images-idx3-ubyte.gz".format(prefix)), pixels, (len(labels), 28, 28))
        write_idx(str(directory / "{}-labels-idx1-ubyte.gz".format(prefix)), labels, (len(labels),))
    return str(directory)


#### Python 2's cPickle, byte by byte

def _string(data):
    """A Python 2 str: SHORT_BINSTRING or BINSTRING."""
    if len(data) < 256:
        return b"U" + bytes([len(data)]) + data
    return b"T" + struct.pack("<i", len(data)) + data


def _int(n):
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    return b"J" + struct.pack("<i", n)


def _global(module, name):
    return b"c" + module + b"\n" + name + b"\n"


def _py2_array(raw, shape, spec, order=b"<", fortran=False):
    """numpy.ndarray.__reduce__ as Python 2's cPickle wrote it, protocol 2."""
    dims = b"".join(_int(s) for s in shape) + {1: b"\x85", 2: b"\x86"}[len(shape)]
    dtype = (_global(b"numpy", b"dtype") + _string(spec) + _int(0) + _int(1) + b"\x87R"
             + b"(" + _int(3) + _string(order) + b"NNN" + b"J\xff\xff\xff\xff" * 2 + _int(0) + b"tb")
    return (_global(b"numpy.core.multiarray", b"_reconstruct") + b"q\x01" + _global(b"numpy", b"ndarray")
            + b"q\x02" + _int(0) + b"\x85" + _string(b"b") + b"\x87R"
            + b"(" + _int(1) + dims + dtype + (b"\x88" if fortran else b"\x89") + _string(raw) + b"tb")


def py2_pickle(sets, image_spec=b"f4", label_spec=b"i8", order=b"<", value=None, image_shape=None, labels_shape=None,
               fortran=False):
    """The bytes of the book's pickle of `sets` [(pixel bytes, labels)], as cPickle wrote them."""
    fmt = "<" if order == b"<" else ">"
    out = b"\x80\x02"
    for pixels, labels in sets:
        floats = [value if value is not None else k / 256 for k in pixels]
        image_fmt, label_fmt = {b"f4": "f", b"f8": "d"}[image_spec], {b"i8": "q", b"i4": "i"}[label_spec]
        n = len(labels)
        out += _py2_array(struct.pack("{}{}{}".format(fmt, len(floats), image_fmt), *floats),
                          image_shape or (n, 784), image_spec, order, fortran)
        out += _py2_array(struct.pack("{}{}{}".format(fmt, n, label_fmt), *labels), labels_shape or (n,),
                          label_spec, order)
        out += b"\x86"
    return out + b"\x87."


def _write(path, data):
    with open(str(path), "wb") as f:
        f.write(gzip.compress(data, mtime=0))
    return str(path)


@pytest.fixture(scope="module")
def py2_file(tmp_path_factory, sets):
    return _write(tmp_path_factory.mktemp("py2") / "mnist.pkl.gz", py2_pickle(sets))


@pytest.fixture(scope="module")
def numpy_file(tmp_path_factory, sets):
    """The book's file as NumPy and Python 3 write it today: float32 = bytes / 256, int64, protocol 2."""
    np = pytest.importorskip("numpy")
    data = tuple((np.frombuffer(pixels, dtype=np.uint8).reshape(-1, 784).astype(np.float32) / np.float32(256),
                  np.array(labels, dtype=np.int64)) for pixels, labels in sets)
    assert data[0][0].dtype == np.float32 and data[0][1].dtype == np.int64
    path = tmp_path_factory.mktemp("numpy") / "mnist.pkl.gz"
    with gzip.open(str(path), "wb") as f:
        pickle.dump(data, f, protocol=2)
    return str(path)


#### Loading where NumPy cannot be imported

_SUMMARY = """
import sys, json, hashlib
sys.modules['numpy'] = None                     # 'import numpy' now fails
from purenn import mnist_loader
def summary(data):
    return [[hashlib.sha256(b''.join(x.pixels for x in images)).hexdigest(), list(labels)] for images, labels in data]
data = mnist_loader.load_data(sys.argv[1])
wrapped = mnist_loader.load_data_wrapper(sys.argv[1])
try:
    import numpy
    sys.exit('numpy was imported')
except ImportError:
    pass
print(json.dumps([summary(data), [[y if isinstance(y, int) else y.index(1.0) for _, y in part] for part in wrapped],
                  'numpy' in sys.modules and sys.modules['numpy'] is not None]))
"""


def _summary(data):
    return [[hashlib.sha256(b"".join(x.pixels for x in images)).hexdigest(), list(labels)] for images, labels in data]


def _load_without_numpy(path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-c", _SUMMARY, path], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("which", ["py2_file", "numpy_file"])
def test_the_books_pickle_loads_without_numpy_to_exactly_what_the_idx_files_give(which, request, idx_dir):
    path = request.getfixturevalue(which)
    summary, wrapped_labels, numpy_loaded = _load_without_numpy(path)
    from_idx = mnist_loader.load_data(idx_dir, validation_size=SLICE[1])
    assert summary == _summary(from_idx)
    assert not numpy_loaded
    assert wrapped_labels == [labels for _, labels in from_idx]


@pytest.mark.parametrize("which", ["py2_file", "numpy_file"])
def test_load_data_and_the_wrapper_equal_the_idx_loaders_value_for_value(which, request, idx_dir):
    path = request.getfixturevalue(which)
    assert mnist_loader.load_data(path) == mnist_loader.load_data(idx_dir, validation_size=SLICE[1])
    assert mnist_loader.load_data_wrapper(path) == mnist_loader.load_data_wrapper(idx_dir, validation_size=SLICE[1])
    training, validation, test = mnist_loader.load_data(path)
    assert [len(images) for images, _ in (training, validation, test)] == list(SLICE)
    assert all(type(x) is mnist_loader.Image for x in training[0])


def test_purenn_keeps_the_bytes_and_they_are_the_books_float32_values_exactly(numpy_file, sets):
    """Every float32 of the book is k / 256 exactly, so the bytes k lose nothing: the Images'
    floats equal NumPy's float32 values, and the IDX bytes / 256."""
    np = pytest.importorskip("numpy")
    for k in range(256):
        assert struct.unpack("<f", struct.pack("<f", k / 256))[0] == k / 256
    with gzip.open(numpy_file) as f:
        book = pickle.load(f)
    loaded = mnist_loader.load_data(numpy_file)
    for (images, labels), (book_images, book_labels), (pixels, _) in zip(loaded, book, sets):
        assert [list(x) for x in images] == book_images.astype(np.float64).tolist()
        assert [list(x) for x in images] == [[p / 256 for p in pixels[i:i + 784]] for i in range(0, len(pixels), 784)]
        assert labels == book_labels.tolist()


def test_the_python2_bytes_are_what_numpy_itself_reads(py2_file, sets):
    """The hand-made cPickle file is an honest oracle: NumPy reads it as the book's loader does."""
    np = pytest.importorskip("numpy")
    with gzip.open(py2_file) as f:
        book = pickle.load(f, encoding="latin1")
    for (images, labels), (pixels, expected) in zip(book, sets):
        assert images.dtype == np.float32 and images.shape == (len(expected), 784) and labels.dtype == np.int64
        assert (images * 256).astype(np.uint8).tobytes() == pixels and labels.tolist() == expected
    ops = {op.name for op, _, _ in pickletools.genops(gzip.decompress(open(py2_file, "rb").read()))}
    assert {"SHORT_BINSTRING", "BINSTRING"} <= ops and "BINUNICODE" not in ops


def test_big_endian_floats_and_int32_labels_are_read_too(tmp_path, sets, idx_dir):
    path = _write(tmp_path / "be.pkl.gz", py2_pickle(sets, label_spec=b"i4", order=b">"))
    assert mnist_loader.load_data(path) == mnist_loader.load_data(idx_dir, validation_size=SLICE[1])


def test_a_validation_size_re_splits_the_pickles_training_and_validation_images(py2_file, idx_dir):
    assert mnist_loader.load_data(py2_file, validation_size=30) == mnist_loader.load_data(idx_dir, validation_size=30)
    with pytest.raises(DataFileError, match="150 training and validation images cannot spare 150"):
        mnist_loader.load_data(py2_file, validation_size=150)


def test_the_pickle_is_found_as_the_data_directory_is(py2_file, monkeypatch):
    assert mnist_loader.find_data_dir(py2_file) == py2_file
    monkeypatch.setenv("PURENN_DATA", py2_file)
    assert mnist_loader.find_data_dir() == py2_file
    assert mnist_loader.image_shape() == (28, 28)
    with pytest.raises(DataFileError, match="not a directory holding train-images-idx3-ubyte: this needs the MNIST IDX"):
        mnist_loader.file_in(py2_file, "train-images-idx3-ubyte")


def test_train_on_the_command_line_reads_the_pickle(py2_file, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-m", "purenn", "train", "--data", py2_file, "--epochs", "1", "--quiet",
                           "--backend", "python"], capture_output=True, text=True, env=env, timeout=300,
                          cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "training on 100, testing on 50" in done.stdout
    assert "Epoch 0" in done.stdout


#### Hostile pickles: refused, and nothing run

def _hostile(tmp_path):
    """Pickles that would create `marker` if their code ran."""
    marker = str(tmp_path / "pwned")
    command = "touch " + marker
    yield "os.system", b"\x80\x02cos\nsystem\n" + _string(command.encode()) + b"\x85R."
    yield "posix.system", pickle.dumps(type("Evil", (), {"__reduce__": lambda self: (os.system, (command,))})(),
                                       protocol=2)
    yield "builtins.eval", (b"\x80\x02cbuiltins\neval\n"
                            + _string("open({!r}, 'w')".format(marker).encode()) + b"\x85R.")
    yield "subprocess.Popen", (b"\x80\x02csubprocess\nPopen\n" + _string(b"touch") + _string(marker.encode())
                               + b"\x86\x85R.")
    # inside the book's structure, after arrays that are fine
    yield "os.system", (b"\x80\x02" + _py2_array(bytes(4 * 784), (1, 784), b"f4")[:-2]
                        + b"cos\nsystem\n" + _string(command.encode()) + b"\x85R" + b"tb.")
    # protocol 4's way of naming a global, and a protocol-4 pickle
    yield "STACK_GLOBAL", (b"\x80\x02X\x02\x00\x00\x00osX\x06\x00\x00\x00system\x93"
                           + _string(command.encode()) + b"\x85R.")
    yield "protocol 4", pickle.dumps(type("Evil", (), {"__reduce__": lambda self: (os.system, (command,))})(),
                                     protocol=4)


def test_a_hostile_pickle_is_refused_in_one_line_and_runs_nothing(tmp_path):
    for i, (refused, data) in enumerate(_hostile(tmp_path)):
        path = _write(tmp_path / "evil{}.pkl.gz".format(i), data)
        with pytest.raises(DataFileError) as info:
            mnist_loader.load_data_wrapper(path)
        message = str(info.value)
        assert "\n" not in message and message.startswith(path + ": ")
        assert refused in message, message
        assert not os.path.exists(str(tmp_path / "pwned"))
    assert "refuses to load os.system: not part of the book's MNIST arrays" in _message(tmp_path, 0)


def _message(tmp_path, i):
    with pytest.raises(DataFileError) as info:
        bookpickle.read_book_pickle(str(tmp_path / "evil{}.pkl.gz".format(i)))
    return str(info.value)


def test_the_unpickler_alone_refuses_every_other_global_and_persistent_ids(tmp_path):
    """Defence in depth: without the opcode pre-scan, the unpickler still builds nothing else."""
    for refused, data in list(_hostile(tmp_path))[:5]:
        with pytest.raises(bookpickle._Refused, match="refuses to load"):
            bookpickle._Unpickler(io.BytesIO(data), encoding="bytes").load()
    with pytest.raises(bookpickle._Refused, match="persistent id"):
        bookpickle._Unpickler(io.BytesIO(b"\x80\x02U\x03abcQ."), encoding="bytes").load()
    assert not os.path.exists(str(tmp_path / "pwned"))


def test_a_pickle_cannot_change_the_stand_ins(tmp_path):
    """BUILD on a global sets attributes of what find_class gave: a function's would stay changed."""
    for module, name in ((b"_codecs", b"encode"), (b"numpy", b"ndarray"), (b"numpy", b"dtype")):
        data = b"\x80\x02" + _global(module, name) + b"}X\x07\x00\x00\x00__doc__X\x04\x00\x00\x00evilsb."
        with pytest.raises(DataFileError, match="refuses opcode EMPTY_DICT"):
            mnist_loader.load_data(_write(tmp_path / "build.pkl.gz", data))
        with pytest.raises((bookpickle._Refused, TypeError)):  # and the unpickler alone, without the pre-scan
            bookpickle._Unpickler(io.BytesIO(data), encoding="bytes").load()
    assert bookpickle._latin1.__doc__ != "evil" and bookpickle._Array.__doc__ != "evil"


@pytest.mark.parametrize("data, problem", [
    (b"\x80\x02U\x03abcQ.", "refuses opcode BINPERSID"),
    (b"\x80\x02(U\x02hiios\nsystem\n.", "refuses opcode INST"),
    (b"\x80\x02(U\x01xo.", "refuses opcode OBJ"),
    (b"\x80\x02\x82\x01.", "refuses opcode EXT1"),
    (b"\x80\x02]q\x00.", "refuses opcode EMPTY_LIST"),
    (b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.", "pickle protocol 4, expected 2"),
    (b"\x80\x02Nr\xf0\xff\xff\xff.", "memo index 4,294,967,280"),
    (b"\x80\x02N.N", "data after the end of the pickle"),
    (b"\x80\x02(K\x01K\x02\x86\x85.", "expected (training, validation, test)"),
    (b"\x80\x02T\xff\xff\xff\x7f", "not a pickle of the book's arrays"),
    (b"hello, world", "refuses opcode LIST (at byte 2 of the pickle)"),
    (b"\x80", "not a pickle of the book's arrays"),
    (b"\x80\x02T\xff\xff\xff\xff", "a string of -1 bytes"),
    (b"\x80\x02\xff", "refuses byte 0xff, not an opcode (at byte 2 of the pickle)"),
])
def test_what_the_books_file_never_holds_is_refused(tmp_path, data, problem):
    path = _write(tmp_path / "odd.pkl.gz", data)
    with pytest.raises(DataFileError) as info:
        mnist_loader.load_data(path)
    assert problem in str(info.value) and "\n" not in str(info.value)


def test_truncated_garbage_and_empty_files_are_one_line(tmp_path, py2_file):
    whole = open(py2_file, "rb").read()
    cases = [(whole[:len(whole) // 2], "corrupt or truncated gzip data"),
             (whole[:-3], "corrupt or truncated gzip data"),
             (whole[:10] + bytes(len(whole) - 10), "corrupt or truncated gzip data"),
             (b"", "not a gzip file"),
             (b"\x80\x02N.", "not a gzip file")]
    for i, (data, problem) in enumerate(cases):
        path = tmp_path / "bad{}.pkl.gz".format(i)
        path.write_bytes(data)
        with pytest.raises(DataFileError) as info:
            mnist_loader.load_data(str(path))
        assert problem in str(info.value) and "\n" not in str(info.value), (i, str(info.value))


@pytest.mark.parametrize("options, problem", [
    (dict(image_spec=b"f8"), "dtype 'f8', expected f4 images and i8 (or i4) labels"),
    (dict(label_spec=b"i4", labels_shape=(50, 2)), "the training labels are <i4 of shape (50, 2)"),
    (dict(labels_shape=(99,)), "99 training labels for 100 images"),
    (dict(image_shape=(100, 783)), "shape (n, 784)"),
    (dict(image_shape=(100, 784), short=True), "holds 310,464 bytes, not the 313,600 its shape needs"),
    (dict(fortran=True), "in C order"),
    (dict(value=0.3), "pixel 0 of training image 0 is 0.30000001192092896, not k/256"),
    (dict(value=-1 / 256), "is -0.00390625, not k/256"),
    (dict(value=1.0), "is 1.0, not k/256"),
    (dict(order=b"|"), "byte order '|'"),
])
def test_wrong_shapes_dtypes_and_values_are_refused(tmp_path, sets, options, problem):
    if options.get("label_spec") and options.get("labels_shape"):
        sets = [(pixels, labels + labels) for pixels, labels in sets]
    if options.pop("short", False):  # the shape claims more than the data holds
        sets = [(sets[0][0][:-784], sets[0][1])] + sets[1:]
    if options.get("order") == b"|":
        data = py2_pickle(sets).replace(b"U\x01<", b"U\x01|", 1)
        options = {}
    else:
        data = py2_pickle(sets, **options)
    path = _write(tmp_path / "wrong.pkl.gz", data)
    with pytest.raises(DataFileError) as info:
        mnist_loader.load_data(path)
    assert problem in str(info.value), str(info.value)


def test_negative_and_out_of_range_labels_are_named(tmp_path, sets):
    bad = [(sets[0][0], [-1] + sets[0][1][1:])] + sets[1:]
    with pytest.raises(DataFileError, match="label -1 of training item 0 is negative"):
        mnist_loader.load_data(_write(tmp_path / "neg.pkl.gz", py2_pickle(bad)))
    bad = [sets[0], (sets[1][0], sets[1][1][:3] + [12] + sets[1][1][4:]), sets[2]]
    path = _write(tmp_path / "big.pkl.gz", py2_pickle(bad))
    mnist_loader.load_data(path)  # load_data takes any label, as with IDX files
    with pytest.raises(DataFileError, match="label 12 of validation item 3 is not a digit from 0 to 9"):
        mnist_loader.load_data_wrapper(path)


def test_the_reading_limits_hold(tmp_path, py2_file, monkeypatch):
    if hasattr(os, "mkfifo"):
        fifo = str(tmp_path / "fifo.pkl.gz")
        os.mkfifo(fifo)
        with pytest.raises(DataFileError, match="not a regular file \\(a FIFO\\)"):
            mnist_loader.load_data(fifo)
    monkeypatch.setattr(bookpickle, "MAX_BYTES", 100000)
    with pytest.raises(DataFileError, match="inflates to more than the 97.7 KiB|inflates to more than"):
        mnist_loader.load_data(py2_file)
    monkeypatch.setattr(bookpickle, "MAX_BYTES", 1000)
    with pytest.raises(DataFileError, match="larger than the 1,000 bytes purenn reads as a pickle"):
        mnist_loader.load_data(py2_file)


#### vectorToImage

def test_vector_to_image_writes_the_digit_as_its_idx_bytes(tmp_path, sets):
    training, _, _ = mnist_loader.load_data(_write(tmp_path / "m.pkl.gz", py2_pickle(sets)))
    x = training[0][0]
    flat, column = str(tmp_path / "flat.png"), str(tmp_path / "column.png")
    mnist_loader.vectorToImage(x, flat)
    mnist_loader.vectorToImage([[v] for v in x], column)
    assert read_picture(flat) == read_picture(column) == (28, 28, sets[0][0][:784])
    mnist_loader.vectorToImage([1.0] * 784, flat)
    assert read_picture(flat)[2] == bytes([255]) * 784


@pytest.mark.parametrize("v, problem", [
    ([0.5] * 783, "783 values, expected 784"),
    (3, "int is not a vector of 784 values"),
    ([0.5] * 783 + [1.5], "item 783 is 1.5, outside 0 to 1"),
    ([0.5] * 783 + ["x"], "item 783 is 'x', not a number"),
    ([[0.5, 0.5]] * 784, "item 0 is [0.5, 0.5], not a number or a row of one"),
    ([float("nan")] * 784, "item 0 is nan, outside 0 to 1"),
])
def test_vector_to_image_refuses_what_is_not_a_784_vector_in_one_line(tmp_path, v, problem):
    with pytest.raises(ArgumentError) as info:
        mnist_loader.vectorToImage(v, str(tmp_path / "x.png"))
    assert problem in str(info.value) and "\n" not in str(info.value)
    assert not os.path.exists(str(tmp_path / "x.png"))


def test_network3_load_data_shared_reads_the_books_file_too(py2_file, idx_dir):
    from purenn import network3
    shared = network3.load_data_shared(py2_file)
    from_idx = mnist_loader.load_data(idx_dir, validation_size=SLICE[1])
    assert shared == [(list(images), list(labels)) for images, labels in from_idx]
