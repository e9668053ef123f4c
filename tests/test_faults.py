"""Operating-system faults are bad input too: one line that names the file and
what is wrong, exit status 2, no traceback -- and no finished work lost.
Each case runs `python -m purenn` as a real process."""

import os
import subprocess
import sys

import pytest

from purenn import network2
from purenn.files.pictures import write_png

QUICK_TRAIN = ["train", "--epochs", "2", "--train-limit", "2000", "--test-limit", "200", "--seed", "1", "--quiet"]


def purenn(args, cwd, **kwargs):
    return subprocess.run([sys.executable, "-m", "purenn"] + args, cwd=str(cwd), stdout=kwargs.pop("stdout", subprocess.PIPE),
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300, **kwargs)


def one_line(stderr):
    assert "Traceback" not in stderr, stderr
    assert stderr.count("\n") == 1, stderr
    return stderr.strip()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "net.json"
    network2.Network([784, 10, 10], seed=1).save(path)
    return path


def test_a_closed_pipe_on_stdout_still_trains_and_saves(tmp_path):
    save = tmp_path / "net.json"
    process = subprocess.Popen([sys.executable, "-m", "purenn"] + QUICK_TRAIN + ["--backend", "python", "--save",
                                                                                 str(save)],
                               cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True)
    assert process.stdout.readline().startswith("purenn ")
    process.stdout.close()  # as `| head -1` does
    _, err = process.communicate(timeout=300)
    assert process.returncode == 2
    assert one_line(err) == ("purenn: error: standard output: Broken pipe; what was left to print was dropped "
                             "(every file was written)")
    assert network2.load(save).sizes == [784, 30, 10]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_disk_on_stdout_still_trains_and_saves(tmp_path):
    save = tmp_path / "net.json"
    with open("/dev/full", "w") as full:
        done = purenn(QUICK_TRAIN + ["--save", str(save)], tmp_path, stdout=full)
    assert done.returncode == 2
    assert "standard output: No space left on device" in one_line(done.stderr)
    assert network2.load(save).sizes == [784, 30, 10]


@pytest.mark.parametrize("where, message", [("missing/wrong.png", "No such file or directory"),
                                            ("a-directory", "is a directory; give a file name")])
def test_misclassified_into_a_place_it_cannot_write_is_one_line(model, tmp_path, where, message):
    (tmp_path / "a-directory").mkdir()
    done = purenn(["misclassified", str(model), "--out", where], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == "purenn: error: {}: {}".format(where, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-directory"]


def test_predict_saving_its_input_into_a_missing_directory_is_one_line(model, tmp_path):
    write_png(tmp_path / "digit.png", 28, 28, bytes(28 * 28))
    done = purenn(["predict", str(model), "digit.png", "--save-input", "missing/seen.png"], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == "purenn: error: missing/seen.png: No such file or directory"


def test_a_pgm_with_a_5000_digit_number_is_one_line(model, tmp_path):
    (tmp_path / "huge.pgm").write_bytes(b"P2\n" + b"9" * 5000 + b" 2\n255\n0 0\n")
    done = purenn(["predict", str(model), "huge.pgm"], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == "purenn: error: huge.pgm: PGM/PBM has a number of 5000 digits, far larger than " \
                                    "any picture's"


def test_saving_onto_a_directory_names_it_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "models"
    target.mkdir()
    with pytest.raises(OSError, match="is a directory; give a file name") as caught:
        network2.Network([2, 2], seed=0).save(target)
    assert caught.value.filename == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"] and list(target.iterdir()) == []


def test_show_past_the_last_test_image_is_one_line(tmp_path):
    done = purenn(["show", "--start", "10000"], tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert one_line(done.stderr) == ("purenn: error: argument --start: 10000 is past the last of the 10000 test "
                                     "images (give 0 to 9999)")


@pytest.mark.parametrize("name", ["lmbda", "l1"])
def test_negative_regularisation_is_refused_in_python_too(name):
    from purenn.errors import ArgumentError
    net = network2.Network([2, 2], seed=0)
    with pytest.raises(ArgumentError, match="{}: -0.5 is negative; regularisation takes 0 or more".format(name)):
        net.SGD([([0.0, 1.0], [1.0, 0.0])], 1, 1, 0.5, **{name: -0.5})


@pytest.mark.parametrize("args, line", [
    (["train", "--eta", "-1"], "purenn train: error: argument --eta: -1 is not a positive finite number "
                               "(see purenn train --help)"),
    (["trian"], "purenn: error: argument COMMAND: invalid choice: 'trian' (choose from 'train', 'train3', "
                "'chapter6', 'ensemble', 'evaluate', 'baseline', 'expand', 'predict', 'show', 'misclassified', "
                "'backends', 'bench', 'bench3', 'run', 'path', 'explain', 'serve', 'figure', 'export') (see purenn --help)"),
])
def test_a_bad_option_is_one_line_without_the_usage_block(args, line, tmp_path):
    done = purenn(args, tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert one_line(done.stderr) == line


#### A long run: periodic checkpoints, a closed terminal, two runs side by side

def start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "purenn"] + args, cwd=str(cwd), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)


def wait_for_line(process, beginning):
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(beginning):
            return lines
    raise AssertionError("no line began with {!r}: {}".format(beginning, "".join(lines)))


LONG_RUN = ["train", "--epochs", "6", "--train-limit", "1500", "--test-limit", "100", "--seed", "2", "--quiet",
            "--backend", "python", "--sizes", "784,20,10"]


def test_a_run_killed_outright_resumes_from_its_periodic_checkpoint_bit_for_bit(tmp_path):
    whole = purenn(LONG_RUN + ["--save", "whole.json", "--checkpoint-every", "0"], tmp_path)
    assert whole.returncode == 0, whole.stderr
    assert not (tmp_path / "purenn-checkpoint.json").exists()
    process = start(LONG_RUN + ["--save", "killed.json", "--checkpoint-every", "0.000001"], tmp_path)
    wait_for_line(process, "Epoch 2:")  # the checkpoint before epoch 2 is written by now
    process.kill()  # SIGKILL, a power cut: no handler runs
    _, err = process.communicate(timeout=60)
    assert "a checkpoint every 1e-06 minutes to purenn-checkpoint.json" in err
    saved = checkpoint_state(tmp_path / "purenn-checkpoint.json")
    assert saved["done"] == 0 and saved["epoch"] >= 2
    done = purenn(["train", "--resume", "purenn-checkpoint.json", "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "killed.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    assert "removed its checkpoint purenn-checkpoint.json" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["killed.json", "whole.json"]


def checkpoint_state(path):
    from purenn.training import checkpoint
    return checkpoint.load(path).state


def test_two_runs_stopped_in_one_directory_keep_a_checkpoint_each(tmp_path):
    import signal
    outputs = []
    for seed in ("2", "3"):
        args = [a if a != "2" else seed for a in LONG_RUN]
        process = start(args + ["--save", "net{}.json".format(seed)], tmp_path)
        wait_for_line(process, "Epoch 0:")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 130, err
        outputs.append(out)
    assert "saved a checkpoint to purenn-checkpoint.json" in outputs[0]
    assert "saved a checkpoint to purenn-checkpoint-2.json" in outputs[1]
    for name, seed in (("purenn-checkpoint.json", "2"), ("purenn-checkpoint-2.json", "3")):
        done = purenn(["train", "--resume", name, "--quiet", "--backend", "c" if core_built() else "python"],
                      tmp_path)
        assert done.returncode == 0, done.stderr
        assert "seed {}".format(seed) in done.stdout and not (tmp_path / name).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net2.json", "net3.json"]


def core_built():
    from purenn.backends import core_status
    return core_status()[0]


#### The files of a finished run

def test_a_save_whose_directory_went_away_during_training_is_kept_elsewhere(tmp_path):
    (tmp_path / "models").mkdir()
    process = start(LONG_RUN + ["--save", "models/net.json", "--plot", "models/curves.svg"], tmp_path)
    wait_for_line(process, "Epoch 0:")
    (tmp_path / "models").rmdir()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 2 and "Traceback" not in err
    assert one_line(err) == (
        "purenn: error: models/net.json: No such file or directory; saved the trained network to {} "
        "instead; models/curves.svg: No such file or directory".format(tmp_path / "purenn-unsaved-network.json"))
    assert network2.load(tmp_path / "purenn-unsaved-network.json").sizes == [784, 20, 10]


def test_a_chart_that_cannot_be_drawn_does_not_lose_the_save(tmp_path):
    (tmp_path / "charts").mkdir()
    process = start(LONG_RUN + ["--save", "net.json", "--plot", "charts/curves.svg"], tmp_path)
    wait_for_line(process, "Epoch 0:")
    (tmp_path / "charts").rmdir()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 2
    assert one_line(err) == "purenn: error: charts/curves.svg: No such file or directory"
    assert "saved the network to net.json" in out and network2.load(tmp_path / "net.json").sizes == [784, 20, 10]


def test_plot_and_validation_keep_the_chapter1_network(tmp_path):
    done = purenn(QUICK_TRAIN + ["--plot", "run.svg", "--validation"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the chapter-1 network [784, 30, 10]" in done.stdout and "validating on 200" in done.stdout
    assert "(the chapter-1 network)" in (tmp_path / "run.svg").read_text()


def test_a_chart_named_png_is_refused(tmp_path):
    done = purenn(QUICK_TRAIN + ["--plot", "run.png"], tmp_path)
    assert done.returncode == 2 and not list(tmp_path.iterdir())
    assert one_line(done.stderr) == ("purenn train: error: argument --plot: run.png: the chart is drawn as SVG; "
                                     "give a name ending in .svg (see purenn train --help)")


#### Ctrl-C while the command line starts

STARTING = """
import os, runpy, signal, sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {target!r}:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, while that module is being imported
        return None
sys.meta_path.insert(0, Interrupt())
sys.argv = {argv!r}
runpy.run_module("purenn", run_name="__main__", alter_sys=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("target, argv", [("purenn.cli.options", ["-m", "train"]),  # purenn/__main__.py
                                          ("purenn.backends", ["-m", "train"])])  # purenn/__init__.py
def test_ctrl_c_while_the_command_line_starts_is_one_line(target, argv, tmp_path):
    done = subprocess.run([sys.executable, "-c", STARTING.format(target=target, argv=argv)], cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert done.returncode == 130 and done.stdout == ""
    assert done.stderr == "\npurenn: interrupted\n"


def test_eta_minus_infinity_is_a_value_the_option_refuses(tmp_path):
    done = purenn(["train", "--eta", "-inf"], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == ("purenn train: error: argument --eta: -inf is not a positive finite number "
                                     "(see purenn train --help)")


def test_a_huge_lmbda_is_named_when_training_diverges(tmp_path):
    done = purenn(QUICK_TRAIN + ["--lmbda", "1e6"], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == ("purenn: error: training diverged in epoch 0: the weights became NaN or "
                                     "infinite; try a smaller lmbda than 1000000.0: each step multiplies the "
                                     "weights by 1 - eta*lmbda/n = -1.5e+03")


def test_more_layers_than_the_c_core_takes_run_in_python_under_auto(tmp_path):
    sizes = "784," + ",".join(["10"] * 70) + ",10"
    done = purenn(["train", "--sizes", sizes, "--epochs", "1", "--train-limit", "100", "--test-limit", "50",
                   "--backend", "auto", "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "backend python" in done.stdout.splitlines()[0]
    if core_built():
        done = purenn(["train", "--sizes", sizes, "--backend", "c"], tmp_path)
        assert done.returncode == 2
        assert one_line(done.stderr) == ("purenn train: error: argument --backend: the C core takes networks of at "
                                         "most 64 layers, not 72; choose python (or auto) (see purenn train --help)")


def test_the_memory_estimate_covers_what_training_was_measured_to_take(monkeypatch, capsys):
    """784,30000,10 was measured at 2.09 GB; with 2.5 GB free it used to be let through (0.76 GB estimated)."""
    from purenn import cli
    from purenn.cli import options
    monkeypatch.setattr(options, "_available_memory", lambda: 2.5e9)
    with pytest.raises(SystemExit) as caught:
        cli.main(["train", "--sizes", "784,30000,10"])
    assert caught.value.code == 2
    assert "23,850,010 weights and biases need about 3.1 GB" in capsys.readouterr().err


def test_baseline_svm_checks_its_memory_before_it_starts(tmp_path):
    done = purenn(["baseline", "svm", "--features", str(10 ** 9)], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("purenn baseline: error: argument --features: 1,000,000,000 random "
                                            "Fourier features need about ")


#### Data directories that say two things

def small_data(directory, n_train=60, n_test=20):
    """The first images of the bundled MNIST, in MNIST's four files (.gz)."""
    from purenn import mnist_loader
    from purenn.files.idx import write_idx
    directory.mkdir()
    training, _, test = mnist_loader.load_data_wrapper()
    train = [(x, y.index(1.0)) for x, y in training[:n_train]]
    for prefix, examples in (("train", train), ("t10k", test[:n_test])):
        write_idx(str(directory / "{}-images-idx3-ubyte.gz".format(prefix)),
                  [int(p * 256) for x, _ in examples for p in x], (len(examples), 28, 28))
        write_idx(str(directory / "{}-labels-idx1-ubyte.gz".format(prefix)), [y for _, y in examples],
                  (len(examples),))
    return directory


def test_a_directory_with_both_a_file_and_its_gz_is_refused(tmp_path):
    import gzip
    data = small_data(tmp_path / "data")
    name = "train-images-idx3-ubyte"
    (data / name).write_bytes(gzip.decompress((data / (name + ".gz")).read_bytes()))
    done = purenn(["train", "--data", "data", "--validation-size", "10"], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == ("purenn: error: data: holds both {0} and {0}.gz; remove or rename the one "
                                     "not meant".format(name))


def test_expand_refuses_a_directory_whose_old_plain_files_would_shadow_its_output(tmp_path):
    import gzip
    data = small_data(tmp_path / "data")
    out = tmp_path / "out"
    out.mkdir()
    name = "train-labels-idx1-ubyte"
    (out / name).write_bytes(gzip.decompress((data / (name + ".gz")).read_bytes()))
    done = purenn(["expand", "--data", "data", "--out", "out", "--quiet"], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == ("purenn: error: out_dir: out holds {0}, which the loader would find beside "
                                     "the {0}.gz written; remove it or choose another directory".format(name))
    assert sorted(p.name for p in out.iterdir()) == [name]


def test_expand_through_a_link_to_the_data_directory_is_refused(tmp_path):
    data = small_data(tmp_path / "data")
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    (tmp_path / "link").symlink_to(data, target_is_directory=True)
    done = purenn(["expand", "--data", "data", "--out", "link", "--quiet"], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == ("purenn: error: out_dir: link is the data directory data itself; choose "
                                     "another")
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before


def test_a_network_with_more_outputs_than_digits_predicts_a_digit(tmp_path):
    net = network2.Network([784, 10, 20], seed=1)
    net.biases[-1] = [-5.0] * 10 + [5.0] * 10  # outputs 10..19 (not digits) far the largest
    net.save(tmp_path / "net.json")
    write_png(tmp_path / "digit.png", 28, 28, bytes(28 * 28))
    done = purenn(["predict", "net.json", "digit.png"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert int(lines[0].split(": ")[1].split()[0]) < 10
    assert lines[1].count(":") == 11 and lines[1].split()[-1].startswith("9:")
    assert lines[2].startswith("  (outputs 10 to 19 are not digits and are not read; the largest of them is 0.99")


#### A full disk (a small tmpfs, where this machine lets the tests mount one)

@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)])


def test_expand_onto_a_full_disk_is_one_line_and_leaves_nothing(small_disk, tmp_path):
    data = small_data(tmp_path / "data", n_train=3000)
    done = purenn(["expand", "--data", "data", "--out", str(small_disk / "expanded"), "--quiet"], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr).endswith(": No space left on device")
    assert str(small_disk / "expanded") in done.stderr
    assert list((small_disk / "expanded").iterdir()) == [] and data.exists()


def test_a_save_onto_a_full_disk_is_kept_here_instead(small_disk, tmp_path):
    (small_disk / "filler").write_bytes(bytes(1024 * 1024 - 8192))
    done = purenn(QUICK_TRAIN + ["--save", str(small_disk / "net.json")], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == ("purenn: error: {}: No space left on device; saved the trained network to {} "
                                     "instead".format(small_disk / "net.json", tmp_path / "purenn-unsaved-network.json"))
    assert network2.load(tmp_path / "purenn-unsaved-network.json").sizes == [784, 30, 10]
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_expand_into_a_file_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("")
    done = purenn(["expand", "--out", "afile", "--quiet"], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == "purenn: error: out_dir: afile is a file, not a directory"


@pytest.mark.parametrize("room, line", [(40, "{}/board/model.bin: No space left on device"),
                                         (104, "{}/board/purenn_micro.py: No space left on device")])
def test_export_onto_a_full_disk_is_one_line_and_leaves_nothing(small_disk, tmp_path, room, line):
    network2.Network([784, 30, 10], seed=1).save(tmp_path / "net.json")  # model.bin: 95,462 bytes
    (small_disk / "filler").write_bytes(bytes(1024 * 1024 - 1024 * room))
    done = purenn(["export", "net.json", "--micro", str(small_disk / "board")], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == "purenn: error: " + line.format(small_disk)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_read_only_disk_is_one_line_for_every_file_a_command_writes(small_disk, model, tmp_path):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    write_png(tmp_path / "digit.png", 28, 28, bytes(28 * 28))
    cases = [(["misclassified", str(model), "--out", str(small_disk / "wrong.png")], small_disk / "wrong.png"),
             (["predict", str(model), "digit.png", "--save-input", str(small_disk / "seen.png")],
              small_disk / "seen.png"),
             (["expand", "--out", str(small_disk / "expanded"), "--quiet"], small_disk / "expanded")]
    for args, target in cases:
        done = purenn(args, tmp_path)
        assert done.returncode == 2, args
        assert one_line(done.stderr) == "purenn: error: {}: Read-only file system".format(target)
    done = purenn(QUICK_TRAIN + ["--save", str(small_disk / "net.json")], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == ("purenn train: error: argument --save: cannot write in {} (see purenn train "
                                     "--help)".format(small_disk))
    done = purenn(["export", str(model), "--micro", str(small_disk / "board")], tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == ("purenn export: error: argument --micro: cannot write in {} (see purenn export "
                                     "--help)".format(small_disk))
    with pytest.raises(OSError, match="Read-only file system") as caught:
        network2.Network([2, 2], seed=0).save(small_disk / "net.json")
    assert caught.value.filename == str(small_disk / "net.json")
    assert list(small_disk.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX terminal")
def test_misclassified_shows_its_progress_on_a_terminal(model, tmp_path):
    import pty
    leader, follower = pty.openpty()
    with os.fdopen(leader, "rb", buffering=0) as terminal:
        process = subprocess.Popen([sys.executable, "-m", "purenn", "misclassified", str(model), "--out", "w.png"],
                                   cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=follower)
        os.close(follower)
        seen = b""
        while True:
            try:
                piece = terminal.read(4096)
            except OSError:  # the process has closed the terminal
                break
            if not piece:
                break
            seen += piece
        process.communicate(timeout=300)
    assert process.returncode == 0
    assert b"classifying:  1000 / 10000 ( 10%)" in seen and b"images/s" in seen


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX terminal")
@pytest.mark.parametrize("quiet", [[], ["--quiet"]], ids=["progress", "quiet"])
def test_a_terminal_that_hangs_up_stops_the_run_with_a_checkpoint(quiet, tmp_path):
    """The terminal closed (the kernel sends SIGHUP, and writes to it fail with EIO):
    the checkpoint is written all the same, and the status is 129."""
    import pty
    import time
    pid, terminal = pty.fork()
    if pid == 0:  # the child: `purenn train` with the pty as its terminal
        try:
            os.chdir(str(tmp_path))
            os.execv(sys.executable, [sys.executable, "-m", "purenn", "train", "--epochs", "30", "--train-limit",
                                      "20000", "--test-limit", "100", "--seed", "1", "--backend", "python"] + quiet)
        finally:
            os._exit(99)
    seen = b""
    while b"Epoch 0:" not in seen:
        seen += os.read(terminal, 4096)
    time.sleep(0.3)  # into the next epoch
    os.close(terminal)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 129, status
    from purenn.training import checkpoint
    assert checkpoint.load(tmp_path / "purenn-checkpoint.json").state["epoch"] >= 1


def test_save_onto_the_runs_own_checkpoint_is_refused(tmp_path):
    done = purenn(QUICK_TRAIN + ["--checkpoint", "run.json", "--save", "run.json"], tmp_path)
    assert done.returncode == 2 and not list(tmp_path.iterdir())
    assert one_line(done.stderr) == ("purenn train: error: argument --save: run.json is the run's checkpoint; give "
                                     "another file (see purenn train --help)")


def test_a_periodic_checkpoint_that_fails_later_is_said(tmp_path, monkeypatch, capsys):
    from purenn.cli import checkpoints
    from purenn.training import checkpoint
    net = network2.Network([2, 2], seed=0)
    calls = []

    def save(path, *args):
        calls.append(path)
        if len(calls) in (2, 3):  # the second and third checkpoints (the fallback directory is missing)
            raise OSError(28, "No space left on device", path)
        (tmp_path / "written").write_text(str(len(calls)))
    monkeypatch.setattr(checkpoint, "save", save)
    monkeypatch.setattr(checkpoints.tempfile, "gettempdir", lambda: str(tmp_path / "missing"))
    keeper = checkpoints.RunCheckpoint(str(tmp_path / "run.json"), 1e-9, lambda: {})
    snapshot = lambda: type("Stopped", (), {"net": net, "state": {}})()  # noqa: E731
    for _ in range(4):
        keeper(snapshot)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "purenn: a checkpoint every 1e-09 minutes to {} (resume with --resume)".format(
        tmp_path / "run.json")
    assert err[1].startswith("purenn: warning: cannot write the checkpoint to {} (No space left on device) nor to "
                             "the temporary directory".format(tmp_path / "run.json"))
    assert err[1].endswith("; training goes on")
    assert err[2] == ("purenn: the checkpoint can be written again: every 1e-09 minutes to {} (resume with "
                      "--resume)".format(tmp_path / "run.json"))
    assert len(err) == 3


def test_a_new_checkpoint_name_never_holds_part_of_a_file(tmp_path):
    """It is written whole under a temporary name, then linked to the free name: a run killed
    while writing its first checkpoint leaves no empty or half purenn-checkpoint.json."""
    from purenn.cli.checkpoints import write_new

    def half(path):
        with open(path, "w") as f:
            f.write("{\"half\": ")
        raise KeyboardInterrupt  # as a kill would stop it here
    with pytest.raises(KeyboardInterrupt):
        write_new(str(tmp_path / "purenn-checkpoint.json"), half)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "purenn-checkpoint.json").write_text("another run's")

    def mine(path):
        with open(path, "w") as f:
            f.write("mine")
    name = write_new(str(tmp_path / "purenn-checkpoint.json"), mine)
    assert name == str(tmp_path / "purenn-checkpoint-2.json")
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["another run's", "mine"]


@pytest.mark.parametrize("option, value", [("--eta", "-1e5"), ("--lmbda", "-1e-3"), ("--eta", "-nan")])
def test_a_negative_number_in_any_form_is_a_value_the_option_refuses(option, value, tmp_path):
    done = purenn(["train", option, value], tmp_path)
    assert done.returncode == 2
    assert "argument {}: {} is not a".format(option, value) in one_line(done.stderr)


@pytest.mark.parametrize("name", ["progress", "stop", "checkpoint", "on_epoch"])
def test_a_hook_that_is_not_callable_is_refused_before_training(name):
    from purenn.errors import ArgumentError
    net = network2.Network([2, 2], seed=0)
    with pytest.raises(ArgumentError, match="{}: 'x' is not callable".format(name)):
        net.SGD([([0.0, 1.0], [1.0, 0.0])], 1, 1, 0.5, **{name: "x"})


#### Words

def test_the_words_of_help_summary_and_table(tmp_path):
    helped = purenn(["train", "--help"], tmp_path)
    assert "about 95% accuracy" in " ".join(helped.stdout.split()) and "%%" not in helped.stdout
    one = purenn(["train", "--epochs", "1", "--train-limit", "500", "--test-limit", "100", "--seed", "1", "--quiet"],
                 tmp_path)
    assert one.returncode == 0 and " s for 1 epoch\n" in one.stdout and "1 epochs" not in one.stdout
    table = purenn(["train", "--epochs", "1", "--train-limit", "500", "--test-limit", "100", "--seed", "1",
                    "--quiet", "--cost", "cross-entropy", "--validation", "--monitor-evaluation-cost",
                    "--monitor-evaluation-accuracy"], tmp_path)
    assert table.returncode == 0, table.stderr
    header = [line for line in table.stdout.splitlines() if line.lstrip().startswith("epoch ")][0]
    assert header.split() == ["epoch", "eta", "valid", "cost", "valid", "acc", "s"]
