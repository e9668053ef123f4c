"""purenn in Pyodide (CPython compiled to WebAssembly, run by Node.js): the same seeded
trainings give every weight and bias the bits CPython gives, and part of the suite runs there.

What it needs: `node` on PATH and npm's `pyodide` package, named by $PURENN_PYODIDE (its
node_modules/pyodide folder; CI pins the version, .ci/run).  Without them these tests skip --
even their CPython halves, which belong to this comparison -- and with PURENN_REQUIRE_PYODIDE=1
(CI) that is a failure.  purenn goes into Pyodide as its pure wheel: $PURENN_WHEEL (CI:
`PURENN_PURE_PYTHON=1 pip wheel .`), else one built here by csrc/build_backend.py; either must
hold the very modules this CPython imports.  For the suite, pytest's own pure wheels (for
Pyodide's Python) are in the folder $PURENN_PYODIDE_WHEELS.

tests/pyodide/run.mjs boots Pyodide offline from that folder, unpacks the wheels and mounts
host folders (NODEFS); tests/pyodide/same_bits.py trains there and, in this process, here --
on the reference, the Python engine and (where built) the C core.  Every value is compared
by float.hex, and a difference names its case, its index and both values.

Under Pyodide, pytest (its wheels unpacked as purenn's) runs PYODIDE_SUITE's files with the
plugin tests/pyodide/in_pyodide.py: a test that starts a process is skipped, saying so (Pyodide
has none), and a few long trainings are left out by name, with their reasons; the rest must
pass.  node runs with V8's default stack (984 KB): Pyodide 0.29's JSON decoder overflowed it on a
model file nested 20,000 deep, a fatal error of the whole runtime, before Python's recursion guard
raised; purenn.files.modelfile now refuses nesting past MAX_DEPTH before it parses.
"""

import importlib.util
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile

import pytest

import purenn
from purenn import elementary, mnist_loader
from purenn.backends import core_status

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUN_MJS = os.path.join(HERE, "pyodide", "run.mjs")

#: The test files run under Pyodide's pytest (see the module docstring); tests/pyodide/in_pyodide.py
#: skips what starts a process and names the long trainings left out.  test_checkpoint.py is
#: left out whole: stopping and resuming is the same arithmetic in a loop, and 50 s in Pyodide.
PYODIDE_SUITE = ("test_elementary.py", "test_idx.py", "test_network.py", "test_network2.py", "test_network3.py",
                 "test_mnist_loader.py", "test_book_pickle.py", "test_pictures.py", "test_plot.py",
                 "test_companions.py", "test_book_methods.py", "test_book_compat.py", "test_explain.py",
                 "test_network3_files.py")


def _module(name, path):
    """The module in the file at `path` (not a package's: csrc/, tests/pyodide/)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _unavailable(reason):
    if _flag("PURENN_REQUIRE_PYODIDE"):
        pytest.fail("PURENN_REQUIRE_PYODIDE=1 but " + reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def pyodide():
    """The node_modules/pyodide folder, node checked."""
    node = shutil.which("node")
    folder = os.environ.get("PURENN_PYODIDE", "")
    if node is None:
        _unavailable("node is not on PATH")
    if not folder:
        _unavailable("PURENN_PYODIDE is not set (npm install pyodide; PURENN_PYODIDE=.../node_modules/pyodide)")
    if not os.path.isfile(os.path.join(folder, "pyodide.mjs")):
        _unavailable("PURENN_PYODIDE={}: no pyodide.mjs there".format(folder))
    return folder


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """purenn's pure wheel: $PURENN_WHEEL, or built now from this source tree."""
    path = os.environ.get("PURENN_WHEEL", "")
    if not path:
        backend = _module("build_backend", os.path.join(ROOT, "csrc", "build_backend.py"))
        folder = str(tmp_path_factory.mktemp("wheel"))
        with pytest.MonkeyPatch.context() as patch:  # as tests/test_packaging.py builds it
            patch.setenv("PURENN_PURE_PYTHON", "1")
            patch.delenv("PURENN_REQUIRE_C", raising=False)
            patch.chdir(ROOT)
            path = os.path.join(folder, backend.build_wheel(folder))
    if not path.endswith("-py3-none-any.whl") or not os.path.isfile(path):
        pytest.fail("PURENN_WHEEL={}: not a pure (py3-none-any) wheel file".format(path))
    return path


def run_in_pyodide(pyodide, arguments, timeout=900):
    """node run.mjs PYODIDE ARGUMENTS...: (status, stdout, stderr, seconds)."""
    started = time.perf_counter()
    done = subprocess.run(["node", RUN_MJS, pyodide] + arguments,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - started


def tell(capsys, line):
    """A line for the log even when pytest captures output: the figures CI records."""
    with capsys.disabled():
        print("\n[pyodide] " + line)


#### The same bits

same_bits = _module("same_bits", os.path.join(HERE, "pyodide", "same_bits.py"))


def first_difference(expected, found):
    """None if the two lists of float.hex strings are equal; else where they first differ, said."""
    if expected == found:
        return None
    for i, (e, f) in enumerate(zip(expected, found)):
        if e != f:
            return "value {} of {}: expected {}, found {}".format(i, len(expected), e, f)
    return "{} values expected, {} found".format(len(expected), len(found))


@pytest.fixture(scope="module")
def in_pyodide(pyodide, wheel, tmp_path_factory):
    """same_bits.py's result in Pyodide, on the reference and the Python engine; its time."""
    out = str(tmp_path_factory.mktemp("pyodide-out"))
    status, stdout, stderr, seconds = run_in_pyodide(pyodide, [
        "--wheel", wheel, "--mount", os.path.join(HERE, "pyodide") + "=/same_bits", "--mount", out + "=/out",
        "/same_bits/same_bits.py", "/out/result.json", "reference,python"])
    assert status == 0, stdout + stderr
    with open(os.path.join(out, "result.json")) as f:
        result = json.load(f)
    result["run_seconds"] = seconds
    return result


_on_cpython = {}


def on_cpython(case, backend):
    """same_bits' values for case/backend in this process (each run once)."""
    if (case, backend) not in _on_cpython:
        if backend == "c" and not core_status()[0]:
            if _flag("PURENN_REQUIRE_C"):
                pytest.fail("PURENN_REQUIRE_C=1 but the C core is not built")
            pytest.skip("the C core is not built")
        if "data" not in _on_cpython:
            _on_cpython["data"] = mnist_loader.load_data()
        _on_cpython[case, backend] = same_bits.CASES[case](_on_cpython["data"], backend)
    return _on_cpython[case, backend]


def _standard(case):
    """The run every other is held to: CPython's first backend of the case -- the reference
    (the SVM has none: its Python path)."""
    return on_cpython(case, same_bits.BACKENDS[case][0])


def test_the_wheel_pyodide_runs_holds_the_modules_this_cpython_runs(pyodide, wheel):
    here = os.path.dirname(os.path.abspath(purenn.__file__))
    with zipfile.ZipFile(wheel) as z:
        modules = {name: z.read(name) for name in z.namelist() if name.startswith("purenn/") and name.endswith(".py")}
        assert any(name.startswith("purenn/data/") and name.endswith("-ubyte.gz") for name in z.namelist())
    assert len(modules) > 50
    for name, data in sorted(modules.items()):
        with open(os.path.join(here, *name.split("/")[1:]), "rb") as f:
            assert f.read() == data, "{} in {} is not the {} CPython imports".format(name, wheel, f.name)


#: Pyodide runs every pure backend; CPython every backend but the standard one (_standard).
PYODIDE_RUNS = [(case, backend) for case, backends in same_bits.BACKENDS.items()
                for backend in backends if backend != "c"]
CPYTHON_RUNS = [(case, backend) for case, backends in same_bits.BACKENDS.items()
                for backend in backends[1:]]


@pytest.mark.parametrize("case, backend", PYODIDE_RUNS, ids=["/".join(r) for r in PYODIDE_RUNS])
def test_every_weight_trained_in_pyodide_is_cpythons_bit_for_bit(in_pyodide, case, backend, capsys):
    found = in_pyodide["cases"][case + "/" + backend]
    tell(capsys, "{}/{}: {} values, {:.1f} s in Pyodide".format(case, backend, len(found["hexes"]), found["seconds"]))
    difference = first_difference(_standard(case), found["hexes"])
    assert difference is None, "{}/{} in Pyodide against CPython: {}".format(case, backend, difference)


@pytest.mark.parametrize("case, backend", CPYTHON_RUNS, ids=["/".join(r) for r in CPYTHON_RUNS])
def test_every_backend_on_cpython_trains_the_same_bits(pyodide, case, backend):
    difference = first_difference(_standard(case), on_cpython(case, backend))
    assert difference is None, "{}/{} against the reference on CPython: {}".format(case, backend, difference)


def test_a_single_flipped_bit_is_found_at_its_index(pyodide):
    standard = _standard("network")
    hexes, i = list(standard), 12345
    bits, = struct.unpack("<q", struct.pack("<d", float.fromhex(hexes[i])))
    flipped, = struct.unpack("<d", struct.pack("<q", bits ^ 1))  # the last bit of weight i
    hexes[i] = flipped.hex()
    assert hexes[i] != standard[i]
    assert first_difference(standard, hexes) == "value {} of {}: expected {}, found {}".format(
        i, len(hexes), standard[i], hexes[i])
    assert first_difference(standard, standard[:-1]) == "{} values expected, {} found".format(len(hexes), len(hexes) - 1)


def test_the_elementary_functions_give_pyodide_cpythons_bits(in_pyodide, capsys):
    here = same_bits.elementary_digests(elementary, elementary.gauss)
    assert in_pyodide["elementary"] == here
    # The negative control, a record and not a check: math's functions are the C library's.
    here_math = same_bits.elementary_digests(math, lambda rng, mu, sigma: rng.gauss(mu, sigma))
    tell(capsys, "{} and CPython {}: purenn.elementary the same for {}; math's own differ for {} (the same: {})".format(
        in_pyodide["python"].split()[0], sys.version.split()[0], ", ".join(sorted(here)),
        ", ".join(name for name in sorted(here_math) if in_pyodide["math"][name] != here_math[name]) or "none",
        ", ".join(name for name in sorted(here_math) if in_pyodide["math"][name] == here_math[name]) or "none"))
    tell(capsys, "same_bits.py in Pyodide: {:.1f} s in all (MNIST read in {:.1f} s, elementary {:.1f} s)".format(
        in_pyodide["run_seconds"], in_pyodide["load_seconds"], in_pyodide["elementary_seconds"]))


#### The suite

def test_the_suite_runs_in_pyodide(pyodide, wheel, capsys):
    folder = os.environ.get("PURENN_PYODIDE_WHEELS", "")
    if not folder:
        _unavailable("PURENN_PYODIDE_WHEELS is not set (a folder of pytest's pure wheels for Pyodide)")
    wheels = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith("-none-any.whl"))
    if not any(os.path.basename(w).startswith("pytest-") for w in wheels):
        pytest.fail("PURENN_PYODIDE_WHEELS={}: no pytest wheel there".format(folder))
    arguments = [a for w in wheels + [wheel] for a in ("--wheel", w)]
    status, stdout, stderr, seconds = run_in_pyodide(pyodide, arguments + [
        "--mount", ROOT + "=/purenn-source", "--env", "PYTHONPATH=/purenn-source/tests/pyodide",
        "-m", "pytest", "-p", "in_pyodide", "-p", "no:cacheprovider", "-q", "-rfE"]
        + ["/purenn-source/tests/" + name for name in PYODIDE_SUITE], timeout=1800)
    summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    tell(capsys, "pytest in Pyodide, {} files: {} ({:.0f} s)".format(len(PYODIDE_SUITE), summary, seconds))
    assert status == 0, stdout[-20000:] + stderr[-5000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


#### The driver

@pytest.mark.parametrize("arguments, message", [
    ([], "usage: run.mjs PYODIDE"),
    (["/nonexistent"], "/nonexistent: no pyodide.mjs there"),
])
def test_the_driver_refuses_a_bad_command_line_in_one_line(arguments, message):
    if shutil.which("node") is None:
        _unavailable("node is not on PATH")
    done = subprocess.run(["node", RUN_MJS] + arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("run.mjs: " + message) and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize("option, message", [
    (["--mount", "/nonexistent=/x"], "--mount /nonexistent=/x: /nonexistent is not a directory"),
    (["--mount", "{tmp}=x"], "--mount {tmp}=x: x is not an absolute path"),
    (["--wheel", "{tmp}"], "--wheel {tmp}: not a file"),
    (["--env", "=1"], "--env =1: expected NAME=VALUE"),
    (["--frobnicate", "1"], "--frobnicate: not an option"),
    (["--wheel"], "--wheel needs a value"),
    (["-m"], "-m needs a MODULE"),
    ([], "no SCRIPT to run"),
])
def test_the_driver_refuses_bad_options_in_one_line(pyodide, tmp_path, option, message):
    option = [o.format(tmp=tmp_path) for o in option]
    done = subprocess.run(["node", RUN_MJS, pyodide] + option, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("run.mjs: " + message.format(tmp=tmp_path)) and done.stderr.count("\n") == 1, \
        done.stderr


def test_the_driver_passes_on_the_scripts_status_and_traceback(pyodide, tmp_path):
    (tmp_path / "fails.py").write_text("import os, sys\nprint(os.environ['GREETING'], sys.argv[1:])\n"
                                       "if sys.argv[1] == 'exit': sys.exit(3)\nraise ValueError('on purpose')\n")
    status, stdout, stderr, _ = run_in_pyodide(pyodide, ["--mount", str(tmp_path) + "=/s", "--env", "GREETING=hello",
                                                         "/s/fails.py", "exit"])
    assert (status, stdout) == (3, "hello ['exit']\n"), stderr
    status, stdout, stderr, _ = run_in_pyodide(pyodide, ["--mount", str(tmp_path) + "=/s", "--env", "GREETING=hi",
                                                         "/s/fails.py", "raise"])
    assert (status, stdout) == (1, "hi ['raise']\n") and "ValueError: on purpose" in stderr, stderr
