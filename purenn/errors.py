"""The exceptions purenn raises: one type per family of failure.

Every message names the file or argument at fault and says what was
expected, on one line, so that the command line can print it as it is.

    PurennError          the base of them all
    DataFileError        a data file (IDX, gzip) that cannot be read as promised
    ModelFileError       a saved network that cannot be loaded
    BackendError         a backend that was asked for but cannot run
    ArgumentError        a bad argument to a function (also a ValueError)
    TrainingError        training that went wrong: weights or cost no longer finite
    TrainingInterrupted  training stopped on request; carries the state to resume from
"""


class PurennError(Exception):
    """Base class of every error purenn raises on purpose."""


class DataFileError(PurennError):
    """A data file is missing, malformed, or not what its header claims."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__("{}: {}".format(self.path, problem))


class ModelFileError(PurennError):
    """A model file is missing, malformed, or disagrees with itself."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__("{}: {}".format(self.path, problem))


class BackendError(PurennError):
    """A backend was asked for by name but is unknown or not built."""


class ArgumentError(PurennError, ValueError):
    """An argument has a value purenn cannot work with."""


class TrainingError(PurennError):
    """Training diverged: the weights or the cost became NaN or infinite."""


class TrainingInterrupted(PurennError):
    """SGD stopped between two mini-batches because its `stop` callable said so.

    `state` is a JSON-ready dict (purenn.checkpoint describes it): with the
    network as it is now (`net`), SGD(..., resume=state) continues the run
    and ends with exactly the weights an uninterrupted run would have.
    `epoch` and `done` say where it stopped: `done` of the `n` training
    examples into epoch `epoch`.
    """

    def __init__(self, net, state, n):
        self.net = net
        self.state = state
        self.epoch = state["epoch"]
        self.done = state["done"]
        self.n = n
        super().__init__("training stopped in epoch {} after {} of {} examples".format(self.epoch, self.done, n))
