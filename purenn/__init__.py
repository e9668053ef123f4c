"""purenn: the neural networks of Michael Nielsen's "Neural Networks and Deep
Learning", in plain Python, with an optional C core that computes the same
numbers bit for bit.

    module              what it holds                              book
    ------------------  -----------------------------------------  ---------
    purenn.network      the chapter-1 network: sigmoid neurons,    chapter 1
                        quadratic cost, SGD, backpropagation
    purenn.network2     costs, initialisers, L2/L1, dropout,       chapter 3
                        momentum, schedules, early stopping, save
    purenn.network3     convolutional networks (ConvPoolLayer, ...)  chapter 6
    purenn.explain      backprop's four equations with the numbers   chapter 2
    purenn.linalg       the NumPy operations the book uses, as loops
    purenn.elementary   exp, log, tanh, sin, cos, gauss from IEEE-754 operations
                        only: the same bits on every platform (not yet used)
    purenn.mnist_loader load MNIST (the book's API, plain lists)   chapter 1
    purenn.expand_mnist the expanded training set (shifted digits) chapter 6
    purenn.mnist_average_darkness, purenn.mnist_svm   the baselines  chapter 1
    purenn.backends     choose the reference, the Python engine or the C core;
                        the protocol a fast backend provides
    purenn.training     the one training run: stop and resume, progress,
                        divergence checks, monitoring, early stopping
    purenn.files        IDX files, pictures, handwriting, model files, SVG charts
    purenn.micro        a saved network for MicroPython (`export --micro`)
    purenn.cli          `python -m purenn train`, `... backends`, ...
    purenn.errors       the exceptions purenn raises

The Python modules are the specification: they favour clarity over speed
and use the standard library only.  The C core (csrc/) mirrors them loop for
loop.  `import purenn` never needs cffi or a compiler.

    >>> from purenn.network import Network
    >>> net = Network([2, 3, 1], seed=0, backend="python")
    >>> [len(w) for w in net.weights], [len(w[0]) for w in net.weights]
    ([3, 1], [2, 3])
"""

__version__ = "0.1.0"

import sys  # noqa: E402

try:
    from .backends import available_backends  # noqa: E402
    from .errors import (ArgumentError, BackendError, DataFileError, ModelFileError, PurennError,  # noqa: E402
                         TrainingError, TrainingInterrupted)
except KeyboardInterrupt:
    # Ctrl-C while the command line starts (`python -m purenn`, whose sys.argv[0] is "-m" while
    # the package is imported, or the `purenn` script): one line, not a traceback.  (purenn.__main__)
    if sys.argv[:1] == ["-m"] or (sys.argv or [""])[0].endswith(("/purenn", "\\purenn", "purenn.exe")):
        print("\npurenn: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    raise

__all__ = ["available_backends", "PurennError", "DataFileError", "ModelFileError",
           "BackendError", "ArgumentError", "TrainingError", "TrainingInterrupted", "__version__"]
