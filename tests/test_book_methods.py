"""The book's methods are what is trained: SGD calls update_mini_batch, which
calls backprop (and, in chapter 1, cost_derivative), so that a subclass that
overrides one of them -- the chapter-2 exercise of a matrix-form
update_mini_batch, say -- changes what SGD does.  A fast backend never
silently skips such a change: under "auto" the network runs on the
reference, and asking for a fast backend by name is refused."""

import sys

import pytest

from purenn import network, network2
from purenn.backends import core_status, overridden_methods
from purenn.errors import BackendError

from helpers import flat_hexes, quiet

FAST = ["python"] + (["c"] if core_status()[0] else [])


@pytest.fixture(scope="module")
def digits(mnist):
    training, validation, test = mnist
    return training[:60], test[:30]


def counting(base):
    """A subclass of `base` that counts the calls of the book's methods and otherwise changes nothing."""

    class Counting(base):
        def __init__(self, *args, **kwargs):
            self.calls = {"update_mini_batch": 0, "backprop": 0}
            super().__init__(*args, **kwargs)

        def update_mini_batch(self, mini_batch, *args, **kwargs):
            self.calls["update_mini_batch"] += 1
            return super().update_mini_batch(mini_batch, *args, **kwargs)

        def backprop(self, x, y, *args):
            self.calls["backprop"] += 1
            return super().backprop(x, y, *args)

    return Counting


def test_chapter1_sgd_calls_the_subclass_update_mini_batch_and_backprop(digits):
    training, test = digits
    net = counting(network.Network)([784, 8, 10], seed=4)
    assert net.backend == "reference" and overridden_methods(net) == ["update_mini_batch", "backprop"]
    quiet(net.SGD, training, 2, 7, 3.0, test_data=test)
    assert net.calls == {"update_mini_batch": 2 * 9, "backprop": 2 * 60}  # 60 examples: 8 batches of 7 and one of 4
    plain = network.Network([784, 8, 10], seed=4, backend="c" if "c" in FAST else "python")
    quiet(plain.SGD, training, 2, 7, 3.0, test_data=test)
    assert flat_hexes(net) == flat_hexes(plain)  # the same loop: the C core's result, bit for bit


def test_network2_sgd_calls_the_subclass_methods_with_every_option(digits):
    training, test = digits
    kwargs = dict(cost=network2.LogLikelihoodCost, activation="relu", dropout=0.25, seed=5)
    options = dict(lmbda=0.5, evaluation_data=test, monitor_evaluation_accuracy=True, monitor_training_cost=True,
                   l1=0.1, momentum=0.5, verbose=False)
    net = counting(network2.Network)([784, 12, 8, 10], **kwargs)
    results = net.SGD(training, 2, 10, 0.1, **options)
    assert net.backend == "reference" and net.calls == {"update_mini_batch": 12, "backprop": 120}
    plain = network2.Network([784, 12, 8, 10], backend=FAST[-1], **kwargs)
    assert plain.SGD(training, 2, 10, 0.1, **options) == results
    assert flat_hexes(net) == flat_hexes(plain)


def test_a_changed_backprop_changes_what_is_trained(digits):
    training, _ = digits

    class Frozen(network.Network):
        def backprop(self, x, y):
            nabla_b, nabla_w = super().backprop(x, y)
            return [[0.0] * len(b) for b in nabla_b], [[[0.0] * len(row) for row in w] for w in nabla_w]

    net = Frozen([784, 6, 10], seed=1)
    before = flat_hexes(net)
    quiet(net.SGD, training, 1, 10, 3.0)
    assert flat_hexes(net) == before


def test_a_changed_cost_derivative_changes_what_is_trained(digits):
    training, _ = digits

    class Doubled(network.Network):
        def cost_derivative(self, output_activations, y):
            return [2.0 * d for d in super().cost_derivative(output_activations, y)]

    doubled, plain = Doubled([784, 6, 10], seed=1), network.Network([784, 6, 10], seed=1, backend="reference")
    quiet(doubled.SGD, training, 1, 10, 1.5)
    quiet(plain.SGD, training, 1, 10, 3.0)
    # eta * 2 * (a - y) is (2 eta) * (a - y) bit for bit: doubling the derivative is doubling eta
    assert doubled.backend == "reference" and flat_hexes(doubled) == flat_hexes(plain)


def test_a_changed_feedforward_is_what_evaluate_and_accuracy_use(digits):
    _, test = digits

    class AlwaysSeven(network2.Network):
        def feedforward(self, a):
            return [1.0 if j == 7 else 0.0 for j in range(10)]

    net = AlwaysSeven([784, 5, 10], seed=0)
    assert net.accuracy(test) == sum(int(y == 7) for _, y in test)


def test_the_chapter2_exercise_a_matrix_form_update_mini_batch_trains(digits):
    """Chapter 2's exercise: all of a mini-batch's examples in one pass, as a
    matrix X whose columns are the inputs.  Written here with lists and sum(),
    as a student would.  It adds the same products in the same order as the
    book's update_mini_batch, so up to Python 3.11 it gives the book's numbers
    bit for bit; from 3.12 sum() of floats compensates its rounding errors
    (which is why purenn never uses it), and the two agree to rounding."""
    training, test = digits

    class MatrixForm(network.Network):
        def update_mini_batch(self, mini_batch, eta):
            m = len(mini_batch)
            A = [list(x) for x, _ in mini_batch]  # one row per example: the transpose of the book's X
            activations, zs = [A], []
            for b, w in zip(self.biases, self.weights):
                Z = [[sum(w_jk * a_k for w_jk, a_k in zip(w_j, a)) + b_j for w_j, b_j in zip(w, b)] for a in A]
                zs.append(Z)
                A = [[network.sigmoid(z) for z in row] for row in Z]
                activations.append(A)
            D = [[(a - y_j) * network.sigmoid_prime(z) for a, y_j, z in zip(row, y, zrow)]
                 for row, (_, y), zrow in zip(A, mini_batch, zs[-1])]
            for l in range(1, self.num_layers):
                below = activations[-l - 1]
                w = self.weights[-l]
                nabla_b = [sum(D[i][j] for i in range(m)) for j in range(len(w))]
                nabla_w = [[sum(D[i][j] * below[i][k] for i in range(m)) for k in range(len(w[0]))]
                           for j in range(len(w))]
                if l < self.num_layers - 1:
                    D = [[sum(w[j][k] * D[i][j] for j in range(len(w))) * network.sigmoid_prime(zs[-l - 1][i][k])
                          for k in range(len(w[0]))] for i in range(m)]
                self.weights[-l] = [[w_jk - (eta / m) * nw for w_jk, nw in zip(w_j, nw_j)]
                                    for w_j, nw_j in zip(w, nabla_w)]
                self.biases[-l] = [b_j - (eta / m) * nb for b_j, nb in zip(self.biases[-l], nabla_b)]

    matrix, book = MatrixForm([784, 6, 10], seed=3), network.Network([784, 6, 10], seed=3, backend="reference")
    quiet(matrix.SGD, training, 1, 10, 3.0)
    quiet(book.SGD, training, 1, 10, 3.0)
    assert matrix.backend == "reference"
    assert flat_hexes(matrix) != flat_hexes(MatrixForm([784, 6, 10], seed=3))  # it did train
    if sys.version_info < (3, 12):
        assert flat_hexes(matrix) == flat_hexes(book)
    for w_m, w_b in zip([v for w in matrix.weights for row in w for v in row],
                        [v for w in book.weights for row in w for v in row]):
        assert w_m == pytest.approx(w_b, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("fast", FAST)
@pytest.mark.parametrize("base", [network.Network, network2.Network])
def test_a_fast_backend_asked_for_by_name_refuses_a_changed_book_method(base, fast, monkeypatch):
    with pytest.raises(BackendError, match="backend: Counting changes update_mini_batch, backprop, which the {} "
                                           "backend does not run; use backend=\"reference\"".format(fast)):
        counting(base)([4, 3, 2], seed=0, backend=fast)
    monkeypatch.setenv("PURENN_BACKEND", fast)
    with pytest.raises(BackendError, match="PURENN_BACKEND: Counting changes"):
        counting(base)([4, 3, 2], seed=0)
    monkeypatch.setenv("PURENN_BACKEND", "auto")
    assert counting(base)([4, 3, 2], seed=0).backend == "reference"


@pytest.mark.parametrize("fast", FAST)
def test_a_book_method_replaced_on_the_instance_stops_a_fast_backend(fast, digits):
    training, test = digits
    net = network.Network([784, 5, 10], seed=0, backend=fast)
    net.backprop = lambda x, y: (_ for _ in ()).throw(AssertionError("not reached"))
    before = flat_hexes(net)
    for call in (lambda: net.SGD(training, 1, 10, 3.0), lambda: net.evaluate(test),
                 lambda: net.feedforward(test[0][0])):
        with pytest.raises(BackendError, match="changes backprop, which the {} backend does not run".format(fast)):
            call()
    assert flat_hexes(net) == before
    net.backend = "reference"
    with pytest.raises(AssertionError, match="not reached"):
        net.SGD(training, 1, 10, 3.0)


@pytest.mark.parametrize("fast", FAST)
def test_a_book_method_replaced_on_its_class_at_run_time_runs_on_the_reference(fast, digits, monkeypatch):
    training, _ = digits
    calls = []
    original = network.Network.backprop

    def traced(self, x, y):
        calls.append(1)
        return original(self, x, y)

    already = network.Network([784, 5, 10], seed=0, backend=fast)
    monkeypatch.setattr(network.Network, "backprop", traced)
    assert network.Network([784, 5, 10], seed=0).backend == "reference"
    with pytest.raises(BackendError, match=r"the reference's network.Network.backprop has been changed since its "
                                           r"twins were checked, which the {} backend does not run".format(fast)):
        network.Network([784, 5, 10], seed=0, backend=fast)
    with pytest.raises(BackendError, match="network.Network.backprop"):
        already.SGD(training, 1, 10, 3.0)
    net = network.Network([784, 5, 10], seed=0)
    quiet(net.SGD, training, 1, 10, 3.0)
    assert len(calls) == len(training)
    monkeypatch.undo()
    assert network.Network([784, 5, 10], seed=0, backend=fast).backend == fast


def test_the_chapter2_exercise_done_in_network_py_itself_is_what_is_trained(tmp_path):
    """A student edits update_mini_batch in a copy of purenn's own network.py:
    the default backend runs the edit, and a fast backend by name refuses."""
    import os
    import shutil
    import subprocess
    import sys
    import purenn
    from purenn import mnist_loader

    copy = tmp_path / "purenn"
    shutil.copytree(os.path.dirname(purenn.__file__), str(copy), ignore=shutil.ignore_patterns("__pycache__"))
    source = (copy / "network.py").read_text()
    marker = "        mini_batch = check_mini_batch(self, mini_batch, eta)\n"
    assert source.count(marker) == 1
    (copy / "network.py").write_text(source.replace(marker, marker + '        print("my update_mini_batch")\n'))
    script = ("import purenn, sys\n"
              "assert purenn.__file__.startswith(sys.argv[1]), purenn.__file__\n"
              "from purenn import network, mnist_loader\n"
              "training = mnist_loader.load_data_wrapper()[0][:30]\n"
              "net = network.Network([784, 5, 10], seed=1)\n"
              "print('backend', net.backend)\n"
              "net.SGD(training, 1, 10, 3.0)\n"
              "try:\n"
              "    network.Network([784, 5, 10], seed=1, backend='python')\n"
              "except purenn.BackendError as e:\n"
              "    print('refused:', e)\n")
    done = subprocess.run([sys.executable, "-c", script, str(copy)], cwd=str(tmp_path), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(tmp_path), PURENN_BACKEND="auto",
                                   PURENN_DATA=mnist_loader.find_data_dir(None)))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "backend reference" and lines.count("my update_mini_batch") == 3
    assert "refused: backend: the reference's network.py has been changed" in done.stdout


def _changes():
    """(what to replace, with what): the run-time changes a fast backend would not run."""
    import functools
    from purenn import mnist_loader

    def clipped_sigmoid(z):
        return min(network.sigmoid(z), 0.9)

    return [
        ("activation table entry", network2.ACTIVATIONS, "sigmoid", (clipped_sigmoid, network2._sigmoid_prime_of)),
        ("network2's own sigmoid", network2, "sigmoid", clipped_sigmoid),
        ("a linalg function as network2 holds it", network2, "weighted_inputs",
         lambda w, a, b: [0.0 for _ in b]),
        ("a cost's method on its class", network2.CrossEntropyCost, "fn", staticmethod(lambda a, y: 42.0)),
        ("a wrapped replacement", network, "sigmoid", functools.wraps(network.sigmoid)(clipped_sigmoid)),
        ("a constant", network2, "_TINY", 1e-5),
        ("the pixel values", mnist_loader, "PIXEL_VALUES", [byte / 255 for byte in range(256)]),
    ]


@pytest.mark.parametrize("fast", FAST)
@pytest.mark.parametrize("index", range(7))
def test_run_time_changes_of_the_reference_send_an_automatic_network_to_it(index, fast, monkeypatch):
    what, where, name, replacement = _changes()[index]
    automatic, named = network2.Network([4, 3, 2], seed=0), network2.Network([4, 3, 2], seed=0, backend=fast)
    assert automatic.backend == FAST[-1]
    if isinstance(where, dict):
        monkeypatch.setitem(where, name, replacement)
    else:
        monkeypatch.setattr(where, name, replacement)
    x = [0.5, 0.0, 0.25, 1.0]
    assert automatic.feedforward(x) == network2.Network([4, 3, 2], seed=0, backend="reference").feedforward(x)
    assert automatic.backend == "reference", what
    with pytest.raises(BackendError, match="which the {} backend does not run".format(fast)):
        named.feedforward(x)
    assert network2.Network([4, 3, 2], seed=0).backend == "reference"
    monkeypatch.undo()
    assert network2.Network([4, 3, 2], seed=0).backend == FAST[-1]
