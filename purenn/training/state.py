"""state.py -- the state a stopped training run carries, and its checks.

SGD(..., stop=callable) calls `stop()` after every mini-batch and between
epochs (under the C core: after every call into C, about 1,000 examples, a
few milliseconds).  When it returns true, SGD raises TrainingInterrupted.
Its `state`, a JSON-ready dict, holds everything the rest of the run
depends on besides the weights and biases:

    kind         "network" (chapter 1), "network2" or "network3" (chapter 6)
    settings     the SGD arguments that must stay the same: n (the number of
                 training examples), mini_batch_size, eta, and network2's
                 lmbda, l1, momentum, schedule, early_stopping_n, monitors;
                 network3's lmbda and shuffle
    epoch, done  the epoch in progress, and how many of its training examples
                 are done (whole mini-batches)
    rng          the network's random.Random state before that epoch's shuffle
    order        the positions of the training examples before that shuffle
    params       SHA-256 of the weights and biases when it stopped
    history      what the run has measured so far (network2: also its eta,
                 best figure and the epochs that count for stopping;
                 network3: the best validation accuracy, its iteration and
                 the test accuracy then)
    velocity     network2 with momentum: the velocities, shaped like the
                 weights and biases; otherwise None

SGD(..., resume=state) puts back the RNG and the order, shuffles again (and
draws the dropout masks again), which gives the interrupted epoch's
mini-batches, skips the first `done` examples and goes on.  Every number is
the same as in an uninterrupted run, whichever backend runs either part.
(purenn.training.run does all of this; checkpoint.py writes it to a file.)
network3's state differs in one point: its rng and order are those when the
run stopped, after the epoch's shuffle (purenn.training.run3 says why).
"""

from array import array

from ..errors import ArgumentError
from .checks import is_finite_number, is_whole_number

__all__ = ["params_digest", "make_state", "check_state", "resume_point"]

NETWORK2_SETTINGS = ("lmbda", "l1", "momentum", "schedule", "early_stopping_n", "monitor_evaluation_cost",
                     "monitor_evaluation_accuracy", "monitor_training_cost", "monitor_training_accuracy")
NETWORK3_SETTINGS = ("lmbda", "shuffle")
HISTORY_LISTS = ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy")
KINDS = {"network": (), "network2": NETWORK2_SETTINGS, "network3": NETWORK3_SETTINGS}


def params_digest(net):
    """SHA-256 (hex) of the weights and biases, row by row, as doubles
    (network3: each layer's w, row by row, then its b)."""
    import hashlib  # here, not at the top: PyPy's hashlib loads cffi, which `import purenn` never needs
    digest = hashlib.sha256()
    for row in _param_rows(net):
        digest.update(array("d", row).tobytes())
    return digest.hexdigest()


def _param_rows(net):
    if hasattr(net, "layers"):  # network3
        for layer in net.layers:
            yield from _innermost(layer.w)
            yield layer.b
        return
    for w, b in zip(net.weights, net.biases):
        yield from w
        yield b


def _innermost(w):
    """The innermost lists of w (a conv layer's F x C x fh x fw, or n_out x n_in), in order."""
    if w and isinstance(w[0], list) and w[0] and isinstance(w[0][0], list):
        for inner in w:
            yield from _innermost(inner)
    else:
        yield from w


def make_state(net, kind, settings, epoch, done, rng_state, order, history, velocity=None):
    """The state TrainingInterrupted carries (see the module docstring)."""
    version, internal, gauss_next = rng_state
    return {"kind": kind, "settings": dict(settings), "epoch": epoch, "done": done,
            "rng": [version, list(internal), gauss_next], "order": list(order),
            "params": params_digest(net), "history": history, "velocity": velocity}


def check_state(state, net, kind, settings=None, epochs=None):
    """Check a state from TrainingInterrupted (or a file) before resuming from
    it: ArgumentError("resume: ...") naming what does not fit.  `settings`
    and `epochs`, if given, are the arguments of the SGD call that resumes."""
    if not isinstance(state, dict):
        raise ArgumentError("resume: expected the dict TrainingInterrupted.state, got {}".format(
            type(state).__name__))
    for key in ("kind", "settings", "epoch", "done", "rng", "order", "params", "history", "velocity"):
        if key not in state:
            raise ArgumentError("resume: the state has no {!r}".format(key))
    if state["kind"] != kind:
        raise ArgumentError("resume: the state is from a {} run, not {}".format(state["kind"], kind))
    saved = state["settings"]
    if not isinstance(saved, dict):
        raise ArgumentError("resume: settings is not a dict")
    expected = ("n", "mini_batch_size", "eta") + KINDS.get(kind, ())
    for key in expected:
        if key not in saved:
            raise ArgumentError("resume: the settings have no {!r}".format(key))
        if settings is not None and saved[key] != settings[key]:
            raise ArgumentError("resume: the run was started with {} {!r}, not {!r}".format(
                key, saved[key], settings[key]))
    n, batch = saved["n"], saved["mini_batch_size"]
    if not is_whole_number(n, 1) or not is_whole_number(batch, 1):
        raise ArgumentError("resume: n and mini_batch_size must be positive whole numbers")
    if not is_whole_number(state["epoch"], 0):
        raise ArgumentError("resume: epoch {!r} is not a whole number".format(state["epoch"]))
    if epochs is not None and state["epoch"] >= epochs:
        raise ArgumentError("resume: the run stopped in epoch {}; with epochs={} there is no such epoch".format(
            state["epoch"], epochs))
    done = state["done"]
    if not is_whole_number(done, 0) or done >= n or done % batch:
        raise ArgumentError("resume: done {!r} is not a whole number of mini-batches of {} below {}".format(
            done, batch, n))
    order = state["order"]
    if not isinstance(order, list) or len(order) != n or not all(is_whole_number(i, 0) for i in order) \
            or sorted(order) != list(range(n)):
        raise ArgumentError("resume: order is not the positions 0..{} in some order".format(n - 1))
    _check_rng(state["rng"])
    if state["params"] != params_digest(net):
        raise ArgumentError("resume: the network's weights and biases are not the ones the state was saved with")
    _check_history(state["history"], kind, saved, state["epoch"])
    velocity = state["velocity"]
    if kind == "network2" and saved["momentum"]:
        if not isinstance(velocity, dict) or "weights" not in velocity or "biases" not in velocity:
            raise ArgumentError("resume: a run with momentum needs the velocities")
        _check_shaped(velocity["weights"], [[n_in] * n_out for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:])],
                      "velocity weights")
        _check_shaped(velocity["biases"], net.sizes[1:], "velocity biases")
    elif velocity is not None:
        raise ArgumentError("resume: velocities given for a run without momentum")
    return state


def resume_point(net, state, kind, settings, epochs):
    """Check `state` (as check_state) and put back the network's RNG: SGD
    starts again from (epoch, examples done in it, order before its shuffle,
    history)."""
    check_state(state, net, kind, settings, epochs)
    version, internal, gauss_next = state["rng"]
    net.rng.setstate((version, tuple(internal), gauss_next))
    return state["epoch"], state["done"], list(state["order"]), state["history"]


def _check_rng(rng):
    # random.Random.getstate(): (3, 624 words of 32 bits and a position up to 624, gauss_next)
    if (not isinstance(rng, list) or len(rng) != 3 or rng[0] != 3 or not isinstance(rng[1], list)
            or len(rng[1]) != 625 or not all(is_whole_number(v, 0) and v < 2 ** 32 for v in rng[1])
            or rng[1][-1] > 624 or not (rng[2] is None or is_finite_number(rng[2]))):
        raise ArgumentError("resume: rng is not a state of random.Random")


def _check_history(history, kind, settings, epoch):
    """What was measured: one figure per finished epoch of each list monitored
    (chapter 1: of each epoch, or none without test data), none of the others."""
    if not isinstance(history, dict):
        raise ArgumentError("resume: history is not a dict")
    if kind == "network3":
        return _check_best(history)
    lists = ("results",) if kind == "network" else HISTORY_LISTS
    for key in lists:
        values = history.get(key)
        if not isinstance(values, list) or not all(is_finite_number(v) for v in values):
            raise ArgumentError("resume: history {} is not a list of numbers".format(key))
        expected = (0, epoch) if kind == "network" else (epoch if settings.get("monitor_" + key) else 0,)
        if len(values) not in expected:
            raise ArgumentError("resume: history {} has {} figures for {} finished epochs".format(
                key, len(values), epoch))
    if kind == "network":
        return
    if not is_finite_number(history.get("eta")) or not is_finite_number(history.get("start_eta")):
        raise ArgumentError("resume: history eta and start_eta must be finite numbers")
    if not (history.get("best") is None or is_finite_number(history.get("best"))):
        raise ArgumentError("resume: history best must be a number or null")
    if not is_whole_number(history.get("best_epoch"), 0) or not is_whole_number(history.get("since_schedule"), 0):
        raise ArgumentError("resume: history best_epoch and since_schedule must be whole numbers")


def _check_best(history):
    """network3's history: the best validation accuracy so far, its iteration and the test accuracy then."""
    best, iteration, test = (history.get(key) for key in (
        "best_validation_accuracy", "best_iteration", "test_accuracy"))
    if not is_finite_number(best) or not 0.0 <= best <= 1.0:
        raise ArgumentError("resume: history best_validation_accuracy {!r} is not a fraction".format(best))
    if not (iteration is None or is_whole_number(iteration, 0)):
        raise ArgumentError("resume: history best_iteration {!r} is not a whole number or null".format(iteration))
    if not (test is None or (is_finite_number(test) and 0.0 <= test <= 1.0)):
        raise ArgumentError("resume: history test_accuracy {!r} is not a fraction or null".format(test))


def _check_shaped(values, shape, name):
    """values: lists nested as `shape` (a list of lengths, or of lists of lengths), finite numbers."""
    if not isinstance(values, list) or len(values) != len(shape):
        raise ArgumentError("resume: {} has the wrong shape".format(name))
    for v, s in zip(values, shape):
        if isinstance(s, list):
            _check_shaped(v, s, name)
        elif not isinstance(v, list) or len(v) != s or not all(is_finite_number(x) for x in v):
            raise ArgumentError("resume: {} has the wrong shape or a number that is not finite".format(name))
