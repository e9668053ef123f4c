"""The MNIST loader: the bundled files, the book's API and split, other directories."""

import gzip
import hashlib
import os
import struct

import pytest

from purenn import mnist_loader
from purenn.errors import DataFileError
from purenn.files.idx import write_idx

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def _md5sums(name):
    with open(os.path.join(DATA, name)) as f:
        return {line.split()[1]: line.split()[0] for line in f if line.strip()}


def test_bundled_files_have_the_published_checksums():
    for name, digest in _md5sums("MD5SUMS.gz.txt").items():
        with open(os.path.join(DATA, name), "rb") as f:
            assert hashlib.md5(f.read()).hexdigest() == digest, name
    for name, digest in _md5sums("MD5SUMS.uncompressed.txt").items():
        with gzip.open(os.path.join(DATA, name + ".gz")) as f:
            assert hashlib.md5(f.read()).hexdigest() == digest, name


def test_the_bundled_data_is_found_without_being_told_where(monkeypatch, tmp_path):
    monkeypatch.delenv("PURENN_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # from anywhere: installed, it is purenn/data; in a checkout, ./data
    found = mnist_loader.find_data_dir()
    installed = os.path.join(os.path.dirname(mnist_loader.__file__), "data")
    assert os.path.samefile(found, installed if os.path.isdir(installed) else DATA)
    for name, digest in _md5sums("MD5SUMS.gz.txt").items():
        with open(os.path.join(found, name), "rb") as f:
            assert hashlib.md5(f.read()).hexdigest() == digest, name


def test_load_data_has_the_books_split_and_counts():
    training, validation, test = mnist_loader.load_data()
    for (images, labels), n in zip((training, validation, test), (50000, 10000, 10000)):
        assert type(images) is list and type(labels) is list
        assert len(images) == len(labels) == n
        assert all(len(x) == 784 for x in images[:100])
    assert training[1][:10] == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test[1][:10] == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert validation[1][:5] == _raw_labels("train-labels-idx1-ubyte.gz")[50000:50005]


def _raw_labels(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        return list(f.read()[8:])


def _raw_image(name, index):
    with gzip.open(os.path.join(DATA, name)) as f:
        raw = f.read()
    return raw[16 + 784 * index:16 + 784 * (index + 1)]


def test_pixels_are_bytes_over_256_as_in_the_books_pickle():
    training, _, test = mnist_loader.load_data()
    first = training[0][0]
    # The first training image (a 5): row 5 begins 0 x 12, 3, 18, 18, 18, 126, 136, ...
    assert first[5 * 28 + 12:5 * 28 + 18] == [3 / 256, 18 / 256, 18 / 256, 18 / 256, 126 / 256, 136 / 256]
    assert first[0] == 0.0 and max(first) == 255 / 256
    for images, name, index in ((training[0], "train-images-idx3-ubyte.gz", 1234),
                                (test[0], "t10k-images-idx3-ubyte.gz", 9999)):
        assert images[index] == [b / 256 for b in _raw_image(name, index)]


def test_load_data_wrapper_gives_reusable_lists_in_the_networks_form(mnist):
    training, validation, test = mnist
    assert (len(training), len(validation), len(test)) == (50000, 10000, 10000)
    assert all(type(part) is list for part in mnist)
    x, y = training[0]
    assert isinstance(x, mnist_loader.Image) and len(x) == 784
    assert x == list(x) and x.tolist() == [b / 256 for b in x.pixels] and x[152] == 3 / 256
    assert y == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert test[0][1] == 7 and type(test[0][1]) is int
    assert len(list(test)) == len(list(test))  # not a one-shot iterator
    assert training[1][1] is not training[3][1]  # each y its own list, as in the book


def test_an_image_reads_like_the_list_of_floats_it_stands_for():
    image = mnist_loader.Image(bytes([0, 1, 128, 255]))
    assert len(image) == 4 and list(image) == [0.0, 1 / 256, 0.5, 255 / 256]
    assert image[2] == 0.5 and image[-1] == 255 / 256 and image[1:3] == [1 / 256, 0.5]
    assert image == [0.0, 1 / 256, 0.5, 255 / 256] and image != [0.0, 1 / 256, 0.5]
    assert image == mnist_loader.Image(bytes([0, 1, 128, 255])) and image.count(0.0) == 1
    assert repr(image) == "Image(4 pixels, 3 non-zero)"


def test_all_of_mnist_loads_into_little_memory():
    code = ("from purenn import mnist_loader; from purenn.cli import bench; d = mnist_loader.load_data_wrapper(); "
            "print(bench.peak_rss_mb())")
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, universal_newlines=True,
                         check=True).stdout.strip()
    if out == "None":
        pytest.skip("no way to read the peak memory here")
    # Not a timing test (the bench prints the figures): this catches a return
    # to one float object per pixel, which needs over 400 MB.
    assert float(out) < 350, out


def test_vectorized_result():
    assert mnist_loader.vectorized_result(0) == [1.0] + [0.0] * 9
    assert mnist_loader.vectorized_result(9) == [0.0] * 9 + [1.0]
    with pytest.raises(ValueError, match="not a digit"):
        mnist_loader.vectorized_result(10)


def _write_set(directory, n_train, n_test, compress, label=lambda i: i % 10):
    suffix = ".gz" if compress else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(os.path.join(directory, "{}-images-idx3-ubyte{}".format(prefix, suffix)),
                  [(i * 7 + k) % 256 for i in range(n) for k in range(4)], (n, 2, 2))
        write_idx(os.path.join(directory, "{}-labels-idx1-ubyte{}".format(prefix, suffix)),
                  [label(i) for i in range(n)], (n,))


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_any_directory_in_mnist_format_loads_the_same_way(tmp_path, monkeypatch, compress):
    _write_set(str(tmp_path), 12, 3, compress)
    training, validation, test = mnist_loader.load_data(tmp_path, validation_size=2)
    assert len(training[0]) == 10 and len(validation[0]) == 2 and len(test[0]) == 3
    assert training[0][1] == [7 / 256, 8 / 256, 9 / 256, 10 / 256]
    assert validation[1] == [0, 1]
    monkeypatch.setenv("PURENN_DATA", str(tmp_path))
    assert mnist_loader.find_data_dir() == str(tmp_path)
    train_wrapped, _, _ = mnist_loader.load_data_wrapper(validation_size=2)
    assert train_wrapped[3][1] == mnist_loader.vectorized_result(3)


def test_the_argument_wins_over_the_environment(tmp_path, monkeypatch):
    _write_set(str(tmp_path), 12, 3, True)
    monkeypatch.setenv("PURENN_DATA", str(tmp_path / "elsewhere"))
    assert mnist_loader.find_data_dir(tmp_path) == str(tmp_path)


def test_training_and_test_images_must_be_the_same_size(tmp_path):
    _write_set(str(tmp_path), 12, 3, False)
    write_idx(str(tmp_path / "t10k-images-idx3-ubyte"), [0] * 27, (3, 3, 3))
    with pytest.raises(DataFileError, match="images of 9 pixels, but the training images have 4") as info:
        mnist_loader.load_data(tmp_path)
    assert "t10k-images-idx3-ubyte" in str(info.value)


def test_a_missing_directory_says_where_it_came_from(monkeypatch, tmp_path):
    monkeypatch.setenv("PURENN_DATA", str(tmp_path / "gone"))
    with pytest.raises(DataFileError, match="not a directory \\(the PURENN_DATA"):
        mnist_loader.find_data_dir()
    with pytest.raises(DataFileError, match="^'': not a directory"):
        mnist_loader.find_data_dir("")


def test_missing_files_are_named(tmp_path):
    _write_set(str(tmp_path), 12, 3, False)
    os.remove(str(tmp_path / "t10k-labels-idx1-ubyte"))
    with pytest.raises(DataFileError, match="missing t10k-labels-idx1-ubyte"):
        mnist_loader.load_data(tmp_path)
    with pytest.raises(DataFileError, match="not a directory"):
        mnist_loader.load_data(tmp_path / "nope")


def test_labels_outside_the_digits_are_rejected_with_their_position(tmp_path):
    _write_set(str(tmp_path), 12, 3, False, label=lambda i: 11 if i == 4 else 1)
    with pytest.raises(DataFileError, match="label 11 of item 4 is not a digit"):
        mnist_loader.load_data_wrapper(tmp_path, validation_size=2)


def test_images_and_labels_must_agree_in_count(tmp_path):
    _write_set(str(tmp_path), 12, 3, False)
    write_idx(str(tmp_path / "train-labels-idx1-ubyte"), [1] * 11, (11,))
    with pytest.raises(DataFileError, match="11 labels for the 12 images"):
        mnist_loader.load_data(tmp_path, validation_size=2)


def test_files_of_the_wrong_shape_are_rejected(tmp_path):
    _write_set(str(tmp_path), 12, 3, False)
    write_idx(str(tmp_path / "train-images-idx3-ubyte"), [0] * 48, (12, 4))
    with pytest.raises(DataFileError, match="expected images as ubyte n x rows x cols, found ubyte of shape 12x4"):
        mnist_loader.load_data(tmp_path, validation_size=2)


def test_validation_size_must_leave_training_data(tmp_path):
    _write_set(str(tmp_path), 12, 3, False)
    with pytest.raises(DataFileError, match="12 training images cannot spare 12"):
        mnist_loader.load_data(tmp_path, validation_size=12)


def test_raw_header_of_the_training_images():
    with gzip.open(os.path.join(DATA, "train-images-idx3-ubyte.gz")) as f:
        assert struct.unpack(">IIII", f.read(16)) == (2051, 60000, 28, 28)
