"""`python -m purenn ensemble MODEL MODEL ...`: the plurality vote of saved networks (chapter 6).

Each network -- network3's, network2's or the chapter-1 network's, in any
mix -- classifies every test and validation image; the ensemble's digit is
the one most of them chose.  A tie is broken by the order the models are
given in: of the digits tied for the most votes, the one that the first
model (in that order) voting for any of them chose.  The book's chapter 6
votes five networks this way (it says nothing of ties).

    >>> vote([3, 5, 5, 3, 7])    # 3 and 5 tie; the first model voted 3
    3
    >>> vote([7, 5, 5, 3, 3])    # 3 and 5 tie; the first voter for either chose 5
    5
"""

from ..errors import ArgumentError
from ..mnist_loader import find_data_dir, load_data_wrapper
from .options import add_backend_option, add_data_option, classify, model_shape, read_model, say

__all__ = ["add_parser", "run", "vote"]


def vote(guesses):
    """The plurality of `guesses` (one digit per model, in the models' order), ties as the module says."""
    counts = {}
    for guess in guesses:
        counts[guess] = counts.get(guess, 0) + 1
    most = max(counts.values())
    for guess in guesses:
        if counts[guess] == most:
            return guess


def add_parser(commands):
    ensemble = commands.add_parser(
        "ensemble", help="the plurality vote of saved networks, and each one's accuracy",
        description="Classify the test and validation images with each saved network and by their plurality "
                    "vote (a tie goes to the digit of the first model, in the order given, that voted for one "
                    "of the tied digits); print each one's accuracy and the ensemble's.")
    ensemble.add_argument("models", metavar="MODEL", nargs="+",
                          help="networks saved by train3, chapter6 or train --save (at least two)")
    add_data_option(ensemble)
    add_backend_option(ensemble)
    return ensemble


def run(args, parser, argv):
    if len(args.models) < 2:
        parser.error("argument MODEL: give at least two saved networks to vote")
    nets = [read_model(path, args.backend) for path in args.models]
    data_dir = find_data_dir(args.data)
    _, validation_data, test_data = load_data_wrapper(data_dir)
    pixels = len(test_data[0][0]) if test_data else None
    for path, net in zip(args.models, nets):
        if pixels is not None and model_shape(net)[0] != pixels:
            raise ArgumentError("{}: the network takes {} inputs, the images in {} have {} pixels".format(
                path, model_shape(net)[0], data_dir, pixels))
    for name, data in (("test", test_data), ("validation", validation_data)):
        if data:
            _report(name, data, args.models, nets)
    return 0


def _report(name, data, paths, nets):
    labels = [y for _, y in data]
    guesses = [classify(net, [x for x, _ in data]) for net in nets]
    for path, guessed in zip(paths, guesses):
        say("{:<10} {}: {}".format(name, path, _score(guessed, labels)))
    votes = [vote([guessed[i] for guessed in guesses]) for i in range(len(labels))]
    say("{:<10} the ensemble of {}: {}".format(name, len(nets), _score(votes, labels)))


def _score(guesses, labels):
    right = 0
    for guess, y in zip(guesses, labels):
        if guess == y:
            right += 1
    return "{} / {} ({:.2%})".format(right, len(labels), right / len(labels))
