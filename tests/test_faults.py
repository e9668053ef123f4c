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
    (["trian"], "purenn: error: argument COMMAND: invalid choice: 'trian' (choose from 'train', 'evaluate', "
                "'baseline', 'expand', 'predict', 'show', 'misclassified', 'backends', 'bench') (see purenn --help)"),
])
def test_a_bad_option_is_one_line_without_the_usage_block(args, line, tmp_path):
    done = purenn(args, tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert one_line(done.stderr) == line
