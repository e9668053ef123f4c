"""network3's model files and long runs: save and load bit for bit, damaged
files refused naming the field, and SGD stopped anywhere (by its stop hook
or a periodic checkpoint) resuming to the very weights and printout of an
uninterrupted run, on the reference and the C core."""

import contextlib
import io
import json
import random
import time

import pytest

from purenn import network3
from purenn.backends import core_status
from purenn.errors import ArgumentError, ModelFileError, TrainingInterrupted
from purenn.files import network3file
from purenn.network3 import ConvPoolLayer, FullyConnectedLayer, Network, ReLU, SoftmaxLayer, sigmoid, tanh
from purenn.training import checkpoint

from helpers import layer_hexes

BACKENDS3 = ["reference"] + (["c"] if core_status()[0] else [])


def small_net(backend="reference", p=0.0, seed=3, m=2):
    """1 x 6 x 6 images -> 2 filters 3 x 3, pools 2 x 2 -> FC 5 -> softmax over 3."""
    return Network([ConvPoolLayer((2, 1, 3, 3), (m, 1, 6, 6), (2, 2), ReLU),
                    FullyConnectedLayer(8, 5, tanh, p, weights="n_in"), SoftmaxLayer(5, 3, p)], m, seed=seed,
                   backend=backend)


def small_data(n=21, seed=1):
    rng = random.Random(seed)
    xs = [[rng.random() if rng.random() > 0.3 else 0.0 for k in range(36)] for e in range(n)]
    return xs, [rng.randrange(3) for x in xs]


def trained(backend, p=0.3):
    """A small net after a few steps, so that no weight is where it started (the softmax's are zero)."""
    net = small_net(backend, p)
    with contextlib.redirect_stdout(io.StringIO()):
        net.SGD(small_data(), 2, 2, 0.5, small_data(6, 2), lmbda=0.1, shuffle=True)
    return net


#### Model files

@pytest.mark.parametrize("backend", BACKENDS3)
def test_a_saved_network_loads_back_bit_for_bit_with_its_layers(backend, tmp_path):
    net = trained(backend)
    net.save(tmp_path / "net.json")
    back = network3.load(tmp_path / "net.json", backend=backend)
    assert layer_hexes(back) == layer_hexes(net)
    assert [repr(layer) for layer in back.layers] == [repr(layer) for layer in net.layers]
    assert back.layers[1].weights == "n_in" and back.mini_batch_size == 2 and back.backend == backend
    x = small_data(1, 9)[0][0]
    assert back.feedforward(x) == net.feedforward(x)
    data = json.loads((tmp_path / "net.json").read_text())
    assert data["format"] == "purenn-network3" and [layer["type"] for layer in data["layers"]] == [
        "ConvPoolLayer", "FullyConnectedLayer", "SoftmaxLayer"]
    assert data["layers"][0]["activation"] == "ReLU" and data["layers"][1]["p_dropout"] == 0.3


def test_a_weight_that_is_not_finite_is_not_saved(tmp_path):
    net = small_net()
    net.layers[0].w[1][0][2][1] = float("nan")
    with pytest.raises(ArgumentError, match="layers\\[0\\] has non-finite weights; not saving"):
        net.save(tmp_path / "net.json")
    assert not (tmp_path / "net.json").exists()


def _damaged(data, change):
    change(data)
    return data


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


DAMAGE = [
    (_set(["layers", 0, "w"], [[[[0.0]]]]), "layers[0].w: expected 2 lists (shape 2 x 1 x 3 x 3), got a list of 1"),
    (_set(["layers", 1, "w", 3, 7], float("nan")), "layers[1].w[3][7] is nan, not a finite number"),
    (_set(["layers", 2, "b", 1], "0.5"), "layers[2].b[1] is '0.5', not a finite number"),
    (_set(["layers", 1, "n_in"], "eight"), "layers[1].n_in: 'eight' is not a positive whole number"),
    (_set(["layers", 0, "activation"], "softplus"), "layers[0].activation: 'softplus' is not one of"),
    (_set(["layers", 1, "type"], "LSTMLayer"), "layers[1].type: 'LSTMLayer' is not one of ConvPoolLayer"),
    (_set(["layers", 2, "p_dropout"], 1.0), "layers[2].p_dropout: 1.0 is not a probability"),
    (_set(["layers", 1, "weights"], "xavier"), "layers[1].weights: 'xavier' is not"),
    (_set(["layers", 0, "image_shape"], [3, 1, 6, 6]), "layers[0]: image_shape[0] is 3, but mini_batch_size is 2"),
    (_set(["mini_batch_size"], 0), "mini_batch_size 0 is not a positive whole number"),
    (_set(["version"], 2), "network3 model file version 2; this purenn reads version 1"),
    (_set(["layers"], []), "layers: expected a non-empty list of layers"),
    (_set(["layers", 1], 7), "layers[1]: expected a JSON object, got a number"),
]


@pytest.mark.parametrize("change, message", DAMAGE, ids=[message.split(":")[0] for _, message in DAMAGE])
def test_a_damaged_model_file_is_a_model_file_error_naming_the_file_and_the_field(change, message, tmp_path):
    net = trained("reference")
    path = tmp_path / "net.json"
    path.write_text(json.dumps(_damaged(network3file.network3_dict(net, "x"), change)))
    with pytest.raises(ModelFileError) as info:
        network3.load(path)
    assert str(info.value).startswith("{}: ".format(path)) and message in str(info.value), str(info.value)


def test_layers_that_do_not_chain_are_refused_naming_the_layer(tmp_path):
    data = network3file.network3_dict(trained("reference"), "x")
    data["layers"][1].update(n_out=4, w=data["layers"][1]["w"][:4], b=data["layers"][1]["b"][:4])
    path = tmp_path / "net.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match=r"net.json: layers\[2\]: SoftmaxLayer takes 5 inputs, but layers\[1\] "
                                             r"\(FullyConnectedLayer\) gives 4"):
        network3.load(path)


def test_truncated_json_and_a_device_are_refused_in_one_line(tmp_path):
    net = trained("reference")
    net.save(tmp_path / "net.json")
    text = (tmp_path / "net.json").read_text()
    (tmp_path / "cut.json").write_text(text[:len(text) // 2])
    with pytest.raises(ModelFileError, match="cut.json: not JSON: "):
        network3.load(tmp_path / "cut.json")
    with pytest.raises(ModelFileError, match="/dev/zero: not a regular file"):
        network3.load("/dev/zero")


def test_a_huge_declared_size_is_refused_before_anything_is_allocated(tmp_path):
    data = network3file.network3_dict(trained("reference"), "x")
    data["layers"][0]["filter_shape"] = [10 ** 6, 1, 3000, 3000]   # 9e12 weights promised
    data["layers"][0]["image_shape"] = [2, 1, 6000, 6000]
    path = tmp_path / "net.json"
    path.write_text(json.dumps(data))
    started = time.perf_counter()
    with pytest.raises(ModelFileError, match=r"layers\[0\].w: expected 1000000 lists"):
        network3.load(path)
    assert time.perf_counter() - started < 1.0


#### Stop, checkpoint and resume

def _sgd(net, **hooks):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = net.SGD(small_data(), 3, 2, 0.5, small_data(6, 2), small_data(4, 3), lmbda=0.1, shuffle=True,
                         **hooks)
    return result, out.getvalue()


def _stop_at(n):
    calls = []

    def stop():
        calls.append(1)
        return len(calls) == n
    return stop


@pytest.mark.parametrize("backend", BACKENDS3)
@pytest.mark.parametrize("stop_at", [1, 2, 10, 11, 12, 25, 30])  # 10 mini-batches an epoch
def test_sgd_stopped_before_any_mini_batch_resumes_bit_for_bit_through_a_checkpoint_file(backend, stop_at, tmp_path):
    whole = small_net(backend, p=0.3)
    whole_result, whole_out = _sgd(whole)
    net = small_net(backend, p=0.3)
    out = io.StringIO()
    with pytest.raises(TrainingInterrupted) as info, contextlib.redirect_stdout(out):
        net.SGD(small_data(), 3, 2, 0.5, small_data(6, 2), small_data(4, 3), lmbda=0.1, shuffle=True,
                stop=_stop_at(stop_at))
    stopped = info.value
    assert (stopped.epoch, stopped.done) == ((stop_at - 1) // 10, (stop_at - 1) % 10 * 2)
    checkpoint.save(tmp_path / "run.json", stopped.net, stopped.state)
    resumed = checkpoint.load(tmp_path / "run.json", backend=backend)
    result, rest_out = _sgd(resumed.net, resume=resumed.state)
    assert layer_hexes(resumed.net) == layer_hexes(whole)
    assert result == whole_result
    assert out.getvalue() + rest_out == whole_out


def test_a_run_resumed_on_the_other_backend_ends_the_same():
    if len(BACKENDS3) < 2:
        pytest.skip("the C core is not built")
    whole = small_net("c", p=0.3)
    whole_result, _ = _sgd(whole)
    net = small_net("reference", p=0.3)
    with pytest.raises(TrainingInterrupted) as info, contextlib.redirect_stdout(io.StringIO()):
        net.SGD(small_data(), 3, 2, 0.5, small_data(6, 2), small_data(4, 3), lmbda=0.1, shuffle=True,
                stop=_stop_at(14))
    data = json.loads(json.dumps(network3file.network3_dict(net, "x")))
    on_c = network3.network_from_dict("x", data, backend="c")
    result, _ = _sgd(on_c, resume=info.value.state)
    assert layer_hexes(on_c) == layer_hexes(whole) and result == whole_result


@pytest.mark.parametrize("backend", BACKENDS3)
def test_periodic_snapshots_leave_training_as_it_was_and_each_resumes_to_the_same_end(backend):
    whole = small_net(backend, p=0.3)
    whole_result, _ = _sgd(whole)
    snapshots = []
    net = small_net(backend, p=0.3)
    result, _ = _sgd(net, checkpoint=lambda snapshot: snapshots.append(json.loads(json.dumps(
        (network3file.network3_dict(snapshot().net, "x"), snapshot().state)))))
    assert layer_hexes(net) == layer_hexes(whole) and result == whole_result
    assert len(snapshots) == 27  # before each mini-batch but each epoch's first
    assert sorted({(state["epoch"], state["done"]) for _, state in snapshots[::9]}) == [(0, 2), (1, 2), (2, 2)]
    for described, state in snapshots[::5]:
        again = network3.network_from_dict("x", described, backend=backend)
        assert _sgd(again, resume=state)[0] == whole_result and layer_hexes(again) == layer_hexes(whole)


def test_progress_is_told_each_mini_batch_and_the_end_of_each_epoch():
    told = []
    _sgd(small_net(), progress=lambda done, total: told.append((done, total)))
    assert told[:11] == [(k, 20) for k in range(0, 20, 2)] + [(20, 20)] and len(told) == 33


def test_resuming_with_other_settings_or_other_weights_is_refused():
    net = small_net(p=0.3)
    with pytest.raises(TrainingInterrupted) as info, contextlib.redirect_stdout(io.StringIO()):
        net.SGD(small_data(), 3, 2, 0.5, small_data(6, 2), lmbda=0.1, shuffle=True, stop=_stop_at(5))
    state = info.value.state
    with pytest.raises(ArgumentError, match="resume: the run was started with eta 0.5, not 0.25"):
        net.SGD(small_data(), 3, 2, 0.25, small_data(6, 2), lmbda=0.1, shuffle=True, resume=state)
    with pytest.raises(ArgumentError, match="resume: the run was started with shuffle True, not False"):
        net.SGD(small_data(), 3, 2, 0.5, small_data(6, 2), lmbda=0.1, resume=state)
    net.layers[2].b[0] += 1e-9
    with pytest.raises(ArgumentError, match="resume: the network's weights and biases are not the ones"):
        net.SGD(small_data(), 3, 2, 0.5, small_data(6, 2), lmbda=0.1, shuffle=True, resume=state)
    with pytest.raises(ArgumentError, match="stop: 3 is not callable"):
        net.SGD(small_data(), 3, 2, 0.5, small_data(6, 2), stop=3)


def test_a_checkpoint_of_network3_with_a_damaged_history_is_refused(tmp_path):
    net = small_net()
    with pytest.raises(TrainingInterrupted) as info, contextlib.redirect_stdout(io.StringIO()):
        net.SGD(small_data(), 3, 2, 0.5, small_data(6, 2), stop=_stop_at(15))
    state = dict(info.value.state, history=dict(info.value.state["history"], best_validation_accuracy=1.5))
    checkpoint.save(tmp_path / "run.json", net, state)
    with pytest.raises(ModelFileError, match="run.json: resume: history best_validation_accuracy 1.5 is not a "
                                             "fraction"):
        checkpoint.load(tmp_path / "run.json")


def test_sigmoid_layers_and_dropout_on_the_input_layer_round_trip_too(tmp_path):
    net = Network([FullyConnectedLayer(36, 4, sigmoid, 0.2), SoftmaxLayer(4, 3)], 3, seed=2, backend="reference")
    net.save(tmp_path / "fc.json")
    back = network3.load(tmp_path / "fc.json")
    assert layer_hexes(back) == layer_hexes(net) and back.layers[0].weights == "n_out" and back.layers[0].p_dropout == 0.2
