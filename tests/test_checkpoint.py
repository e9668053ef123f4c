"""Stopping training and resuming it: an interrupted-and-resumed run ends
with exactly the weights of an uninterrupted one -- on every backend, across
backends, stopped anywhere, any number of times -- and a damaged state or
checkpoint file is refused with purenn's own errors."""

import json

import pytest

from helpers import flat_hexes, quiet
from purenn import network, network2
from purenn.training import checkpoint
from purenn.backends import core_status
from purenn.errors import ArgumentError, ModelFileError, TrainingInterrupted

N_TRAIN = 60
CHAPTER1 = dict(sizes=[784, 12, 10], epochs=3, mini_batch_size=10, eta=3.0)
# network2 configurations that carry state across mini-batches and epochs:
# momentum's velocities, dropout's masks, the schedule's eta and best figure.
CONFIGS = {
    "momentum-dropout-l1-l2": dict(sizes=[784, 10, 8, 10], cost=network2.LogLikelihoodCost, activation="relu",
                                   dropout=0.25, epochs=3, mini_batch_size=7, eta=0.05,
                                   sgd=dict(lmbda=2.0, l1=0.5, momentum=0.8, monitor_training_cost=True)),
    "schedule-early-stopping": dict(sizes=[784, 12, 10], cost=network2.CrossEntropyCost, activation="sigmoid",
                                    dropout=0.0, epochs=5, mini_batch_size=10, eta=4.0,
                                    sgd=dict(lmbda=1.0, schedule=1, early_stopping_n=3,
                                             monitor_evaluation_accuracy=True, monitor_evaluation_cost=True)),
}


@pytest.fixture(scope="module")
def data(mnist):
    training, _, test = mnist
    return training[:N_TRAIN], test[:40]


@pytest.fixture
def small_c_calls(monkeypatch):
    """The C core asks stop() after every call into C; make the calls 20
    examples long so that it can stop inside these small epochs too."""
    if core_status()[0]:
        from purenn.backends import cbackend
        monkeypatch.setattr(cbackend, "EXAMPLES_PER_CALL", 20)


class StopAt:
    """stop() that says yes on its calls number `at` (1-based), a set of them."""

    def __init__(self, *at):
        self.at, self.calls = set(at), 0

    def __call__(self):
        self.calls += 1
        return self.calls in self.at


def chapter1_net(backend):
    return network.Network(CHAPTER1["sizes"], seed=5, backend=backend)


def train_chapter1(data, net, stop=None, resume=None):
    training, test = data
    results, _ = quiet(net.SGD, training, CHAPTER1["epochs"], CHAPTER1["mini_batch_size"], CHAPTER1["eta"],
                         test_data=test, stop=stop, resume=resume)
    return results


def network2_net(config, backend):
    c = CONFIGS[config]
    return network2.Network(c["sizes"], c["cost"], activation=c["activation"], dropout=c["dropout"], seed=9,
                            backend=backend)


def train_network2(data, config, net, stop=None, resume=None):
    training, test = data
    c = CONFIGS[config]
    lists, _ = quiet(net.SGD, training, c["epochs"], c["mini_batch_size"], c["eta"], evaluation_data=test,
                       stop=stop, resume=resume, **c["sgd"])
    return lists


def run_to_the_end(train, net, backend_after, stop_points, through_file, tmp_path):
    """Train `net`, stopping at each of `stop_points` in turn and resuming on
    `backend_after` each time (from the state through JSON, or from a
    checkpoint file); return the final network, its result and where it stopped."""
    state, stopped_at = None, []
    for at in list(stop_points) + [None]:
        try:
            result = train(net, stop=StopAt(at) if at is not None else None, resume=state)
            return net, result, stopped_at
        except TrainingInterrupted as e:
            stopped_at.append((e.epoch, e.done))
            if through_file:
                path = tmp_path / "run.checkpoint"
                checkpoint.save(path, net, e.state, command={"note": "test"})
                loaded = checkpoint.load(path, backend=backend_after)
                net, state = loaded.net, loaded.state
                assert loaded.command == {"note": "test"}
            else:
                state = json.loads(json.dumps(e.state))
                net.backend = backend_after
    raise AssertionError("not reached")


#### Bit for bit

# stop() is asked before each epoch and after each mini-batch but an epoch's
# last: here 6 times an epoch in Python, 3 under the C core (calls of 20
# examples).  Call 1 is before any training; 7 (Python) or 4 (C) is between
# epochs 0 and 1.
@pytest.mark.parametrize("stop_points", [(1,), (2,), (4,), (6,), (7,), (8,), (3, 2, 3)],
                         ids=lambda points: "stop-on-" + "-".join(map(str, points)))
def test_chapter1_run_resumed_from_anywhere_ends_bit_for_bit_the_same(data, backend, stop_points, small_c_calls,
                                                                      tmp_path):
    whole = chapter1_net(backend)
    results = train_chapter1(data, whole)
    net, resumed_results, stopped_at = run_to_the_end(
        lambda net, **kw: train_chapter1(data, net, **kw), chapter1_net(backend), backend, stop_points, False,
        tmp_path)
    assert len(stopped_at) == len(stop_points)
    assert flat_hexes(net) == flat_hexes(whole)
    assert resumed_results == results


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("stop_points", [(3,), (9,), (4, 4, 4)], ids=["first-epoch", "second-epoch", "three-times"])
def test_network2_run_resumed_through_a_file_ends_bit_for_bit_the_same(data, backend, config, stop_points,
                                                                       small_c_calls, tmp_path):
    whole = network2_net(config, backend)
    lists = train_network2(data, config, whole)
    net, resumed_lists, stopped_at = run_to_the_end(
        lambda net, **kw: train_network2(data, config, net, **kw), network2_net(config, backend), backend,
        stop_points, True, tmp_path)
    assert len(stopped_at) == len(stop_points)
    assert all(done % CONFIGS[config]["mini_batch_size"] == 0 for _, done in stopped_at)
    assert flat_hexes(net) == flat_hexes(whole)
    assert resumed_lists == lists


def test_where_it_stops_is_mid_epoch_on_every_backend(data, backend, small_c_calls):
    # Stop on the 2nd call: after the first mini-batch (Python) or call into C (20 examples).
    with pytest.raises(TrainingInterrupted) as caught:
        train_network2(data, "momentum-dropout-l1-l2", network2_net("momentum-dropout-l1-l2", backend),
                       stop=StopAt(2))
    expected = 7 if backend != "c" else 14  # 20 examples rounded down to whole mini-batches of 7
    assert (caught.value.epoch, caught.value.done, caught.value.n) == (0, expected, N_TRAIN)
    assert "epoch 0 after {} of {} examples".format(expected, N_TRAIN) in str(caught.value)


def test_a_run_stopped_on_one_backend_resumes_on_another(data, small_c_calls, tmp_path):
    if not core_status()[0]:
        pytest.skip("needs the C core")
    config = "momentum-dropout-l1-l2"
    whole = network2_net(config, "reference")
    lists = train_network2(data, config, whole)
    for first, second in (("c", "reference"), ("reference", "c"), ("python", "c")):
        net, resumed, _ = run_to_the_end(lambda net, **kw: train_network2(data, config, net, **kw),
                                         network2_net(config, first), second, (5,), True, tmp_path)
        assert net.backend == second
        assert flat_hexes(net) == flat_hexes(whole) and resumed == lists, (first, second)


#### Refusing what does not fit

def interrupted_state(data, backend="python"):
    net = network2.Network([784, 10, 10], seed=1, backend=backend)
    training, test = data
    with pytest.raises(TrainingInterrupted) as caught:
        quiet(net.SGD, training, 2, 10, 0.5, momentum=0.5, stop=StopAt(3))
    return net, json.loads(json.dumps(caught.value.state))


@pytest.mark.parametrize("change, message", [
    (lambda s: s["settings"].update(mini_batch_size=5), "started with mini_batch_size 5, not 10"),
    (lambda s: s.update(kind="network"), "from a network run, not network2"),
    (lambda s: s.update(done=15), "done 15 is not a whole number of mini-batches"),
    (lambda s: s.update(done=-10), "done -10"),
    (lambda s: s.update(epoch="1"), "epoch '1'"),
    (lambda s: s["order"].__setitem__(0, s["order"][1]), "order is not the positions 0..59"),
    (lambda s: s["order"].pop(), "order is not"),
    (lambda s: s.update(rng=[3, [1] * 624, None]), "rng is not a state"),
    (lambda s: s["rng"][1].__setitem__(0, 2 ** 32), "rng is not a state"),
    (lambda s: s.update(params="0" * 64), "not the ones the state was saved with"),
    (lambda s: s["velocity"]["weights"][0].pop(), "velocity weights has the wrong shape"),
    (lambda s: s["velocity"]["biases"][1].__setitem__(0, float("nan")), "velocity biases"),
    (lambda s: s.update(velocity=None), "needs the velocities"),
    (lambda s: s["history"].update(eta="fast"), "eta and start_eta"),
    (lambda s: s["history"].update(evaluation_cost=None), "evaluation_cost is not a list"),
    (lambda s: s["history"]["training_cost"].append(0.5), "training_cost has 1 figures for 0 finished epochs"),
    (lambda s: s["history"].update(best=10 ** 400), "best must be a number or null"),
    (lambda s: s["rng"].__setitem__(2, 10 ** 400), "rng is not a state"),
    (lambda s: s.pop("order"), "has no 'order'"),
    (lambda s: s.clear(), "has no 'kind'"),
])
def test_a_state_that_does_not_fit_is_refused_with_a_message(data, change, message):
    net, state = interrupted_state(data)
    change(state)
    training, _ = data
    with pytest.raises(ArgumentError, match="^resume: ") as caught:
        quiet(net.SGD, training, 2, 10, 0.5, momentum=0.5, resume=state)
    assert message in str(caught.value)


def test_resuming_with_other_data_or_arguments_is_refused(data):
    net, state = interrupted_state(data)
    training, _ = data
    with pytest.raises(ArgumentError, match="started with n 60, not 59"):
        quiet(net.SGD, training[:59], 2, 10, 0.5, momentum=0.5, resume=state)
    with pytest.raises(ArgumentError, match="started with eta 0.5, not 0.25"):
        quiet(net.SGD, training, 2, 10, 0.25, momentum=0.5, resume=state)
    with pytest.raises(ArgumentError, match="started with momentum 0.5, not 0.0"):
        quiet(net.SGD, training, 2, 10, 0.5, resume=state)
    with pytest.raises(ArgumentError, match="the run stopped in epoch 0; with epochs=0 there is no such epoch"):
        quiet(net.SGD, training, 0, 10, 0.5, momentum=0.5, resume=state)
    with pytest.raises(ArgumentError, match="not a dict|expected the dict"):
        quiet(net.SGD, training, 2, 10, 0.5, momentum=0.5, resume=[state])


def test_a_checkpoint_file_round_trips_and_damage_is_a_model_file_error(data, tmp_path):
    net, state = interrupted_state(data)
    path = tmp_path / "c.json"
    checkpoint.save(path, net, state, command={"sizes": [784, 10, 10]})
    loaded = checkpoint.load(path)
    assert flat_hexes(loaded.net) == flat_hexes(net) and loaded.state == state
    assert isinstance(loaded.net, network2.Network) and loaded.net.cost is net.cost
    text = path.read_text()
    document = json.loads(text)
    for damage, message in (
            (lambda d: d.update(format="purenn-network"), "not a purenn checkpoint"),
            (lambda d: d.update(version=2), "checkpoint version 2"),
            (lambda d: d.update(training=None), "training state is missing"),
            (lambda d: d["training"].update(done=3), "done 3 is not a whole number"),
            (lambda d: d["network"]["weights"][0][0].__setitem__(0, 1.5), "not the ones the state was saved with"),
            (lambda d: d["network"].update(sizes=[784, 11, 10]), "weights[0]: expected 11 x 784"),
            (lambda d: d.update(command=[1]), "command is not a JSON object")):
        changed = json.loads(text)
        damage(changed)
        path.write_text(json.dumps(changed))
        with pytest.raises(ModelFileError, match=str(path).replace("\\", "\\\\") + ": ") as caught:
            checkpoint.load(path)
        assert message in str(caught.value)
    for raw, message in ((text[:len(text) // 2], "not JSON"), ("", "not JSON"), ("[" * 100000, "not JSON")):
        path.write_text(raw)
        with pytest.raises(ModelFileError, match=message):
            checkpoint.load(path)
    with pytest.raises(ModelFileError, match="cannot open"):
        checkpoint.load(tmp_path / "missing.json")
    assert document["format"] == "purenn-checkpoint"


def test_a_chapter1_checkpoint_loads_as_a_chapter1_network(data, tmp_path):
    training, test = data
    net = network.Network([784, 10, 10], seed=2, backend="python")
    with pytest.raises(TrainingInterrupted) as caught:
        quiet(net.SGD, training, 2, 10, 3.0, stop=StopAt(4))
    checkpoint.save(tmp_path / "c.json", net, caught.value.state)
    loaded = checkpoint.load(tmp_path / "c.json", backend="reference")
    assert type(loaded.net) is network.Network and loaded.net.backend == "reference"
    assert flat_hexes(loaded.net) == flat_hexes(net)


def test_the_c_core_refuses_a_start_that_is_not_a_mini_batch_boundary(data, core):
    from purenn.backends import Examples, load_core

    net = network.Network([784, 5, 10], seed=1, backend="c")
    trainer = load_core("c").trainer(net, Examples(data[0], labelled=False, n_out=10), N_TRAIN, 0.0, 0.0, 0.0, None)
    before = flat_hexes(net)
    trainer.begin_epoch(list(range(N_TRAIN)), None)
    for begin in (-10, 5, N_TRAIN + 10, 1.0, True):
        with pytest.raises(ArgumentError, match="begin: "):
            trainer.train(begin, N_TRAIN, 10, 3.0)
    for end in (N_TRAIN + 1, 5.0, -1):
        with pytest.raises(ArgumentError, match="end: "):
            trainer.train(0, end, 10, 3.0)
    with pytest.raises(ArgumentError, match="batch: "):
        trainer.train(0, N_TRAIN, 0, 3.0)
    trainer.train(N_TRAIN, N_TRAIN, 10, 3.0)
    trainer.end_epoch()
    assert flat_hexes(net) == before