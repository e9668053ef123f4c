"""The chapter-6 command line by real processes: train3 and chapter6, a saved
conv net in evaluate, predict, show and misclassified, ensemble's vote, a
signal mid-epoch and --resume ending with the very bytes and printout of an
uninterrupted run, and bad input as one line with status 2."""

import json
import os
import signal
import subprocess
import sys

import pytest

import purenn
from purenn import network3
from purenn.backends import core_status
from purenn.cli import ensemble
from purenn.files.idx import write_idx
from purenn.files.pictures import write_png
from purenn.linalg import argmax

FAST = "c" if core_status()[0] else "reference"
TINY = "conv:2x5x5,pool:2x2,relu; fc:10,relu; softmax"
BOOK_LINES = ("Training mini-batch", "Epoch ", "This is the best", "The corresponding", "Finished", "Best ",
              "Corresponding")


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """MNIST's format: the first 120 training digits (100 to train, 20 to validate) and 40 test digits."""
    from purenn.mnist_loader import load_data
    directory = tmp_path_factory.mktemp("tiny-mnist")
    training, _, test = load_data()
    for prefix, (images, labels), n in (("train", training, 120), ("t10k", test, 40)):
        write_idx(str(directory / "{}-images-idx3-ubyte.gz".format(prefix)),
                  [int(p * 256) for x in images[:n] for p in x], (n, 28, 28))
        write_idx(str(directory / "{}-labels-idx1-ubyte.gz".format(prefix)), list(labels[:n]), (n,))
    return str(directory)


def purenn_run(args, cwd, timeout=600):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(purenn.__file__)))
    done = subprocess.run([sys.executable, "-m", "purenn"] + args, cwd=str(cwd), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout, env=env)
    return done.returncode, done.stdout, done.stderr


def book_lines(out):
    return [line for line in out.splitlines() if line.startswith(BOOK_LINES)]


@pytest.fixture(scope="module")
def conv_model(tiny_mnist, tmp_path_factory):
    """A tiny conv net trained by train3 and saved: (its file, its printout)."""
    directory = tmp_path_factory.mktemp("conv-model")
    status, out, err = purenn_run(["train3", "--layers", TINY, "--data", tiny_mnist, "--epochs", "2", "--seed", "3",
                                   "--eta", "0.1", "--backend", FAST, "--save", "conv.json"], directory)
    assert status == 0, err
    return str(directory / "conv.json"), out


def test_train3_prints_the_books_printout_and_saves_a_network3_model(conv_model, tiny_mnist):
    path, out = conv_model
    assert 'network3 "conv:2x5x5,pool:2x2,relu; fc:10,relu; softmax:10", backend {}'.format(FAST) in out
    assert "training on 100, validating on 20, testing on 40" in out
    assert book_lines(out)[:2] == ["Training mini-batch number 0", book_lines(out)[1]]
    assert book_lines(out)[1].startswith("Epoch 0: validation accuracy ")
    assert "Finished training network." in out and "saved the network to conv.json" in out
    net = network3.load(path)
    assert [type(layer).__name__ for layer in net.layers] == ["ConvPoolLayer", "FullyConnectedLayer", "SoftmaxLayer"]


def _reference_counts(path, data_dir):
    """(right on test, right on validation), by the reference's feedforward -- not the command's code."""
    from purenn.mnist_loader import load_data
    net = network3.load(path, backend="reference")
    _, validation, test = load_data(data_dir)
    return [sum(argmax(net.feedforward(x)) == y for x, y in zip(*data)) for data in (test, validation)]


def test_evaluate_reads_a_conv_model_and_counts_what_the_reference_counts(conv_model, tiny_mnist, tmp_path):
    path, _ = conv_model
    status, out, err = purenn_run(["evaluate", path, "--data", tiny_mnist], tmp_path)
    assert status == 0, err
    test_right, validation_right = _reference_counts(path, tiny_mnist)
    assert "test       {} / 40 ".format(test_right) in out
    assert "validation {} / 20 ".format(validation_right) in out
    assert 'network3 "conv:2x5x5,pool:2x2,relu; fc:10,relu; softmax:10"' in out


def test_show_misclassified_and_predict_take_a_conv_model(conv_model, tiny_mnist, tmp_path):
    path, _ = conv_model
    test_right, _ = _reference_counts(path, tiny_mnist)
    status, out, err = purenn_run(["misclassified", path, "--data", tiny_mnist, "--out", "wrong.png"], tmp_path)
    assert status == 0, err
    assert out.startswith("{} of 40 test images are misclassified".format(40 - test_right))
    assert (tmp_path / "wrong.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, out, err = purenn_run(["show", "--model", path, "--data", tiny_mnist, "--count", "40"], tmp_path)
    assert status == 0, err
    assert out.count("the network says") == 40 and out.count("(wrong)") == 40 - test_right
    from purenn.mnist_loader import load_data
    image = load_data(tiny_mnist)[2][0][0]
    write_png(str(tmp_path / "digit.png"), 28, 28, bytes(int(p * 256) for p in image))
    status, out, err = purenn_run(["predict", path, "digit.png"], tmp_path)
    assert status == 0, err
    assert out.startswith("digit.png: ") and "outputs: 0:" in out


def test_ensemble_votes_and_breaks_a_tie_by_the_order_of_the_models():
    assert ensemble.vote([4, 4, 9]) == 4
    assert ensemble.vote([1, 2, 3]) == 1          # all tied: the first model's
    assert ensemble.vote([7, 5, 5, 3, 3]) == 5    # 5 and 3 tied: the first to vote for either chose 5
    assert ensemble.vote([2, 3, 3, 2]) == 2


def test_ensemble_prints_each_members_accuracy_and_the_votes(conv_model, tiny_mnist, tmp_path):
    path, _ = conv_model
    status, _, err = purenn_run(["train3", "--layers", "fc:10; softmax", "--data", tiny_mnist, "--epochs", "1",
                                 "--seed", "1", "--eta", "0.1", "--save", "fc.json", "--backend", FAST], tmp_path)
    assert status == 0, err
    status, out, err = purenn_run(["ensemble", path, "fc.json", path, "--data", tiny_mnist], tmp_path)
    assert status == 0, err
    from purenn.mnist_loader import load_data
    test = load_data(tiny_mnist)[2]
    nets = [network3.load(p, backend="reference") for p in (path, str(tmp_path / "fc.json"), path)]
    votes = [ensemble.vote([argmax(net.feedforward(x)) for net in nets]) for x in test[0]]
    right = sum(v == y for v, y in zip(votes, test[1]))
    assert "test       the ensemble of 3: {} / 40 ".format(right) in out
    assert out.count("test       ") == 4 and out.count("validation ") == 4


def test_chapter6_lists_the_books_runs_and_runs_one_with_overrides(tiny_mnist, tmp_path):
    status, out, err = purenn_run(["chapter6", "--list"], tmp_path)
    assert status == 0, err
    for name in ("fc100", "conv1", "conv2", "conv2-relu", "conv2-relu-expanded", "dropout"):
        assert name in out
    assert "conv2-relu               60 epochs, eta 0.03, lmbda 0.1; the book: 99.23%" in out
    assert "dropout                  40 epochs, eta 0.03, lmbda 0.0, on the expanded training set" in out
    status, out, err = purenn_run(["chapter6", "fc100", "--data", tiny_mnist, "--epochs", "1", "--seed", "2",
                                   "--backend", FAST, "--quiet"], tmp_path)
    assert status == 0, err
    assert 'chapter 6, fc100: --layers "fc:100; softmax"' in out
    assert "epochs 1, mini-batch size 10, eta 0.1, lmbda 0.0, seed 2" in out and "Epoch 0: validation" in out


@pytest.mark.parametrize("args, message", [
    (["train3", "--layers", "conv:20x5x5,relu; fc:100,dropout:1.5; softmax"],
     "argument --layers: layer 2 ('fc:100,dropout:1.5'): dropout:1.5 is not a probability"),
    (["train3", "--layers", "conv:20x5; softmax"], "argument --layers: layer 1 ('conv:20x5'): conv:20x5 is not 3"),
    (["train3", "--layers", "fc:100; conv:20x5x5; softmax"], "layer 2: a conv layer must come before every fc layer"),
    (["train3", "--layers", "fc:100"], "argument --layers: the last layer must be softmax"),
    (["train3", "--layers", "pool:2x2; softmax"], "layer 1 ('pool:2x2'): 'pool:2x2' is not a kind of layer"),
    (["train3", "--layers", "conv:4x30x5; softmax"], "layer 1 (conv): filter_shape: a 30 x 5 filter does not fit"),
    (["train3", "--layers", "fc:10,swish; softmax"], "'swish' is not a setting of a fc layer"),
    (["train3"], "argument --layers: give the layers"),
    (["train3", "--layers", "fc:10; softmax", "--eta", "-1"], "argument --eta: -1 is not a positive finite number"),
    (["train3", "--layers", "fc:10; softmax", "--save", "no/such/dir/x.json"], "argument --save: the directory"),
    (["train3", "--layers", "fc:10; softmax", "--validation-size", "0", "--train-limit", "100"],
     "argument --validation-size: 0 validation images in "),
    (["chapter6", "conv2-relu-expanded"], "argument --expanded: the run conv2-relu-expanded trains on the expanded"),
    (["chapter6", "conv9"], "argument NAME: invalid choice: 'conv9'"),
    (["chapter6"], "give the run's NAME"),
    (["ensemble", "one.json"], "argument MODEL: give at least two saved networks"),
])
def test_bad_arguments_are_one_line_naming_the_argument_with_status_2(args, message, tmp_path):
    status, out, err = purenn_run(args, tmp_path)
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("purenn {}: error: ".format(args[0])) and message in err, err
    assert os.listdir(str(tmp_path)) == []


def test_a_damaged_conv_model_is_one_line_naming_the_file_and_field(conv_model, tmp_path):
    data = json.loads(open(conv_model[0]).read())
    data["layers"][1]["w"][2][3] = "x"
    (tmp_path / "bad.json").write_text(json.dumps(data))
    for command in (["evaluate", "bad.json"], ["show", "--model", "bad.json"], ["ensemble", "bad.json", "bad.json"]):
        status, out, err = purenn_run(command, tmp_path)
        assert status == 2, err
        assert err == "purenn: error: bad.json: layers[1].w[2][3] is 'x', not a finite number\n"


#### Stopping and resuming

RUN = ["train3", "--layers", "conv:2x5x5,relu; fc:10,relu,dropout:0.3; softmax", "--epochs", "2", "--seed", "5",
       "--shuffle", "--eta", "0.1", "--lmbda", "0.1", "--quiet", "--backend", FAST]
RUN += ["--train-limit", "12000", "--test-limit", "100"] if FAST == "c" else ["--train-limit", "1010",
                                                                              "--test-limit", "20"]


def _stopped_run(tmp_path, signum, when):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(purenn.__file__)))
    process = subprocess.Popen([sys.executable, "-m", "purenn"] + RUN + ["--save", "resumed.json"],
                               cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, env=env)
    seen = []
    for line in process.stdout:  # read to the end: communicate() would drop what the loop has buffered
        seen.append(line)
        if line.startswith(when):
            process.send_signal(signum)
    err = process.stderr.read()
    process.wait(timeout=600)
    return process.returncode, "".join(seen), err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_epoch_checkpoints_and_resume_ends_with_the_same_bytes_and_printout(signum, tmp_path):
    status, whole_out, err = purenn_run(RUN + ["--save", "whole.json"], tmp_path)
    assert status == 0, err
    when = "Training mini-batch number 1000" if FAST == "c" else "Training mini-batch number 0"
    status, out, err = _stopped_run(tmp_path, signum, when)
    assert status == 128 + signum, (out, err)
    assert "in epoch 0 after " in out and "saved a checkpoint to purenn-checkpoint.json" in out
    assert "resume with: python -m purenn train3 --resume purenn-checkpoint.json" in err
    assert not (tmp_path / "resumed.json").exists() and "Traceback" not in err
    threads = ["--threads", "3"] if FAST == "c" else []  # the same numbers on any number of threads
    status, rest_out, err = purenn_run(["train3", "--resume", "purenn-checkpoint.json"] + threads, tmp_path)
    assert status == 0, err
    assert (tmp_path / "resumed.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    assert book_lines(out) + book_lines(rest_out) == book_lines(whole_out)
    assert "the run is complete; removed its checkpoint purenn-checkpoint.json" in rest_out
    assert not (tmp_path / "purenn-checkpoint.json").exists()


def test_a_periodic_checkpoint_within_an_epoch_resumes_to_the_same_end(tiny_mnist, tmp_path):
    args = ["train3", "--layers", TINY, "--data", tiny_mnist, "--epochs", "2", "--seed", "4", "--eta", "0.1",
            "--quiet", "--backend", FAST, "--checkpoint", "run.ckpt"]
    status, whole_out, err = purenn_run(args + ["--save", "whole.json", "--checkpoint-every", "0"], tmp_path)
    assert status == 0, err
    # every 1e-9 minutes: a checkpoint before every mini-batch; the last one written is kept when the run is
    # stopped by a --save that cannot be written (the directory is missing)
    status, out, err = purenn_run(args + ["--save", "whole.json", "--checkpoint-every", "1e-9"], tmp_path)
    assert status == 0, err
    assert "a checkpoint every 1e-09 minutes to run.ckpt" in err and not (tmp_path / "run.ckpt").exists()
    saved = {}
    script = ("import sys, runpy; from purenn.cli import checkpoints; keep = checkpoints.RunCheckpoint.write\n"
              "def write(self, interrupted):\n"
              "    path = keep(self, interrupted)\n"
              "    if interrupted.epoch == 1 and interrupted.done == 40: raise SystemExit(9)\n"
              "    return path\n"
              "checkpoints.RunCheckpoint.write = write\n"
              "sys.argv = ['purenn'] + sys.argv[1:]; runpy.run_module('purenn', run_name='__main__')\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(purenn.__file__)))
    done = subprocess.run([sys.executable, "-c", script] + args + ["--save", "resumed.json", "--checkpoint-every",
                                                                   "1e-9"], cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=600)
    assert done.returncode == 9, done.stderr  # killed just after the checkpoint of epoch 1, 40 examples done
    saved["state"] = json.loads((tmp_path / "run.ckpt").read_text())["training"]
    assert (saved["state"]["epoch"], saved["state"]["done"]) == (1, 40)
    status, rest_out, err = purenn_run(["train3", "--resume", "run.ckpt"], tmp_path)
    assert status == 0, err
    assert (tmp_path / "resumed.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    assert book_lines(rest_out) == book_lines(whole_out)[book_lines(whole_out).index(
        [line for line in book_lines(whole_out) if line.startswith("Epoch 1")][0]):]


def test_resume_refuses_changed_settings_and_a_checkpoint_of_train(mnist, tmp_path):
    from purenn import network
    from purenn.errors import TrainingInterrupted
    from purenn.training import checkpoint
    status, out, err = purenn_run(["train3", "--resume", "x.ckpt", "--eta", "0.5"], tmp_path)
    assert status == 2 and err.startswith("purenn train3: error: argument --eta: not allowed with --resume"), err
    net = network.Network([784, 5, 10], seed=1)
    with pytest.raises(TrainingInterrupted) as info:
        net.SGD(mnist[0][:20], 2, 10, 3.0, stop=lambda: True)
    checkpoint.save(str(tmp_path / "ch1.ckpt"), info.value.net, info.value.state)
    status, out, err = purenn_run(["train3", "--resume", "ch1.ckpt"], tmp_path)
    assert status == 2 and err == ("purenn: error: ch1.ckpt: a checkpoint of `purenn train`; resume it with "
                                   "python -m purenn train --resume\n"), err


def test_the_progress_line_is_wiped_before_the_books_lines_mid_epoch(tiny_mnist, monkeypatch, capsys):
    from purenn import cli

    class Terminal:
        """stderr and stdout as one terminal: what is written, in order."""
        written = []

        def __init__(self, name):
            self.name = name

        def write(self, text):
            Terminal.written.append((self.name, text))
            return len(text)

        def flush(self):
            pass

        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdout", Terminal("out"))
    monkeypatch.setattr(sys, "stderr", Terminal("err"))
    assert cli.main(["train3", "--layers", "fc:5; softmax", "--data", tiny_mnist, "--epochs", "1", "--seed", "1",
                     "--backend", FAST]) == 0
    written = Terminal.written
    first = [i for i, (name, text) in enumerate(written) if name == "out" and text.startswith("Training mini-batch")][0]
    drawn = [i for i, (name, text) in enumerate(written[:first]) if name == "err" and "epoch 0:" in text]
    assert drawn, written[:first]  # the progress line was drawn before the book's line ...
    wiped = [i for i, (name, text) in enumerate(written[:first]) if name == "err" and text.strip() == ""]
    assert wiped and wiped[-1] > drawn[-1]  # ... and wiped after it was last drawn


def test_the_chapter6_runs_build_the_books_layers():
    """The book's network3.py spells out each layer's n_in: 784, 20*12*12, 40*4*4, 1000."""
    from purenn.cli import layers, train3
    expected = {
        "fc100": [("FullyConnectedLayer", 784, 100), ("SoftmaxLayer", 100, 10)],
        "conv1": [("ConvPoolLayer", 784, 20 * 12 * 12), ("FullyConnectedLayer", 20 * 12 * 12, 100),
                  ("SoftmaxLayer", 100, 10)],
        "conv2": [("ConvPoolLayer", 784, 20 * 12 * 12), ("ConvPoolLayer", 20 * 12 * 12, 40 * 4 * 4),
                  ("FullyConnectedLayer", 40 * 4 * 4, 100), ("SoftmaxLayer", 100, 10)],
        "dropout": [("ConvPoolLayer", 784, 20 * 12 * 12), ("ConvPoolLayer", 20 * 12 * 12, 40 * 4 * 4),
                    ("FullyConnectedLayer", 40 * 4 * 4, 1000), ("FullyConnectedLayer", 1000, 1000),
                    ("SoftmaxLayer", 1000, 10)],
    }
    for name, shapes in expected.items():
        made = layers.build_layers(layers.parse_layers(train3.RUNS[name][0]), 10, (28, 28), 10)
        assert [(type(layer).__name__, layer.n_in, layer.n_out) for layer in made] == shapes, name
    dropout = layers.build_layers(layers.parse_layers(train3.RUNS["dropout"][0]), 10, (28, 28), 10)
    assert [layer.p_dropout for layer in dropout] == [0.0, 0.0, 0.5, 0.5, 0.5]
    assert [layer.activation_fn for layer in dropout[:4]] == [network3.ReLU] * 4
    assert [layer.filter_shape for layer in dropout[:2]] == [(20, 1, 5, 5), (40, 20, 5, 5)]
    assert train3.RUNS["conv2-relu"][1:5] == (60, 0.03, 0.1, False) and train3.RUNS["dropout"][1:5] == (
        40, 0.03, 0.0, True)


def test_an_expanded_run_trains_on_what_expand_wrote(tiny_mnist, tmp_path):
    status, out, err = purenn_run(["expand", "--data", tiny_mnist, "--out", "expanded", "--quiet"], tmp_path)
    assert status == 0, err
    status, out, err = purenn_run(["chapter6", "conv2-relu-expanded", "--expanded", "expanded", "--epochs", "1",
                                   "--train-limit", "30", "--seed", "1", "--backend", FAST, "--quiet",
                                   "--validation-size", "20"], tmp_path)
    assert status == 0, err
    assert "training on 30, validating on 20, testing on 40" in out and "data expanded" in out
    assert 'network3 "conv:20x5x5,pool:2x2,relu; conv:40x5x5,pool:2x2,relu; fc:100,relu; softmax:10"' in out
    assert "Epoch 0: validation accuracy" in out
