"""What the book's readers pass and call (issue 13): random.seed makes a run
repeatable, inputs shaped as the book's loader shapes them, the
DeepLearningPython35 fork's save / load / start_epoch / backups."""

import random

import pytest

from purenn import network, network2
from purenn.errors import ArgumentError, ModelFileError


def tiny_data(n=30, n_in=4, n_out=2, seed=0):
    rng = random.Random(seed)
    data = []
    for i in range(n):
        x = [rng.random() for _ in range(n_in)]
        data.append((x, [1.0 if k == i % n_out else 0.0 for k in range(n_out)]))
    return data


@pytest.mark.parametrize("module", [network, network2], ids=["network", "network2"])
def test_random_seed_makes_a_run_without_seed_repeatable(module):
    runs = []
    for _ in range(2):
        random.seed(12345678)  # as the book's figure scripts do
        net = module.Network([4, 3, 2])
        net.SGD(tiny_data(), 2, 5, 0.5)
        runs.append((net.weights, net.biases, random.random()))
    assert runs[0] == runs[1]
    random.seed(1)
    a = module.Network([4, 3, 2], seed=7).weights
    random.seed(2)
    assert module.Network([4, 3, 2], seed=7).weights == a  # seed= keeps its meaning


def column(values):
    return [[v] for v in values]


def test_inputs_shaped_as_the_books_loader_shapes_them_train_the_same():
    flat = tiny_data()
    shaped = [(column(x), column(y)) for x, y in flat]
    nets = [network.Network([4, 3, 2], seed=3) for _ in range(3)]
    nets[0].SGD(flat, 2, 5, 0.5)
    nets[1].SGD(shaped, 2, 5, 0.5)
    nets[2].SGD(zip([x for x, _ in shaped], [y for _, y in shaped]), 2, 5, 0.5)  # the fork's zip objects
    assert nets[0].weights == nets[1].weights == nets[2].weights
    test = [(column(x), [i % 2]) for i, (x, _) in enumerate(flat)]  # labels as 1-element lists
    assert nets[1].evaluate(test) == nets[0].evaluate([(x, i % 2) for i, (x, _) in enumerate(flat)])
    assert nets[0].feedforward(column(flat[0][0])) == nets[0].feedforward(flat[0][0])
    assert nets[0].feedforward(iter(flat[0][0])) == nets[0].feedforward(flat[0][0])


def test_numpy_arrays_are_read_with_float_and_outputs_stay_lists():
    np = pytest.importorskip("numpy")
    flat = tiny_data()
    arrays = [(np.array(column(x), dtype=np.float32), np.array(column(y))) for x, y in flat]
    net, twin = network2.Network([4, 3, 2], seed=5), network2.Network([4, 3, 2], seed=5)
    net.SGD(arrays, 1, 5, 0.5, evaluation_data=[(a, np.int64(i % 2)) for i, (a, _) in enumerate(arrays)],
            monitor_evaluation_accuracy=True, verbose=False)
    # float32 inputs are the float32 values, widened exactly, not the doubles they were made from
    twin.SGD([([float(np.float32(v)) for v in x], y) for x, y in flat], 1, 5, 0.5, verbose=False)
    assert net.weights == twin.weights
    out = net.feedforward(arrays[0][0])
    assert type(out) is list and all(type(v) is float for v in out)


@pytest.mark.parametrize("bad, message", [
    ([[0.1, 0.2]] * 4, r"a\[0\]: \[0.1, 0.2\] is a list, not a float"),
    ("abcd", "expected a list of 4 numbers|is a str"),
    ([[0.1]] * 3, "has 3 values, expected 4"),
    ([True, 0.0, 0.0, 0.0], "is a bool"),
])
def test_what_is_not_a_vector_is_still_refused(bad, message):
    with pytest.raises(ArgumentError, match=message):
        network.Network([4, 2], seed=0).feedforward(bad)


def test_the_forks_save_and_load(tmp_path):
    net = network.Network([4, 3, 2], seed=1)
    net.save(tmp_path / "net.json")
    other = network.Network([2, 2], seed=9).load(tmp_path / "net.json")
    assert (other.sizes, other.weights, other.biases) == (net.sizes, net.weights, net.biases)
    assert network2.load(tmp_path / "net.json").cost is network2.QuadraticCost
    network2.Network([4, 2], cost=network2.CrossEntropyCost).save(tmp_path / "ce.json")
    with pytest.raises(ModelFileError, match="'CrossEntropyCost' and 'sigmoid' neurons; the chapter-1 network"):
        network.Network([2, 2]).load(tmp_path / "ce.json")


def test_the_forks_start_epoch_and_backups(tmp_path, capsys):
    net = network.Network([4, 3, 2], seed=2)
    test = [(x, i % 2) for i, (x, _) in enumerate(tiny_data())]
    net.SGD(tiny_data(), 4, 5, 0.5, test_data=test, backup_dir=tmp_path / "backups", backup_every=2)
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == ["epoch3.json", "initial.json",
                                                                         "latest.json"]
    assert network2.load(tmp_path / "backups" / "epoch3.json").weights == net.weights
    assert network2.load(tmp_path / "backups" / "initial.json").weights == network.Network([4, 3, 2], seed=2).weights
    later = network.Network([2, 2], seed=0).load(tmp_path / "backups" / "latest.json")  # after epoch 2
    capsys.readouterr()
    later.SGD(tiny_data(), 6, 5, 0.5, test_data=test, start_epoch=4)
    assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()] == ["Epoch 4", "Epoch 5", "Epoch 6"]
    with pytest.raises(ArgumentError, match="start_epoch: 0 is not a whole number of at least 1"):
        later.SGD(tiny_data(), 6, 5, 0.5, start_epoch=0)


def test_network2_has_the_books_sigmoid_prime():
    assert network2.sigmoid_prime(0.0) == 0.25
