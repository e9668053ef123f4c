"""The book's figures, redrawn by purenn alone (`python -m purenn figure NAME`).

    digits                 chapter 1: the first training digits                  (digits.py)
    overfitting            chapter 3: [784,30,10] on 1,000 images, four monitors (overfitting.py)
    regularization         chapter 3: the same with L2, against it               (overfitting.py)
    multiple-eta           chapter 3: the training cost for three learning rates (learning_rate.py)
    weight-initialization  chapter 3: old against new initial weights            (initialization.py)
    more-data              chapter 3: accuracy against the training-set size     (more_data.py)
    vanishing-gradient     chapter 5: the speed of learning of each hidden layer (vanishing_gradient.py)

Each is a common.Figure: the book's settings (read off its fig/*.py scripts), quick ones, the
run (network2's own SGD and monitors, on any backend) and the drawing (purenn.files.plot).
"""

from .digits import DIGITS
from .initialization import WEIGHT_INITIALIZATION
from .learning_rate import MULTIPLE_ETA
from .more_data import MORE_DATA
from .overfitting import OVERFITTING, REGULARIZATION
from .vanishing_gradient import VANISHING_GRADIENT

__all__ = ["FIGURES"]

FIGURES = {figure.name: figure for figure in (DIGITS, OVERFITTING, REGULARIZATION, MULTIPLE_ETA,
                                              WEIGHT_INITIALIZATION, MORE_DATA, VANISHING_GRADIENT)}
