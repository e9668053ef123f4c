"""The commands that use a saved network or the data, beside `train` and `bench`.

    evaluate       the accuracy of a saved network on the test and validation images
    baseline       the book's baselines: average darkness, the SVM
    expand         write the expanded training set
    predict        recognise digits in pictures
    show           print test digits in the terminal
    misclassified  draw the test digits a network gets wrong
    backends       list the backends and whether the C core is built

Each is a pair: add_NAME(commands) defines its options, NAME(args, parser, argv) runs it.
"""

import sys
import time

from .. import expand_mnist, mnist_average_darkness, mnist_svm, network2
from ..backends import available_backends, core_status, resolve_backend
from ..errors import ArgumentError
from ..files.handwriting import predict as read_digit
from ..files.pictures import digit_grid, to_terminal, write_png
from ..mnist_loader import default_validation_size, find_data_dir, image_shape, load_data, load_data_wrapper
from ..training.progress import Progress
from .layers import describe
from .options import (add_backend_option, add_data_option, at_most, backend_detail, check_memory_need, classify,
                      load_model, model_shape, non_negative_int, positive_float, positive_int, read_model, say)

__all__ = ["COMMANDS"]

MODEL_HELP = "a network saved by `train --save`, `train3 --save` or `chapter6 --save` (or the book's network2.save)"

#: The most digits misclassified draws in a row (each 64 pixels wide).
MAX_COLUMNS = 100


def _check_inputs(net, model, data_dir, pixels):
    """ArgumentError naming the model unless it takes images of `pixels` pixels."""
    inputs = model_shape(net)[0]
    if pixels != inputs:
        raise ArgumentError("{}: the network takes {} inputs, the images in {} have {} pixels".format(
            model, inputs, data_dir, pixels))


#### evaluate

def add_evaluate(commands):
    evaluate = commands.add_parser("evaluate", help="accuracy of a saved network on the test and validation data",
                                   description="Load a network saved by `train --save`, `train3 --save` (or by "
                                               "the book's network2.save) and print its accuracy on the test and "
                                               "validation images.")
    evaluate.add_argument("model", metavar="MODEL", help="the saved network (JSON)")
    add_data_option(evaluate)
    add_backend_option(evaluate)
    return evaluate


def evaluate(args, parser, argv):
    net = read_model(args.model, args.backend)
    data_dir = find_data_dir(args.data)
    _, validation_data, test_data = load_data_wrapper(data_dir)
    if test_data:
        _check_inputs(net, args.model, data_dir, len(test_data[0][0]))
    labels, outputs = [y for _, y in test_data + validation_data], model_shape(net)[1]
    if labels and max(labels) >= outputs:
        raise ArgumentError("{}: the network has {} outputs, but the images in {} have labels up to {}".format(
            args.model, outputs, data_dir, max(labels)))
    if isinstance(net, network2.Network):
        say("{}: {} {}, backend {}".format(args.model, net.cost.__name__, net.sizes, net.backend))
    else:
        say("{}: network3 \"{}\", backend {}".format(args.model, describe(net), net.backend))
    for name, data in (("test", test_data), ("validation", validation_data)):
        if data:
            correct = _correct(net, data)
            say("{:<10} {} / {} ({:.2%})".format(name, correct, len(data), correct / len(data)))
    return 0


def _correct(net, data):
    """How many of data's (x, y) the network classifies as y."""
    if isinstance(net, network2.Network):
        return net.accuracy(data)
    right = 0
    for guess, (_, y) in zip(classify(net, [x for x, _ in data]), data):
        if guess == y:
            right += 1
    return right


#### baseline

def add_baseline(commands):
    baseline = commands.add_parser("baseline", help="the book's baseline classifiers",
                                   description="Run one of the book's baselines on MNIST: darkness (guess the "
                                               "digit whose average darkness is nearest) or svm (a linear SVM "
                                               "on random Fourier features, the RBF kernel approximated; no "
                                               "scikit-learn).")
    baseline.add_argument("method", choices=["darkness", "svm"], help="which baseline")
    baseline.add_argument("--features", type=positive_int, default=2000, metavar="D",
                          help="svm: random Fourier features (default 2000)")
    baseline.add_argument("--gamma", type=positive_float, default=0.02, metavar="X",
                          help="svm: the RBF kernel's gamma (default 0.02)")
    baseline.add_argument("--epochs", type=positive_int, default=3, metavar="N",
                          help="svm: passes of SGD (default 3)")
    baseline.add_argument("--train-limit", type=positive_int, default=None, metavar="N",
                          help="svm: train on the first N training images only")
    baseline.add_argument("--test-limit", type=positive_int, default=None, metavar="N",
                          help="svm: test on the first N test images only")
    baseline.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                          help="svm: seed for the features and the shuffles (default 0)")
    add_backend_option(baseline)
    add_data_option(baseline)
    return baseline


def baseline(args, parser, argv):
    if args.method == "darkness":
        mnist_average_darkness.run(args.data)
    else:
        check_memory_need(_svm_bytes(args), "argument --features: {:,} random Fourier features".format(args.features),
                          "give fewer --features (or a smaller --train-limit)", parser)
        mnist_svm.run(args.data, D=args.features, gamma=args.gamma, epochs=args.epochs, train_limit=args.train_limit,
                      test_limit=args.test_limit, seed=args.seed, backend=args.backend, out=say,
                      progress=_Stages(unit="images"))
    return 0


class _Stages:
    """progress(what, done, total) for work in stages: a progress line for each."""

    def __init__(self, unit):
        self.unit, self.what, self.line = unit, None, None

    def __call__(self, what, done, total):
        if what != self.what:
            self.what = what
            self.line = Progress(sys.stderr, what=what, unit=self.unit if what != "training" else "epochs")
        self.line(done, total)


def _svm_bytes(args):
    """What the SVM baseline holds at its peak: the D x 784 directions as Python
    floats (32 bytes with their list pointers) and, for the C core, packed and
    being packed (40 more); in Python, the features of every training image."""
    n = args.train_limit or 50000
    if resolve_backend(args.backend) == "c":
        return 784 * args.features * 72
    return 784 * args.features * 32 + n * args.features * 32


#### expand

def add_expand(commands):
    expand = commands.add_parser(
        "expand", help="write the book's expanded training set (five shifts of each image)",
        description="Write every training image and its four one-pixel shifts, shuffled, as gzipped IDX "
                    "files in MNIST's layout (the validation and test images unchanged), ready for "
                    "`train --data DIR`.")
    expand.add_argument("--out", metavar="DIR", required=True, help="directory to write the files into")
    add_data_option(expand)
    expand.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                        help="seed for the shuffle (default 0)")
    expand.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    return expand


def expand(args, parser, argv):
    progress = None if args.quiet else Progress(sys.stderr, what="expanding", unit="images")
    started = time.perf_counter()
    count, validation = expand_mnist.expand(args.out, args.data, seed=args.seed, progress=progress)
    usual = default_validation_size(count + validation)
    say("wrote {} shuffled training images and {} validation images, and the test images, to {} in "
        "{:.1f} s; train on them with: python -m purenn train --data {}{}".format(
            count, validation, args.out, time.perf_counter() - started, args.out,
            "" if usual == validation else " --validation-size {}".format(validation)))
    return 0


#### predict, show, misclassified

def add_predict(commands):
    predict = commands.add_parser(
        "predict", help="recognise handwritten digits in pictures (PNG, PGM, PBM)",
        description="Turn each picture -- of any size, dark ink on light paper or light on dark -- into an "
                    "MNIST-style 28 x 28 input (greyscale, polarity, crop, fit 20 x 20, centre of mass) and "
                    "print the digit the network sees and all ten outputs.")
    predict.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="pictures of single digits")
    predict.add_argument("--save-input", metavar="FILE.png", default=None,
                         help="save the 28 x 28 input the network saw (numbered when several pictures)")
    add_backend_option(predict)
    return predict


def predict(args, parser, argv):
    net = load_model(args.model, args.backend)
    for n, path in enumerate(args.images):
        digit, outputs, image = read_digit(net, path)
        total = 0.0
        for v in outputs[:10]:
            total += v
        share = outputs[digit] / total if total > 0 else 0.0
        say("{}: {} ({:.1%} of the output)".format(path, digit, share))
        say("  outputs: " + "  ".join("{}:{:.3f}".format(i, v) for i, v in enumerate(outputs[:10])))
        if len(outputs) > 10:
            say("  (outputs 10 to {} are not digits and are not read; the largest of them is {:.3f})".format(
                len(outputs) - 1, max(outputs[10:])))
        if args.save_input:
            target = args.save_input if len(args.images) == 1 else "{}-{}.png".format(
                args.save_input.rsplit(".", 1)[0], n)
            write_png(target, 28, 28, image.pixels)
            say("  the 28 x 28 input the network saw: {}".format(target))
    return 0


def add_show(commands):
    show = commands.add_parser("show", help="print test digits in the terminal",
                               description="Print test digits as shaded characters with their labels "
                                           "(and a network's answers when given --model).")
    show.add_argument("--start", type=non_negative_int, default=0, metavar="N", help="first test image (default 0)")
    show.add_argument("--count", type=positive_int, default=5, metavar="N", help="how many (default 5)")
    show.add_argument("--model", metavar="MODEL", default=None, help=MODEL_HELP)
    add_data_option(show)
    add_backend_option(show)
    return show


def show(args, parser, argv):
    data_dir = find_data_dir(args.data)
    _, _, (images, labels) = load_data(data_dir)
    rows, cols = image_shape(data_dir)
    if args.start >= len(images):
        raise ArgumentError("argument --start: {} is past the last of the {} test images (give 0 to {})".format(
            args.start, len(images), len(images) - 1))
    shown = range(args.start, min(args.start + args.count, len(images)))
    guesses = None
    if args.model:
        net = load_model(args.model, args.backend)
        _check_inputs(net, args.model, data_dir, rows * cols)
        guesses = classify(net, [images[i] for i in shown])
    for n, i in enumerate(shown):
        title = "test image {}: label {}".format(i, labels[i])
        if guesses is not None:
            title += ", the network says {}{}".format(guesses[n], "" if guesses[n] == labels[i] else "  (wrong)")
        say(title)
        for line in to_terminal(images[i].pixels, cols, rows):
            say(line.rstrip())
    return 0


def add_misclassified(commands):
    wrong = commands.add_parser("misclassified", help="a picture of the test digits a network gets wrong",
                                description="Draw the test digits the network misclassifies as a PNG grid, "
                                            "each captioned true->predicted.")
    wrong.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    wrong.add_argument("--out", metavar="FILE.png", required=True, help="the PNG to write")
    wrong.add_argument("--limit", type=positive_int, default=100, metavar="N", help="draw at most N (default 100)")
    wrong.add_argument("--columns", type=at_most(MAX_COLUMNS), default=10, metavar="N",
                       help="digits per row, at most {} (default 10)".format(MAX_COLUMNS))
    add_data_option(wrong)
    add_backend_option(wrong)
    return wrong


def misclassified(args, parser, argv):
    net = load_model(args.model, args.backend)
    data_dir = find_data_dir(args.data)
    _, _, test_data = load_data_wrapper(data_dir)
    if test_data:
        _check_inputs(net, args.model, data_dir, len(test_data[0][0]))
    progress, guesses = Progress(sys.stderr, what="classifying", unit="images"), []
    for begin in range(0, len(test_data), 1000):  # calls big enough for the C core, small enough to report
        guesses += classify(net, [x for x, _ in test_data[begin:begin + 1000]])
        progress(len(guesses), len(test_data))
    wrong = [(x, "{}->{}".format(y, guess)) for (x, y), guess in zip(test_data, guesses) if guess != y]
    shown = wrong[:args.limit]
    width, height, pixels = digit_grid([x for x, _ in shown], [caption for _, caption in shown],
                                       columns=args.columns)
    write_png(args.out, width, height, pixels)
    say("{} of {} test images are misclassified; drew {} of them, captioned true->predicted, in {}".format(
        len(wrong), len(test_data), len(shown), args.out))
    return 0


#### backends

def add_backends(commands):
    return commands.add_parser("backends", help="list the backends that can run here",
                               description="List the backends and whether the C core is built.")


def backends(args, parser, argv):
    built, detail = core_status()
    for name in available_backends():
        print("{:10} {}".format(name, backend_detail(name)))
    if not built:
        print("(c: not built -- {})".format(detail))
    print("auto = {}".format(resolve_backend("auto")))
    return 0


#: name -> (add the command's parser, run it)
COMMANDS = {
    "evaluate": (add_evaluate, evaluate),
    "baseline": (add_baseline, baseline),
    "expand": (add_expand, expand),
    "predict": (add_predict, predict),
    "show": (add_show, show),
    "misclassified": (add_misclassified, misclassified),
    "backends": (add_backends, backends),
}
