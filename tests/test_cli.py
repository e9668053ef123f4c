"""The command line, end to end: `python -m purenn train` on real digits,
its errors, its progress line."""

import io
import os
import re
import subprocess
import sys

import pytest

from purenn import backends, cli
from purenn.cli import options
from purenn.files.idx import write_idx
from purenn.training.progress import Progress


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory, mnist):
    """A directory in MNIST's format holding the first 600 training and 200 test digits."""
    directory = tmp_path_factory.mktemp("small-mnist")
    training, _, test = mnist
    train = [(x, y.index(1.0)) for x, y in training[:600]]
    for prefix, examples in (("train", train), ("t10k", test[:200])):
        n = len(examples)
        write_idx(str(directory / "{}-images-idx3-ubyte.gz".format(prefix)),
                  [int(p * 256) for x, _ in examples for p in x], (n, 28, 28))
        write_idx(str(directory / "{}-labels-idx1-ubyte.gz".format(prefix)), [y for _, y in examples], (n,))
    return str(directory)


def run_main(argv, capsys):
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def epoch_lines(out):
    """The epoch lines without the time they took, which varies."""
    return [line.split(", ")[0] for line in out.splitlines() if line.startswith("Epoch")]


def test_python_dash_m_purenn_trains_and_says_which_backend_runs(backend, tmp_path):
    argv = [sys.executable, "-m", "purenn", "train", "--epochs", "1", "--train-limit", "1000",
            "--test-limit", "300", "--seed", "1", "--backend", backend]
    done = subprocess.run(argv, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "backend {} (".format(backend) in done.stdout
    assert re.search(r"^Epoch 0: \d+ / 300, ", done.stdout, re.M)
    assert done.stderr == ""  # no progress line: stderr is not a terminal


@pytest.mark.exhaustive_on_reference
def test_the_same_seed_gives_the_same_epoch_lines(backend, small_mnist, capsys):
    argv = ["train", "--data", small_mnist, "--epochs", "2", "--seed", "7", "--backend", backend, "--quiet"]
    first = run_main(argv, capsys)
    second = run_main(argv, capsys)
    assert first[0] == second[0] == 0
    assert len(epoch_lines(first[1])) == 2
    assert epoch_lines(first[1]) == epoch_lines(second[1])
    assert "seed 7" in first[1]
    assert "training on 500, testing on 200" in first[1]  # 100 of the 600 kept for validation


def test_the_default_backend_comes_from_the_environment(monkeypatch, small_mnist, capsys):
    monkeypatch.setenv("PURENN_BACKEND", "python")
    status, out, _ = run_main(["train", "--data", small_mnist, "--epochs", "1", "--quiet",
                               "--train-limit", "50"], capsys)
    assert status == 0 and "backend python (" in out
    assert re.search(r"seed \d+", out)  # a random seed is chosen and printed


def test_asking_for_c_where_it_is_not_built_is_an_error(monkeypatch, small_mnist, capsys):
    monkeypatch.setattr(backends, "_c_backend", None)
    monkeypatch.setattr(backends, "_c_error", "No module named 'purenn.backends._core'")
    status, out, err = run_main(["train", "--data", small_mnist, "--backend", "c"], capsys)
    assert status == 2
    assert err.strip().splitlines() == [
        "purenn: error: backend: the C backend was asked for but is not built (No module named "
        "'purenn.backends._core'); reinstall purenn where a C compiler and cffi are available, or choose "
        "the python backend"]
    monkeypatch.setenv("PURENN_BACKEND", "c")
    status, _, err = run_main(["train", "--data", small_mnist], capsys)
    assert status == 2 and "PURENN_BACKEND: the C backend was asked for but is not built" in err


@pytest.mark.parametrize("args,message", [
    (["--sizes", "784"], "argument --sizes: '784' has 1 layer; give at least an input and an output layer"),
    (["--sizes", "784,x,10"], "argument --sizes: '784,x,10' is not a comma-separated list"),
    (["--sizes", "784,0,10"], "every layer needs at least one neuron"),
    (["--sizes", "100,30,10"], "the input layer has 100 neurons but the images in"),
    (["--sizes", "784,30,5"], "the output layer has 5 neurons, fewer than the 10 classes"),
    (["--epochs", "0"], "argument --epochs: 0 is not positive"),
    (["--batch-size", "-2"], "argument --batch-size: -2 is not positive"),
    (["--eta", "fast"], "argument --eta: 'fast' is not a number"),
    (["--eta", "0"], "argument --eta: 0 is not a positive finite number"),
    (["--eta", "inf"], "argument --eta: inf is not a positive finite number"),
    (["--backend", "gpu"], "argument --backend: 'gpu' is not a backend; choose auto, c, python or reference"),
    (["--seed", "-1"], "argument --seed: -1 is negative"),
    (["--checkpoint", "/nonexistent/dir/run.ckpt"], "argument --checkpoint: the directory /nonexistent/dir does not"),
    (["--checkpoint", "/"], "argument --checkpoint: / is a directory; give a file name"),
])
def test_bad_arguments_get_one_line_saying_what_to_do(args, message, small_mnist, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--data", small_mnist, "--quiet"] + args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert message in err.strip().splitlines()[-1]


def test_a_data_directory_that_is_not_there_is_named(tmp_path, capsys):
    status, _, err = run_main(["train", "--data", str(tmp_path / "nowhere")], capsys)
    assert status == 2
    assert err.strip() == ("purenn: error: {}: not a directory (the data directory: expected one holding the "
                           "MNIST files)".format(tmp_path / "nowhere"))


def test_a_data_directory_with_missing_files_is_named(tmp_path, capsys):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    status, _, err = run_main(["train", "--data", str(tmp_path)], capsys)
    assert status == 2
    assert err.strip() == ("purenn: error: {}: missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                           "t10k-labels-idx1-ubyte (each may also end in .gz)".format(tmp_path))


def test_a_damaged_data_file_is_one_line_not_a_traceback(tmp_path, small_mnist, capsys):
    for name in os.listdir(small_mnist):
        with open(os.path.join(small_mnist, name), "rb") as f:
            (tmp_path / name).write_bytes(f.read())
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    status, _, err = run_main(["train", "--data", str(tmp_path)], capsys)
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("purenn: error: {}".format(tmp_path / "t10k-labels-idx1-ubyte.gz"))


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    for option in ("--sizes", "--epochs", "--batch-size", "--eta", "--data", "--seed", "--train-limit",
                   "--test-limit", "--backend", "--quiet"):
        assert option in out
    assert "default 784,30,10" in out and "default 30" in out and "default 3.0" in out


def test_backends_command_lists_what_can_run(capsys):
    status, out, _ = run_main(["backends"], capsys)
    assert status == 0
    assert "python" in out and "auto = " in out


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_on_a_terminal_shows_rate_and_time_left():
    times = iter([0.0, 1.0, 2.0, 2.05, 3.0])
    stream = FakeTerminal()
    progress = Progress(stream, interval=0.1, clock=lambda: next(times))
    progress(0, 1000)      # t = 0: the epoch starts
    progress(200, 1000)    # t = 1: 200 examples/s, 4 s left
    progress(400, 1000)    # t = 2
    progress(450, 1000)    # t = 2.05: too soon to redraw
    progress(1000, 1000)   # t = 3: done, the line is wiped
    text = stream.getvalue()
    assert "epoch 0:  200 / 1000 ( 20%), 200 examples/s, 0:04 left" in text
    assert "epoch 0:  400 / 1000 ( 40%), 200 examples/s, 0:03 left" in text
    assert " 450 / 1000" not in text
    assert text.endswith("\r")
    assert progress.epoch == 1


def test_progress_is_silent_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress(stream)
    progress(0, 10)
    progress(5, 10)
    progress(10, 10)
    assert stream.getvalue() == ""


def test_bench_times_every_backend_and_prints_a_table(small_mnist, capsys):
    status, out, _ = run_main(["bench", "--data", small_mnist, "--train-limit", "300", "--test-limit", "100",
                               "--epochs", "2"], capsys)
    assert status == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("backend"))
    names = [line.split()[0] for line in lines[header + 1:] if line and not line.startswith(("c is", "s/epoch"))]
    assert set(backends.available_backends()) - {"reference"} == set(names) - {"numpy"}
    assert "300 training and 100 test images, 2 epoch(s)" in out
    if "numpy" in names:
        assert re.search(r"\d+\.\dx (faster|slower), \d+\.\dx (faster|slower)", out)


def test_bench_refuses_an_unbuilt_backend(monkeypatch, small_mnist, capsys):
    monkeypatch.setattr(backends, "_c_backend", None)
    monkeypatch.setattr(backends, "_c_error", "not built here")
    status, _, err = run_main(["bench", "--data", small_mnist, "--backends", "c"], capsys)
    assert status == 2 and "the C backend was asked for but is not built (not built here)" in err


def test_bench_copes_with_no_test_images(tmp_path, capsys):
    for prefix, n in (("train", 30), ("t10k", 0)):
        write_idx(str(tmp_path / "{}-images-idx3-ubyte".format(prefix)), [(i * 37) % 256 for i in range(4 * n)],
                  (n, 2, 2))
        write_idx(str(tmp_path / "{}-labels-idx1-ubyte".format(prefix)), [i % 10 for i in range(n)], (n,))
    status, out, err = run_main(["bench", "--data", str(tmp_path), "--sizes", "4,3,10", "--no-numpy"], capsys)
    assert status == 0, err
    assert "25 training and 0 test images" in out


@pytest.mark.exhaustive_on_reference
def test_chapter3_options_train_network2_with_a_table_save_plot_and_evaluate(backend, small_mnist, tmp_path,
                                                                            capsys):
    import xml.etree.ElementTree as ET
    model, chart = tmp_path / "net.json", tmp_path / "curves.svg"
    status, out, err = run_main(
        ["train", "--data", small_mnist, "--sizes", "784,20,10", "--cost", "cross-entropy", "--eta", "0.5",
         "--lmbda", "1", "--epochs", "3", "--monitor", "--seed", "2", "--backend", backend, "--quiet",
         "--save", str(model), "--plot", str(chart)], capsys)
    assert status == 0, err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["epoch", "eta"])
    assert lines[header].split() == ["epoch", "eta", "train", "cost", "train", "acc", "test", "cost", "test",
                                     "acc", "s"]
    assert [line.split()[0] for line in lines[header + 1:header + 4]] == ["0", "1", "2"]
    assert "best test accuracy:" in out and "saved the network to" in out
    root = ET.parse(str(chart)).getroot()
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    assert "Cost per epoch" in texts and "Accuracy per epoch" in texts and "evaluation data" in texts
    status, out, _ = run_main(["evaluate", str(model), "--data", small_mnist, "--backend", backend], capsys)
    assert status == 0
    assert re.search(r"^test +\d+ / 200 \(\d+\.\d\d%\)$", out, re.M)
    assert re.search(r"^validation +\d+ / 100 ", out, re.M)


def test_the_chapter1_network_can_be_saved_and_evaluated(small_mnist, tmp_path, capsys):
    model = tmp_path / "ch1.json"
    status, out, _ = run_main(["train", "--data", small_mnist, "--epochs", "1", "--seed", "3", "--quiet",
                               "--save", str(model)], capsys)
    assert status == 0 and "the chapter-1 network" in out
    correct = int(re.search(r"^Epoch 0: (\d+) / 200", out, re.M).group(1))
    status, out, _ = run_main(["evaluate", str(model), "--data", small_mnist], capsys)
    assert re.search(r"^test +{} / 200".format(correct), out, re.M)


def test_early_stopping_and_schedule_from_the_command_line(small_mnist, capsys):
    status, out, _ = run_main(["train", "--data", small_mnist, "--sizes", "784,10,10", "--eta", "0.05",
                               "--epochs", "100", "--early-stopping", "2", "--seed", "1", "--quiet",
                               "--validation"], capsys)
    assert status == 0 and "early stopping" in out and "best validation accuracy" in out


@pytest.mark.parametrize("args,message", [
    (["--cost", "hinge"], "argument --cost: invalid choice: 'hinge'"),
    (["--dropout", "1"], "argument --dropout: 1 is not below 1"),
    (["--lmbda", "-1"], "argument --lmbda: -1 is not a finite number of 0 or more"),
    (["--save", "/nonexistent/dir/x.json"], "argument --save: the directory /nonexistent/dir does not exist"),
])
def test_bad_chapter3_arguments(args, message, small_mnist, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--data", small_mnist, "--quiet"] + args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_evaluate_refuses_a_bad_model_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    status, _, err = run_main(["evaluate", str(bad)], capsys)
    assert status == 2 and err.strip() == "purenn: error: {}: missing the key 'sizes'".format(bad)


@pytest.mark.parametrize("sizes, message", [([100, 5, 10], "the network takes 100 inputs"),
                                            ([784, 5, 3], "has 3 outputs")])
@pytest.mark.parametrize("command", [["evaluate", "{model}"], ["predict", "{model}", "digit.png"],
                                     ["show", "--model", "{model}"], ["misclassified", "{model}", "--out", "x.png"]])
def test_a_model_that_cannot_read_digits_is_refused_naming_the_file(command, sizes, message, tmp_path, capsys):
    from purenn import network2
    model = tmp_path / "model.json"
    network2.Network(sizes, seed=1).save(model)
    status, out, err = run_main([part.format(model=model) for part in command], capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith("purenn: error: {}: ".format(model)) and message in err
    assert not (tmp_path / "x.png").exists()


def test_sizes_too_big_for_the_memory_are_refused_before_allocating(small_mnist, monkeypatch, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--data", small_mnist, "--sizes", "784,1000000000000,10"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "argument --sizes: 795,000,000,000,010 weights and biases need about" in err
    assert "GB of memory available; give smaller layers" in err
    monkeypatch.setattr(options, "_available_memory", lambda: 1000000)
    for command in (["train", "--data", small_mnist], ["bench", "--data", small_mnist, "--no-numpy"]):
        with pytest.raises(SystemExit):
            cli.main(command + ["--sizes", "784,100,10"])
        assert "79,510 weights and biases need about 0.0 GB, more than the 0.0 GB" in capsys.readouterr().err


def test_show_and_misclassified_see_what_the_reference_sees_on_every_backend(backend, small_mnist, mnist, tmp_path,
                                                                             capsys):
    from purenn import mnist_loader, network2
    training, _, _ = mnist
    net = network2.Network([784, 20, 10], seed=2, backend="python")
    net.SGD(training[:300], 1, 10, 0.5, verbose=False)
    model = tmp_path / "model.json"
    net.save(model)
    test = mnist_loader.load_data_wrapper(small_mnist)[2]
    wrong = len(test) - network2.load(model, backend="reference").accuracy(test)
    outputs = {}
    for name in ("reference", backend):
        status, out, err = run_main(["misclassified", str(model), "--data", small_mnist, "--backend", name,
                                     "--out", str(tmp_path / (name + ".png"))], capsys)
        assert status == 0, err
        assert out.startswith("{} of {} test images are misclassified".format(wrong, len(test)))
        status, shown, err = run_main(["show", "--model", str(model), "--data", small_mnist, "--count", "40",
                                       "--backend", name], capsys)
        assert status == 0 and shown.count("the network says") == 40, err
        outputs[name] = ((tmp_path / (name + ".png")).read_bytes(), shown)
    assert 0 < wrong < len(test) and outputs[backend] == outputs["reference"]


def test_commands_without_epochs_say_what_their_progress_is(small_mnist, tmp_path, monkeypatch):
    """misclassified and baseline svm used to sit silent; expand's line said 'epoch 0:'."""
    from purenn import network2 as n2
    model = tmp_path / "net.json"
    n2.Network([784, 10, 10], seed=1).save(model)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["misclassified", str(model), "--out", str(tmp_path / "wrong.png")]) == 0
    assert "classifying:  1000 / 10000 ( 10%)" in terminal.getvalue()
    assert cli.main(["baseline", "svm", "--data", small_mnist, "--features", "50", "--train-limit", "30",
                     "--test-limit", "20", "--epochs", "2", "--backend", "python"]) == 0
    assert "features:  1 / 30" in terminal.getvalue() and "testing:  1 / 20" in terminal.getvalue()
    times = iter([0.0, 1.0])
    expanding = Progress(terminal, clock=lambda: next(times), what="expanding", unit="images")
    expanding(0, 100)
    expanding(10, 100)
    assert "expanding:  10 / 100 ( 10%), 10 images/s, 0:09 left" in terminal.getvalue()
    assert "epoch 0:" not in terminal.getvalue()
