"""mnist_average_darkness -- the book's naive baseline for recognising digits.

Chapter 1 compares its network with a classifier that knows one thing per
digit: how dark its images are on average.  For each digit 0-9 it averages
the darkness (the sum of the pixels) of the training images of that digit;
a test image is then guessed to be the digit whose average darkness is
nearest its own.  On MNIST this gets 2,225 of the 10,000 test images right
-- better than the 1,000 of guessing at random, far worse than a network.

    avg_darknesses(training_data)   -> {digit: average darkness}
    guess_digit(image, avgs)        -> the digit whose average is nearest
    run(data_dir=None)              -> (correct, total), and prints them

Darkness is summed from the pixels' bytes, as whole numbers: exact, and in
proportion to the book's byte/256 floats, so no rounding can move a guess.
"""

from .mnist_loader import load_data

__all__ = ["avg_darknesses", "guess_digit", "darkness", "run"]


def darkness(image):
    """The sum of an image's pixel bytes (0-255 each)."""
    pixels = getattr(image, "pixels", None)
    if pixels is None:  # a sequence of floats byte/256
        pixels = [int(round(p * 256)) for p in image]
    total = 0
    for p in pixels:
        total += p
    return total


def avg_darknesses(training_data):
    """{digit: the average darkness of the training images of that digit}.

    `training_data` is (images, labels), as mnist_loader.load_data gives it.
    Digits are kept in the order they are first seen, as the book's
    defaultdict keeps them; it decides ties in guess_digit.
    """
    counts, totals = {}, {}
    for image, digit in zip(training_data[0], training_data[1]):
        counts[digit] = counts.get(digit, 0) + 1
        totals[digit] = totals.get(digit, 0) + darkness(image)
    return {digit: totals[digit] / counts[digit] for digit in counts}


def guess_digit(image, avgs):
    """The digit whose average darkness is nearest the image's darkness."""
    d = darkness(image)
    distances = {digit: abs(average - d) for digit, average in avgs.items()}
    return min(distances, key=distances.get)


def run(data_dir=None, out=print):
    """Train on the 50,000 training images, test on the 10,000 test images; print the score."""
    training_data, _, test_data = load_data(data_dir)
    avgs = avg_darknesses(training_data)
    correct = 0
    for image, digit in zip(test_data[0], test_data[1]):
        correct += int(guess_digit(image, avgs) == digit)
    out("Baseline classifier using average darkness of image.")
    out("{} of {} values correct.".format(correct, len(test_data[1])))
    return correct, len(test_data[1])


if __name__ == "__main__":
    run()
