"""network2 and the chapter-3 toolbox: costs, initialisers, gradients, every
option bit for bit on both backends, early stopping, the schedule, model files."""

import json
import math
import os
import random
import re

import pytest

from helpers import flat_hexes, quiet
from purenn import network2
from purenn.errors import ArgumentError, ModelFileError
from purenn.network2 import CrossEntropyCost, LogLikelihoodCost, Network, QuadraticCost


#### Costs

def test_quadratic_cost_by_hand():
    assert QuadraticCost.fn([0.5, 0.25], [1.0, 0.0]) == 0.5 * (0.25 + 0.0625)
    assert QuadraticCost.delta(None, [0.5], [1.0]) == [(0.5 - 1.0) * 0.5 * 0.5]


def test_cross_entropy_cost_by_hand_and_finite_at_the_edges():
    a, y = [0.8, 0.1], [1.0, 0.0]
    assert CrossEntropyCost.fn(a, y) == pytest.approx(-math.log(0.8) - math.log(0.9), rel=1e-15)
    assert CrossEntropyCost.delta(None, a, y) == [0.8 - 1.0, 0.1]
    for a, y in (([0.0], [1.0]), ([1.0], [0.0]), ([0.0], [0.0]), ([1.0], [1.0]), ([0.0, 1.0], [0.5, 0.5])):
        value = CrossEntropyCost.fn(a, y)
        assert math.isfinite(value), (a, y)
    assert CrossEntropyCost.fn([0.0], [0.0]) == 0.0 and CrossEntropyCost.fn([1.0], [1.0]) == 0.0
    assert CrossEntropyCost.fn([0.0], [1.0]) > 600  # enormous, yet finite


def test_log_likelihood_cost_is_minus_log_of_the_right_output():
    assert LogLikelihoodCost.fn([0.2, 0.7, 0.1], [0.0, 1.0, 0.0]) == -math.log(0.7)
    assert math.isfinite(LogLikelihoodCost.fn([1.0, 0.0], [0.0, 1.0]))


def test_softmax_sums_to_one_and_does_not_overflow():
    out = network2.softmax([1000.0, 1001.0, -1000.0])
    assert out[2] == 0.0 and out[1] == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-15)
    assert math.fsum(network2.softmax([0.3, -2.0, 5.0, 0.0])) == pytest.approx(1.0, rel=1e-15)


#### Initialisation

def test_default_initializer_scales_weights_by_one_over_root_n_in():
    net = Network([400, 50, 10], seed=1, backend="python")
    weights = [v for row in net.weights[0] for v in row]
    std = math.sqrt(math.fsum(v * v for v in weights) / len(weights))
    assert std == pytest.approx(1 / 20, rel=0.03)
    net.large_weight_initializer()
    weights = [v for row in net.weights[0] for v in row]
    assert math.sqrt(math.fsum(v * v for v in weights) / len(weights)) == pytest.approx(1.0, rel=0.03)


#### Gradients against central differences, for every cost and activation

def numerical_gradient(net, x, y, h=1e-6):
    def cost():
        return net.cost.fn(net.feedforward(x), y)

    out = []
    for b in net.biases:
        for j in range(len(b)):
            out.append(_central(cost, b, j, h))
    for w in net.weights:
        for row in w:
            for k in range(len(row)):
                out.append(_central(cost, row, k, h))
    return out


def _central(cost, values, i, h):
    original = values[i]
    values[i] = original + h
    up = cost()
    values[i] = original - h
    down = cost()
    values[i] = original
    return (up - down) / (2 * h)


def relative_error(u, v):
    num = math.sqrt(math.fsum((a - b) ** 2 for a, b in zip(u, v)))
    return num / (math.sqrt(math.fsum(a * a for a in u)) + math.sqrt(math.fsum(b * b for b in v)))


@pytest.mark.parametrize("cost", [QuadraticCost, CrossEntropyCost, LogLikelihoodCost])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_backprop_matches_central_differences(cost, activation):
    # the Python reference; the C core's steps equal it bit for bit (below)
    rng = random.Random(7)
    net = Network([5, 4, 3, 3], cost, activation=activation, seed=2, backend="python")
    x = [rng.uniform(-1, 1) for _ in range(5)]
    y = network2.vectorized_result(1, 3) if cost is LogLikelihoodCost else [rng.random() for _ in range(3)]
    nabla_b, nabla_w = net.backprop(x, y)
    analytic = [v for b in nabla_b for v in b] + [v for w in nabla_w for row in w for v in row]
    numeric = numerical_gradient(net, x, y)
    assert max(abs(g) for g in numeric) > 1e-3
    assert relative_error(analytic, numeric) < 1e-6
    wrong = list(analytic)
    wrong[len(nabla_b[0])] *= -1.0  # negative control: one sign flipped
    assert relative_error(wrong, numeric) > 1e-4


def test_dropped_neurons_get_no_gradient():
    net = Network([4, 5, 2], seed=1, dropout=0.5, backend="python")
    mask = [bytes([1, 0, 1, 0, 1])]
    nabla_b, nabla_w = net.backprop([0.5, -0.2, 0.1, 0.9], [1.0, 0.0], mask)
    assert nabla_b[0][1] == 0.0 and nabla_b[0][3] == 0.0
    assert nabla_w[0][1] == [0.0] * 4 and all(row[1] == -0.0 or row[1] == 0.0 for row in nabla_w[1])
    assert nabla_b[0][0] != 0.0


#### Every option, bit for bit on both backends

CONFIGS = {
    "cross-entropy + L2": dict(cost=CrossEntropyCost, sgd=dict(lmbda=5.0)),
    "quadratic": dict(cost=QuadraticCost, sgd=dict()),
    "softmax + log-likelihood": dict(cost=LogLikelihoodCost, sgd=dict(lmbda=1.0)),
    "tanh + L1": dict(cost=CrossEntropyCost, activation="tanh", sgd=dict(l1=2.0)),
    "relu + momentum": dict(cost=LogLikelihoodCost, activation="relu", eta=0.1, sgd=dict(momentum=0.5, lmbda=2.0)),
    "dropout, two hidden layers, everything": dict(cost=LogLikelihoodCost, activation="relu", dropout=0.2,
                                                   sizes=[784, 30, 20, 10], eta=0.1,
                                                   sgd=dict(momentum=0.3, l1=0.5, lmbda=0.5)),
}


@pytest.fixture(scope="module")
def runs(mnist):
    """Per (configuration, backend): the parameters' hex, the returned lists and the printout."""
    training, validation, _ = mnist
    cache = {}

    def run(name, backend):
        if (name, backend) not in cache:
            config = CONFIGS[name]
            net = Network(config.get("sizes", [784, 20, 10]), config["cost"],
                          activation=config.get("activation", "sigmoid"), dropout=config.get("dropout", 0.0),
                          seed=3, backend=backend)
            result, printed = quiet(net.SGD, training[:300], 2, 10, config.get("eta", 0.5),
                                    evaluation_data=validation[:100],
                                    monitor_evaluation_accuracy=True, monitor_evaluation_cost=True,
                                    monitor_training_cost=True, monitor_training_accuracy=True,
                                    **config["sgd"])
            cache[name, backend] = (flat_hexes(net), result, printed)
        return cache[name, backend]
    return run


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_option_matches_the_reference_bit_for_bit(backend, runs, name):
    reference, run = runs(name, "reference"), runs(name, backend)
    assert run[2] == reference[2]  # the book's printout, costs to the last digit
    assert run[1] == reference[1]
    assert run[0] == reference[0]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_option_learns(backend, runs, name):
    params, (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy), printed = runs(name, backend)
    assert len(evaluation_accuracy) == len(training_cost) == 2
    assert evaluation_accuracy[-1] > 25  # of 100; chance is 10
    assert printed.splitlines()[:5] == [
        "Epoch 0 training complete", "Cost on training data: {}".format(training_cost[0]),
        "Accuracy on training data: {} / 300".format(training_accuracy[0]),
        "Cost on evaluation data: {}".format(evaluation_cost[0]),
        "Accuracy on evaluation data: {} / 100".format(evaluation_accuracy[0])]


def test_dropout_masks_come_from_the_networks_rng(backend):
    a, b = (Network([4, 6, 5, 2], seed=9, dropout=0.25, backend=backend) for _ in range(2))
    masks = a.dropout_masks(100)
    assert masks == b.dropout_masks(100)
    assert len(masks) == 100 * 11 and set(masks) == {0, 1}
    assert 0.15 < masks.count(0) / len(masks) < 0.35


#### Early stopping and the learning-rate schedule

def tiny_problem(n=60, seed=0):
    rng = random.Random(seed)
    data = []
    for _ in range(n):
        x = [rng.random() for _ in range(4)]
        label = int(x[0] + x[1] > 1.0)
        data.append((x, label))
    return [(x, network2.vectorized_result(y, 2)) for x, y in data], data


def test_early_stopping_stops_after_n_epochs_without_improvement(backend):
    training, evaluation = tiny_problem()
    net = Network([4, 3, 2], seed=0, backend=backend)
    (_, accuracy, _, _), printed = quiet(net.SGD, training, 200, 10, 0.01, evaluation_data=evaluation,
                                         monitor_evaluation_accuracy=True, early_stopping_n=3)
    assert len(accuracy) < 200
    best = max(accuracy)
    assert accuracy.index(best) == len(accuracy) - 4  # three epochs after the last improvement
    assert "Early stopping: no improvement in 3 epochs" in printed


def test_early_stopping_can_watch_the_training_cost():
    training, _ = tiny_problem()
    net = Network([4, 3, 2], seed=0, backend="python")
    (_, _, cost, _), printed = quiet(net.SGD, training, 500, 60, 50.0, monitor_training_cost=True,
                                     early_stopping_n=2)
    assert len(cost) < 500 and "Early stopping" in printed


def test_early_stopping_without_a_monitor_is_an_error():
    training, _ = tiny_problem()
    net = Network([4, 3, 2], seed=0, backend="python")
    with pytest.raises(ArgumentError, match="early_stopping_n: needs a figure to watch; turn on a monitor"):
        net.SGD(training, 5, 10, 0.5, early_stopping_n=2)
    with pytest.raises(ArgumentError, match="schedule: needs a figure to watch"):
        net.SGD(training, 5, 10, 0.5, schedule=2)
    with pytest.raises(ArgumentError, match="evaluation_data: monitoring it was asked for"):
        net.SGD(training, 5, 10, 0.5, monitor_evaluation_accuracy=True)


def test_schedule_halves_eta_and_stops_at_one_128th(backend):
    training, evaluation = tiny_problem()
    net = Network([4, 3, 2], seed=0, backend=backend)
    etas = []
    (_, accuracy, _, _), printed = quiet(net.SGD, training, 500, 10, 0.4, evaluation_data=evaluation,
                                         monitor_evaluation_accuracy=True, schedule=1,
                                         on_epoch=lambda record: etas.append(record["eta"]))
    assert len(accuracy) < 500
    assert "eta has fallen to 1/128 of its start; stopping" in printed
    distinct = sorted(set(etas), reverse=True)
    assert distinct == [0.4 / 2 ** i for i in range(len(distinct))] and len(distinct) == 7


#### Model files

def test_save_and_load_round_trip_bit_for_bit(backend, tmp_path):
    net = Network([6, 5, 4], LogLikelihoodCost, activation="tanh", dropout=0.2, seed=4, backend=backend)
    net.weights[0][0][0] = 1 / 3
    path = tmp_path / "net.json"
    net.save(path)
    back = network2.load(path, backend=backend)
    assert flat_hexes(back) == flat_hexes(net)
    assert (back.sizes, back.cost, back.activation, back.dropout) == ([6, 5, 4], LogLikelihoodCost, "tanh", 0.2)
    data = json.loads(path.read_text())
    assert data["cost"] == "LogLikelihoodCost"
    assert data["biases"][0] == [[b] for b in net.biases[0]]  # the book's (n, 1) columns
    assert [os.path.basename(p) for p in os.listdir(str(tmp_path))] == ["net.json"]


def test_every_backend_saves_byte_identical_files(core, tmp_path, mnist):
    training, _, _ = mnist
    for backend in ("reference", "python", "c"):
        net = Network([784, 12, 10], seed=6, backend=backend)
        quiet(net.SGD, training[:200], 1, 10, 0.5, lmbda=1.0)
        net.save(tmp_path / (backend + ".json"))
    assert (tmp_path / "python.json").read_bytes() == (tmp_path / "c.json").read_bytes() == \
        (tmp_path / "reference.json").read_bytes()


def book_save(path, sizes, weights, biases, cost_name):
    """A file exactly as the book's network2.Network.save writes one:
    w.tolist() and b.tolist() of NumPy arrays, b a column of shape (n, 1)."""
    data = {"sizes": sizes, "weights": weights, "biases": [[[v] for v in b] for b in biases],
            "cost": str(cost_name)}
    with open(str(path), "w") as f:
        json.dump(data, f)


def test_a_file_in_the_books_format_loads_and_evaluates(backend, tmp_path, mnist):
    _, _, test = mnist
    source = Network([784, 20, 10], seed=1, backend="python")
    book_save(tmp_path / "book.json", source.sizes, source.weights, source.biases, "CrossEntropyCost")
    net = network2.load(tmp_path / "book.json", backend=backend)
    assert net.cost is CrossEntropyCost and net.activation == "sigmoid"
    assert flat_hexes(net) == flat_hexes(source)
    assert net.accuracy(test[:200]) == source.accuracy(test[:200])


def test_our_files_read_the_way_the_books_load_reads_them(tmp_path):
    np = pytest.importorskip("numpy")
    net = Network([5, 4, 3], seed=2, backend="python")
    net.save(tmp_path / "ours.json")
    data = json.loads((tmp_path / "ours.json").read_text())
    # what the book's load does: getattr(module, data["cost"]), np.array(...) for each layer
    assert data["cost"] in ("QuadraticCost", "CrossEntropyCost")
    weights = [np.array(w) for w in data["weights"]]
    biases = [np.array(b) for b in data["biases"]]
    assert [w.shape for w in weights] == [(4, 5), (3, 4)] and [b.shape for b in biases] == [(4, 1), (3, 1)]
    a = np.array([0.1, 0.0, 0.5, 0.9, 0.3]).reshape(5, 1)
    for w, b in zip(weights, biases):
        a = 1.0 / (1.0 + np.exp(-(np.dot(w, a) + b)))
    assert [float(v) for v in a[:, 0]] == pytest.approx(net.feedforward([0.1, 0.0, 0.5, 0.9, 0.3]), rel=1e-13)


def test_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    net = Network([3, 2], seed=0, backend="python")
    net.save(path)
    before = path.read_bytes()
    net.weights[0][0][0] = float("nan")
    with pytest.raises(ArgumentError, match="non-finite weights; not saving it"):
        net.save(path)
    net.weights[0][0][0] = 0.5

    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(network2.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        net.save(path)
    assert path.read_bytes() == before
    assert os.listdir(str(tmp_path)) == ["model.json"]


@pytest.mark.parametrize("content,message", [
    ("not json", "not JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"sizes": [2, 1], "weights": [[[1, 2]]], "biases": [[[0]]]}', "missing the key 'cost'"),
    ('{"sizes": [2, 1], "weights": [[[1, 2]]], "biases": [[[0]]], "cost": "HingeCost"}', "unknown cost 'HingeCost'"),
    ('{"sizes": [2, 1], "weights": [[[1, 2, 3]]], "biases": [[[0]]], "cost": "QuadraticCost"}',
     r"weights\[0\]: expected 1 x 2"),
    ('{"sizes": [2, 1], "weights": [[[1, 2]]], "biases": [[[0], [1]]], "cost": "QuadraticCost"}',
     r"biases\[0\]: expected 1 entries"),
    ('{"sizes": [2, 1], "weights": [[[1, NaN]]], "biases": [[[0]]], "cost": "QuadraticCost"}',
     r"weights\[0\]\[0\]\[1\] is nan, not a finite number"),
    ('{"sizes": [2, 1], "weights": [[[1, 2]]], "biases": [[[0]]], "cost": "QuadraticCost", "activation": "swish"}',
     "unknown activation 'swish'"),
    ('{"sizes": [2], "weights": [], "biases": [], "cost": "QuadraticCost"}', "at least two positive"),
    ("[" * 100000 + "]" * 100000, "not JSON: nested too deeply"),
    ('{"sizes": [2, 1], "weights": [[[1, -0.4\u013d5]]]}', r"not JSON: .* \(line 1, column 40\)"),
    ('{"sizes": [2, 1], "weights": [[[1, 2]]], "biases": [[[0]]], "cost": "QuadraticCost", "dropout": 1.5}',
     "dropout 1.5 is not a probability"),
    ('{"sizes": [100000, 100000], "weights": [[[1, 2]]], "biases": [[[0]]], "cost": "QuadraticCost"}',
     r"weights\[0\]: expected 100000 x 100000"),
])
def test_bad_model_files_raise_model_file_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ModelFileError, match=message) as info:
        network2.load(path)
    assert str(path) in str(info.value)


def test_nesting_is_refused_past_max_depth_before_parsing_and_brackets_in_strings_do_not_count(tmp_path, monkeypatch):
    from purenn.files import modelfile
    path = tmp_path / "deep.json"
    path.write_text("[" * modelfile.MAX_DEPTH + "]" * modelfile.MAX_DEPTH)  # as deep as allowed: parsed
    with pytest.raises(ModelFileError, match="expected a JSON object"):
        network2.load(path)
    path.write_text("[" * (modelfile.MAX_DEPTH + 1) + "]" * (modelfile.MAX_DEPTH + 1))
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed a file nested too deeply"))
    with pytest.raises(ModelFileError, match="not JSON: nested too deeply"):
        network2.load(path)
    monkeypatch.undo()
    net = Network([2, 1], seed=0)
    net.save(str(path))
    document = json.loads(path.read_text())
    for cost in ('[' * 500 + '"', '\\"' + '{' * 500, '\\\\' + "[" * 500):  # unclosed, after \", after \\
        document["cost"] = cost
        path.write_text(json.dumps(document))
        with pytest.raises(ModelFileError, match="unknown cost"):
            network2.load(path)
    assert modelfile.nested_too_deeply('["\\\\"' + "[" * 101)  # an escaped backslash, then the string's end


def test_a_model_file_that_is_not_text_is_named_in_ascii(tmp_path):
    # PyPy 3.9's JSON decoder cuts the non-ASCII character of its message in
    # half, and formatting that message crashed PyPy (found by tests/test_fuzz.py)
    path = tmp_path / "bad.json"
    for content, message in ((b'[1, -0.4\xc4\xbd5]', "not JSON: "), (b'[1, 2\xff]', "not UTF-8 text (byte 5")):
        path.write_bytes(content)
        with pytest.raises(ModelFileError, match=re.escape(message)) as info:
            network2.load(path)
        assert str(info.value).isascii() or str(path) in str(info.value)


def test_bad_options_are_rejected():
    with pytest.raises(ArgumentError, match="activation: 'swish' is not one of"):
        Network([2, 2], activation="swish")
    with pytest.raises(ArgumentError, match="dropout: 1.0 is not a probability"):
        Network([2, 2], dropout=1.0)
    with pytest.raises(ArgumentError, match="cost: .* is not one of"):
        Network([2, 2], cost=object)
    net = Network([2, 2], backend="python")
    with pytest.raises(ArgumentError, match="momentum: 1.5 is not from 0"):
        net.SGD([([0.0, 1.0], [1.0, 0.0])], 1, 1, 0.5, momentum=1.5)


#### Divergence

def test_training_that_diverges_stops_with_a_message_and_nothing_is_saved(backend, tmp_path, capsys):
    from purenn.errors import TrainingError
    from purenn.network import Network as Chapter1
    # From zero weights every sigmoid sits at 0.5, where the gradient is largest; a step
    # of eta * 0.125 * 1e10 with eta = 1e300 overflows to infinity.
    huge = [([1e10, 1e10], [1.0, 0.0]), ([1e10, -1e10], [0.0, 1.0])]
    net = Chapter1([2, 2], seed=0, backend=backend)
    net.weights, net.biases = [[[0.0, 0.0], [0.0, 0.0]]], [[0.0, 0.0]]
    with pytest.raises(TrainingError, match="training diverged in epoch 0: the weights became NaN or infinite; "
                                            "try a smaller eta than 1e\\+300"):
        net.SGD(huge, 3, 1, 1e300)
    net = Network([2, 2], QuadraticCost, seed=0, backend=backend)
    net.weights, net.biases = [[[0.0, 0.0], [0.0, 0.0]]], [[0.0, 0.0]]
    with pytest.raises(TrainingError, match="in epoch 0: the weights"):
        net.SGD(huge, 3, 2, 1e300, monitor_training_cost=True)
    with pytest.raises(ArgumentError, match="non-finite weights; not saving it"):
        net.save(tmp_path / "broken.json")
    assert list(tmp_path.iterdir()) == []


def test_a_diverging_run_from_the_command_line_is_one_line_and_saves_nothing(tmp_path, capsys, monkeypatch):
    from purenn import cli
    from purenn.errors import TrainingError
    from purenn.training import run
    real_check = run.check_finite_after_epoch

    def diverging_in_epoch_1(net, epoch, eta, cost=None, **kwargs):  # as if the weights overflowed then
        if epoch == 1:
            raise TrainingError("training diverged in epoch 1: the weights became NaN or infinite; "
                                "try a smaller eta than {}".format(eta))
        real_check(net, epoch, eta, cost, **kwargs)
    monkeypatch.setattr(run, "check_finite_after_epoch", diverging_in_epoch_1)
    from purenn.files.idx import write_idx
    data = tmp_path / "data"
    data.mkdir()
    for prefix, n in (("train", 12), ("t10k", 3)):
        write_idx(str(data / "{}-images-idx3-ubyte".format(prefix)), [255] * (4 * n), (n, 2, 2))
        write_idx(str(data / "{}-labels-idx1-ubyte".format(prefix)), [i % 10 for i in range(n)], (n,))
    model = tmp_path / "model.json"
    status = cli.main(["train", "--data", str(data), "--sizes", "4,8,10", "--eta", "0.5", "--epochs", "3",
                       "--quiet", "--save", str(model), "--cost", "cross-entropy"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("purenn: error: training diverged in epoch 1") and len(err.splitlines()) == 1
    assert not model.exists()
