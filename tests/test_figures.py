"""The book's figures: each --quick run's numbers show the figure's claim, the SVG is well-formed and renders,
the gradient the vanishing-gradient figure reads off a step is backprop's, and the command line says what it did.

The claims run on the C core (in seconds); where it is not built they skip (fail with PURENN_REQUIRE_C=1),
and a smaller run of every figure on the Python engine checks that the code runs there too.
"""

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import purenn
from purenn import network2
from purenn.backends import core_status
from purenn.figures import FIGURES
from purenn.figures.common import FigureData
from purenn.figures.vanishing_gradient import average_bias_gradient
from purenn.files.plot import render_figure
from purenn.mnist_loader import find_data_dir

PYTHONPATH = os.path.dirname(os.path.dirname(purenn.__file__))


@pytest.fixture(scope="module")
def data(mnist):
    return FigureData(*mnist, find_data_dir(None))


@pytest.fixture(scope="module")
def c_core():
    built, detail = core_status()
    if not built:
        if os.environ.get("PURENN_REQUIRE_C", "").strip().lower() in ("1", "true", "yes", "on"):
            pytest.fail("PURENN_REQUIRE_C=1 but the C core is not built: {}".format(detail))
        pytest.skip("the figures' claims run on the C core: {}".format(detail))
    return "c"


_RESULTS = {}


def quick(name, data, backend, **knobs):
    """A figure's --quick run (with `knobs` overriding its settings), once per module:
    tests that look at the same run share it."""
    key = (name, backend, repr(sorted(knobs.items())))  # knobs may hold lists
    if key not in _RESULTS:
        figure = FIGURES[name]
        _RESULTS[key] = figure.run(figure.settings(quick=True, **knobs), data, None, backend)
    return _RESULTS[key]


def svg_of(name, results):
    drawn = FIGURES[name].draw(results)
    return drawn if isinstance(drawn, str) else render_figure(drawn[1], drawn[0], drawn[2])


def test_digits_are_the_books_first_six(data):
    results = quick("digits", data, None)
    assert [d["label"] for d in results["digits"]] == [5, 0, 4, 1, 9, 2]
    assert results["digits"][0]["pixels"] == list(data.training[0][0].pixels)


def test_overfitting_training_accuracy_runs_away_from_test_accuracy(data, c_core):
    c = quick("overfitting", data, c_core)["curves"]
    assert c["training_accuracy"][-1] > 0.99 and c["training_accuracy"][-1] - c["evaluation_accuracy"][-1] > 0.15
    assert min(c["evaluation_cost"]) < c["evaluation_cost"][-1]  # the test cost turned up again
    assert c["training_cost"][-1] < c["training_cost"][len(c["training_cost"]) // 2]  # the training cost still falls


def _tail(values, n=10):
    tail = values[-n:]
    total = 0.0
    for v in tail:
        total += v
    return total / len(tail)


def test_regularization_lifts_the_test_accuracy_and_narrows_the_gap(data, c_core):
    r = quick("regularization", data, c_core)
    plain, regular = r["unregularised"], r["regularised"]
    assert _tail(regular["evaluation_accuracy"]) > _tail(plain["evaluation_accuracy"])
    gap = [_tail(run["training_accuracy"]) - _tail(run["evaluation_accuracy"]) for run in (plain, regular)]
    assert gap[1] < gap[0]


def test_with_eta_2_5_the_cost_ends_above_the_cost_with_eta_0_25(data, c_core):
    curves = {c["eta"]: c["training_cost"] for c in quick("multiple-eta", data, c_core)["curves"]}
    assert curves[2.5][-1] > curves[0.25][-1]
    assert curves[0.025][-1] > curves[0.25][-1]  # too small a step is slower too


def test_the_new_initialisation_is_ahead_after_epoch_1(data, c_core):
    c = quick("weight-initialization", data, c_core)["curves"]
    assert c["new"][0] > c["old"][0]


def test_accuracy_rises_with_the_training_set_size(data, c_core):
    r = quick("more-data", data, c_core)
    for name in ("network", "svm"):
        assert all(a < b for a, b in zip(r[name], r[name][1:])), (name, r[name])


def test_the_first_hidden_layer_learns_slower_than_the_last_at_the_start(data, c_core):
    speeds = quick("vanishing-gradient", data, c_core)["speeds"]
    assert sorted(speeds) == ["2", "3", "4"]
    for hidden, per_epoch in speeds.items():
        first = per_epoch[0]
        assert len(first) == int(hidden) and first[0] < first[-1], (hidden, first)
        assert all(a < b for a, b in zip(first, first[1:]))  # layer by layer, as the book finds


def test_the_gradient_read_off_a_step_is_the_mean_of_backprop(data):
    net = network2.Network([784, 12, 8, 10], seed=5, backend="reference")
    training = data.training[:40]
    read = average_bias_gradient(net, training)
    total = [[0.0] * len(b) for b in net.biases]
    for x, y in training:
        nabla_b, _ = net.backprop(x, y)
        for layer, g in zip(total, nabla_b):
            for j, v in enumerate(g):
                layer[j] += v
    for layer_read, layer_total, b in zip(read, total, net.biases):
        for r, t, b_j in zip(layer_read, layer_total, b):
            mean = t / len(training)
            assert abs(r - mean) <= 1e-15 * abs(b_j) + 1e-15 * abs(mean)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_is_well_formed_svg_and_renders(data, name, tmp_path):
    built = core_status()[0]
    results = quick(name, data, "c") if built or name == "digits" else _tiny(name, data)
    svg = svg_of(name, results)
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag.endswith("svg") and float(root.get("width")) > 200
    json.dumps(results, allow_nan=False)
    if shutil.which("rsvg-convert"):
        (tmp_path / "f.svg").write_text(svg)
        subprocess.run(["rsvg-convert", str(tmp_path / "f.svg"), "-o", str(tmp_path / "f.png")], check=True)
        assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


TINY = {"overfitting": {"epochs": 3, "images": 100, "evaluation": 100},
        "regularization": {"epochs": 3, "images": 100, "evaluation": 100},
        "multiple-eta": {"epochs": 2, "images": 200},
        "weight-initialization": {"epochs": 2, "images": 200, "evaluation": 100},
        "more-data": {"sizes": [100, 200], "examples": 400, "svm_features": 20},
        "vanishing-gradient": {"epochs": 2, "images": 50, "depths": [2, 3]},
        "digits": {}}


def _tiny(name, data, backend="python"):
    """The smaller run (without the C core the SVG test draws it too)."""
    return quick(name, data, backend, **TINY[name])


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_runs_on_the_python_engine(data, name):
    results = _tiny(name, data)
    assert svg_of(name, results).startswith("<?xml")


def test_the_command_writes_the_svg_and_its_numbers_and_says_where(tmp_path):
    env = dict(os.environ, PYTHONPATH=PYTHONPATH)
    done = subprocess.run([sys.executable, "-m", "purenn", "figure", "weight-initialization", "--quick",
                           "--epochs", "2", "--images", "500", "--out", "w.svg"], cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "figure weight-initialization (chapter 3, fig/weight_initialization.py), quick" in done.stdout
    assert "drew weight-initialization in w.svg and wrote its numbers to w.json" in done.stdout
    numbers = json.loads((tmp_path / "w.json").read_text())
    assert numbers["results"]["settings"]["epochs"] == 2 and len(numbers["results"]["curves"]["new"]) == 2
    ET.parse(str(tmp_path / "w.svg"))


@pytest.mark.parametrize("args, what", [
    (["figure"], "argument NAME: give a figure"),
    (["figure", "nope"], "'nope' is not a figure"),
    (["figure", "digits", "--eta", "0.5"], "the figure digits has no such knob"),
    (["figure", "overfitting", "--eta", "0.5,1"], "takes one learning rate"),
    (["figure", "overfitting", "--out", "x.png"], "does not end in .svg"),
    (["figure", "overfitting", "--epochs", "0"], "argument --epochs"),
    (["figure", "overfitting", "--out", "missing/x.svg"], "does not exist"),
])
def test_bad_figure_arguments_are_one_line(tmp_path, args, what):
    env = dict(os.environ, PYTHONPATH=PYTHONPATH)
    done = subprocess.run([sys.executable, "-m", "purenn"] + args, cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert done.returncode == 2 and what in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
