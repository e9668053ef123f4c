"""Fuzzing the readers: thousands of damaged files, and none may escape as
anything but purenn's own error (or be read without complaint).  Bounded so
that CI stays quick; the seed of each case is printed by hypothesis on failure."""

import contextlib
import copy
import gzip
import io
import json
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purenn import network2
from purenn.files import modelfile
from purenn.training import checkpoint
from purenn.errors import PurennError, TrainingInterrupted
from purenn.files.idx import read_idx, write_idx
from purenn.files.pictures import read_picture

SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def only_purenn_errors(read):
    """Run read(): it may succeed or raise purenn's own error, nothing else."""
    try:
        read()
    except PurennError:
        pass


def mutate(data, flips, cut, insert):
    data = bytearray(data)
    for position, value in flips:
        if data:
            data[position % len(data)] = value
    if cut is not None and data:
        data = data[:cut % (len(data) + 1)]
    if insert:
        data[len(data) // 2:len(data) // 2] = insert
    return bytes(data)


mutations = dict(
    flips=st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), max_size=6),
    cut=st.none() | st.integers(0, 10 ** 6),
    insert=st.binary(max_size=8),
)


def _png(width=5, height=4, colour=2):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    levels = 16 if colour == 3 else 256  # a palette of 16 entries
    raw = b"".join(bytes([0]) + bytes((x * 37 + y) % levels for x in range(width * channels))
                   for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    extra = chunk(b"PLTE", bytes(range(48))) if colour == 3 else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNGS = [_png(colour=c) for c in (0, 2, 3, 4, 6)]
IDX_PLAIN = b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x03" + bytes(range(18))
IDX_GZ = gzip.compress(IDX_PLAIN, mtime=0)
IDX_SHORT = b"\x00\x00\x0b\x01\x00\x00\x00\x04" + struct.pack(">4h", 1, -2, 300, -400)


@SETTINGS
@given(source=st.sampled_from([IDX_PLAIN, IDX_GZ, IDX_SHORT]), **mutations)
def test_damaged_idx_files_raise_only_purenn_errors(tmp_path_factory, source, flips, cut, insert):
    path = tmp_path_factory.mktemp("idx") / "f.idx"
    path.write_bytes(mutate(source, flips, cut, insert))
    only_purenn_errors(lambda: read_idx(path))


@SETTINGS
@given(source=st.sampled_from(PNGS), **mutations)
def test_damaged_pngs_raise_only_purenn_errors(tmp_path_factory, source, flips, cut, insert):
    path = tmp_path_factory.mktemp("png") / "f.png"
    path.write_bytes(mutate(source, flips, cut, insert))
    only_purenn_errors(lambda: read_picture(path))


def _model_text():
    net = network2.Network([3, 2, 2], seed=0, backend="python")
    return json.dumps({"sizes": net.sizes, "weights": net.weights,
                       "biases": [[[b] for b in layer] for layer in net.biases], "cost": "CrossEntropyCost"})


MODEL = _model_text().encode()



json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4),
                           max_leaves=20)


@SETTINGS
@given(sizes=json_values, weights=json_values, biases=json_values, cost=json_values)
def test_model_files_with_any_json_raise_only_purenn_errors(tmp_path_factory, sizes, weights, biases, cost):
    path = tmp_path_factory.mktemp("model") / "m.json"
    path.write_text(json.dumps({"sizes": sizes, "weights": weights, "biases": biases, "cost": cost}))
    only_purenn_errors(lambda: network2.load(path, backend="python"))


def _checkpoint_document():
    net = network2.Network([3, 2, 2], seed=0, backend="python")
    training = [([0.1 * i, 0.0, 0.5], [1.0, 0.0]) for i in range(5)]
    try:
        calls = []  # stop on the second call: after the first mini-batch
        net.SGD(training, 2, 2, 0.5, momentum=0.5, stop=lambda: calls.append(1) or len(calls) == 2)
    except TrainingInterrupted as e:
        return {"format": checkpoint.FORMAT, "version": checkpoint.VERSION,
                "network": modelfile.network_dict(net, "-"), "training": e.state, "command": {"seed": 0}}
    raise AssertionError("SGD did not stop")


CHECKPOINT = _checkpoint_document()
CHECKPOINT_BYTES = json.dumps(CHECKPOINT).encode()


def _paths(document, prefix=()):
    """The key paths into a JSON document's objects (not into its lists)."""
    for key, value in document.items():
        yield prefix + (key,)
        if isinstance(value, dict):
            yield from _paths(value, prefix + (key,))


CHECKPOINT_PATHS = sorted(_paths(CHECKPOINT))


@pytest.mark.parametrize("source, read", [(MODEL, network2.load), (CHECKPOINT_BYTES, checkpoint.load)],
                         ids=["model", "checkpoint"])
@SETTINGS
@given(**mutations)
def test_damaged_model_files_and_checkpoints_raise_only_purenn_errors(tmp_path_factory, source, read, flips, cut,
                                                                      insert):
    path = tmp_path_factory.mktemp("json") / "f.json"
    path.write_bytes(mutate(source, flips, cut, insert))
    only_purenn_errors(lambda: read(path, backend="python"))


@SETTINGS
@given(where=st.sampled_from(CHECKPOINT_PATHS), value=json_values)
def test_checkpoints_with_any_json_anywhere_raise_only_purenn_errors(tmp_path_factory, where, value):
    document = copy.deepcopy(CHECKPOINT)
    parent = document
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    path = tmp_path_factory.mktemp("ckpt") / "c.json"
    path.write_text(json.dumps(document))
    only_purenn_errors(lambda: checkpoint.load(path, backend="python"))


def test_the_fuzzed_sources_are_valid_to_begin_with(tmp_path):
    for n, data in enumerate(PNGS):
        (tmp_path / "{}.png".format(n)).write_bytes(data)
        assert read_picture(tmp_path / "{}.png".format(n))[:2] == (5, 4)
    (tmp_path / "m.json").write_bytes(MODEL)
    assert network2.load(tmp_path / "m.json").sizes == [3, 2, 2]
    for n, data in enumerate((IDX_PLAIN, IDX_GZ, IDX_SHORT)):
        (tmp_path / "{}.idx".format(n)).write_bytes(data)
        read_idx(tmp_path / "{}.idx".format(n))
    write_idx(tmp_path / "x.idx", [1], (1,))
    (tmp_path / "c.json").write_bytes(CHECKPOINT_BYTES)
    assert checkpoint.load(tmp_path / "c.json").state["done"] == 2
    assert len(CHECKPOINT_PATHS) > 30


#### network3: model files and checkpoints

def _network3_checkpoint():
    from purenn import network3
    from purenn.files import network3file
    net = network3.Network([network3.ConvPoolLayer((2, 1, 2, 2), (2, 1, 4, 4), (1, 1), network3.ReLU),
                            network3.FullyConnectedLayer(18, 3, p_dropout=0.2), network3.SoftmaxLayer(3, 2)], 2,
                           seed=0, backend="reference")
    xs = [[0.1 * ((i + k) % 5) for k in range(16)] for i in range(6)]
    try:
        calls = []
        with contextlib.redirect_stdout(io.StringIO()):
            net.SGD((xs, [i % 2 for i in range(6)]), 2, 2, 0.5, (xs, [0] * 6), lmbda=0.1, shuffle=True,
                    stop=lambda: calls.append(1) or len(calls) == 4)
    except TrainingInterrupted as e:
        return {"format": checkpoint.FORMAT, "version": checkpoint.VERSION,
                "network": network3file.network3_dict(net, "-"), "training": e.state, "command": None}
    raise AssertionError("SGD did not stop")


CHECKPOINT3 = _network3_checkpoint()


def _all_paths(document, prefix=()):
    """The paths into a JSON document's objects and lists (into a list's first two entries only)."""
    items = document.items() if isinstance(document, dict) else enumerate(document[:2])
    for key, value in items:
        yield prefix + (key,)
        if isinstance(value, (dict, list)):
            yield from _all_paths(value, prefix + (key,))


CHECKPOINT3_PATHS = sorted(set(_all_paths(CHECKPOINT3)), key=repr)


@SETTINGS
@given(where=st.sampled_from(CHECKPOINT3_PATHS), value=json_values)
def test_network3_checkpoints_and_models_with_any_json_anywhere_raise_only_purenn_errors(tmp_path_factory, where,
                                                                                        value):
    from purenn import network3
    document = copy.deepcopy(CHECKPOINT3)
    parent = document
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    directory = tmp_path_factory.mktemp("ckpt3")
    (directory / "c.json").write_text(json.dumps(document))
    only_purenn_errors(lambda: checkpoint.load(directory / "c.json", backend="reference"))
    (directory / "m.json").write_text(json.dumps(document["network"]))
    only_purenn_errors(lambda: network3.load(directory / "m.json", backend="reference"))


@SETTINGS
@given(**mutations)
def test_damaged_network3_checkpoint_bytes_raise_only_purenn_errors(tmp_path_factory, flips, cut, insert):
    path = tmp_path_factory.mktemp("json3") / "f.json"
    path.write_bytes(mutate(json.dumps(CHECKPOINT3).encode(), flips, cut, insert))
    only_purenn_errors(lambda: checkpoint.load(path, backend="reference"))


def test_the_network3_checkpoint_fuzzed_is_valid_to_begin_with(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps(CHECKPOINT3))
    loaded = checkpoint.load(tmp_path / "c.json")
    assert (loaded.state["kind"], loaded.state["epoch"], loaded.state["done"]) == ("network3", 1, 0)
    assert len(CHECKPOINT3_PATHS) > 60 and ("network", "layers", 0, "w", 0) in CHECKPOINT3_PATHS
