"""The book's companion programs: the average-darkness baseline and the expanded training set."""

import os

import pytest

from purenn import cli, mnist_loader
from purenn.expand_mnist import SHIFTS, expand, shift, shifts
from purenn.files.idx import read_idx, write_idx
from purenn.mnist_average_darkness import avg_darknesses, darkness, guess_digit, run


def test_average_darkness_gets_exactly_the_books_2225(capsys):
    assert run() == (2225, 10000)
    assert capsys.readouterr().out.splitlines() == [
        "Baseline classifier using average darkness of image.", "2225 of 10000 values correct."]


def test_average_darkness_by_hand():
    images = [mnist_loader.Image(bytes(p)) for p in ([10, 0], [20, 0], [200, 55], [1, 1])]
    avgs = avg_darknesses((images, [3, 3, 8, 0]))
    assert avgs == {3: 15.0, 8: 255.0, 0: 2.0}
    assert darkness([0.5, 0.25]) == 192  # floats byte/256 count as their bytes
    assert guess_digit(mnist_loader.Image(bytes([100, 100])), avgs) == 8
    assert guess_digit(mnist_loader.Image(bytes([8, 0])), avgs) == 0  # 8 is 6 from 2, 7 from 15


def test_the_command_line_baseline(capsys):
    assert cli.main(["baseline", "darkness"]) == 0
    assert "2225 of 10000 values correct." in capsys.readouterr().out


def test_shifts_of_a_small_image_by_hand():
    image = bytes([1, 2, 3,
                   4, 5, 6,
                   7, 8, 9])
    down, up, right, left = (shift(image, 3, 3, i) for i in range(1, 5))
    assert SHIFTS == ("unchanged", "down", "up", "right", "left")
    assert down == bytes([0, 0, 0, 1, 2, 3, 4, 5, 6])
    assert up == bytes([4, 5, 6, 7, 8, 9, 0, 0, 0])
    assert right == bytes([0, 1, 2, 0, 4, 5, 0, 7, 8])
    assert left == bytes([2, 3, 0, 5, 6, 0, 8, 9, 0])
    assert shifts(image, 3, 3) == [image, down, up, right, left]


@pytest.fixture
def small_set(tmp_path):
    """12 training images (the last 2 for validation) and 3 test images of 3x3 pixels."""
    source = tmp_path / "source"
    source.mkdir()
    train = [bytes([(7 * i + k) % 256 for k in range(9)]) for i in range(12)]
    write_idx(str(source / "train-images-idx3-ubyte.gz"), b"".join(train), (12, 3, 3))
    write_idx(str(source / "train-labels-idx1-ubyte.gz"), [i % 10 for i in range(12)], (12,))
    write_idx(str(source / "t10k-images-idx3-ubyte"), bytes(27), (3, 3, 3))
    write_idx(str(source / "t10k-labels-idx1-ubyte"), [1, 2, 3], (3,))
    return source, train


def test_expanded_set_holds_every_shift_once_shuffled_then_validation(small_set, tmp_path):
    source, train = small_set
    out = tmp_path / "expanded"
    assert expand(str(out), str(source), seed=3) == (50, 2)
    images = read_idx(str(out / "train-images-idx3-ubyte.gz"))
    labels = read_idx(str(out / "train-labels-idx1-ubyte.gz")).data.tolist()
    assert images.shape == (52, 3, 3)
    pixels = images.data.tobytes()
    written = [(pixels[9 * i:9 * (i + 1)], labels[i]) for i in range(52)]
    expected = [(shift(train[i], 3, 3, s), i % 10) for i in range(10) for s in range(5)]
    assert sorted(written[:50]) == sorted(expected)
    assert written[:50] != expected  # shuffled
    assert written[50:] == [(train[10], 0), (train[11], 1)]  # validation, unchanged, last
    assert sorted(os.listdir(str(out))) == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                                            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    again = tmp_path / "again"
    expand(str(again), str(source), seed=3)
    assert (again / "train-images-idx3-ubyte.gz").read_bytes() == (out / "train-images-idx3-ubyte.gz").read_bytes()
    training, validation, test = mnist_loader.load_data(str(out), validation_size=2)
    assert len(training[0]) == 50 and [x.pixels for x in validation[0]] == train[10:] and len(test[0]) == 3


def test_expand_refuses_to_write_over_its_source(small_set):
    source, _ = small_set
    with pytest.raises(Exception, match="is the data directory .* itself"):
        expand(str(source), str(source))


def test_the_expanded_set_trains_through_the_command_line(small_set, tmp_path, capsys):
    source, _ = small_set
    out = tmp_path / "expanded"
    assert cli.main(["expand", "--out", str(out), "--data", str(source), "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "wrote 50 shuffled training images and 2 validation images" in said
    assert said.rstrip().endswith("--data {} --validation-size 2".format(out))
    assert cli.main(["train", "--data", str(out), "--sizes", "9,4,10", "--epochs", "1", "--quiet",
                     "--seed", "1", "--validation-size", "2"]) == 0
    out_text = capsys.readouterr().out
    assert "training on 50, testing on 3" in out_text and "Epoch 0: " in out_text


#### The SVM baseline

def test_svm_features_approximate_the_rbf_kernel():
    import math
    import random
    from purenn.mnist_svm import FeatureMap, features
    fmap = FeatureMap(6, 4000, 0.5, seed=1)
    rng = random.Random(2)
    x, y = [rng.random() for _ in range(6)], [rng.random() for _ in range(6)]
    phi_x, phi_y = features(fmap, x), features(fmap, y)
    approx = 0.0
    for a, b in zip(phi_x, phi_y):
        approx += a * b
    exact = math.exp(-0.5 * sum((a - b) ** 2 for a, b in zip(x, y)))
    assert approx == pytest.approx(exact, abs=0.05)


def test_svm_in_c_matches_the_python_twin_bit_for_bit(core, mnist):
    import random
    from purenn.backends.csvm import CoreSVM
    from purenn.mnist_svm import FeatureMap, LinearSVM
    training, _, test = mnist
    images = [x for x, _ in training[:150]]
    labels = [y.index(1.0) for _, y in training[:150]]
    svms = [LinearSVM(FeatureMap(784, 40, 0.02, seed=3), 10, 0.1, 1e-4) for _ in range(2)]
    order = list(range(150))
    random.Random(4).shuffle(order)
    svms[0].train_epoch(list(zip(images, labels)), order)
    svms[0].train_epoch(list(zip(images, labels)), order[::-1])
    core_svm = CoreSVM(svms[1], images)
    core_svm.train_epoch(labels, order)
    core_svm.train_epoch(labels, order[::-1])
    assert svms[1].step == svms[0].step == 300
    assert [w.hex() for row in svms[1].weights for w in row] == [w.hex() for row in svms[0].weights for w in row]
    assert [b.hex() for b in svms[1].bias] == [b.hex() for b in svms[0].bias]
    tests = [x for x, _ in test[:50]]
    assert core_svm.predict_all(tests) == [svms[0].predict(x) for x in tests]


def test_svm_baseline_learns_on_a_subset_in_python(capsys):
    assert cli.main(["baseline", "svm", "--features", "200", "--epochs", "3", "--train-limit", "1000",
                     "--test-limit", "200", "--backend", "python"]) == 0
    out = capsys.readouterr().out
    correct = int(out.splitlines()[1].split()[0])
    assert correct > 120  # of 200 (chance: 20); this setting gives 150 -- the full one gives 95.8%
