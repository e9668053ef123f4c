"""Learn: a small network trained in the page's process, epoch by epoch, one at a time.

    Learning(training, validation, on_done, backend)
      .start(settings)   begin a run in a thread (LearnError if one is running,
                         or the settings are out of bounds)
      .status()          {"state", "settings", "epochs": [...], "message", "model"}
      .stop()            ask the run to stop after its current mini-batch

The run is the book's chapter-3 network (network2, cross-entropy cost, sigmoid
neurons), trained by its own SGD on the first `images` training digits, and
after each epoch it records the training cost and the accuracy on the first
1,000 validation digits.  Bounds keep a page from taking the machine: at most
two hidden layers of at most 100 neurons, 30 epochs, 10,000 images, and
MAX_SECONDS of training -- a run past that stops, and says so.
"""

import threading
import time

from .. import network2
from ..errors import PurennError, TrainingInterrupted

__all__ = ["Learning", "LearnError", "check_settings", "MAX_SECONDS", "BOUNDS"]

MAX_SECONDS = 120.0
EVALUATION_IMAGES = 1000

#: name -> (type, lowest, highest, default)
BOUNDS = {
    "epochs": (int, 1, 30, 10),
    "images": (int, 100, 10000, 5000),
    "eta": (float, 0.001, 100.0, 0.5),
    "lmbda": (float, 0.0, 100.0, 0.0),
    "seed": (int, 0, 2 ** 31 - 1, 0),
}
MAX_HIDDEN_LAYERS, MAX_HIDDEN = 2, 100


class LearnError(Exception):
    """A run that cannot start: `status` is the HTTP status to answer with."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _number(name, value):
    kind, low, high, _ = BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise LearnError(400, "{}: {!r} is not {}".format(name, value, "a whole number" if kind is int else "a number"))
    if not low <= value <= high:  # also refuses NaN
        raise LearnError(400, "{}: {} is not from {} to {}".format(name, value, low, high))
    return kind(value)


def check_settings(settings):
    """The settings of a run (a JSON object), checked and with defaults filled in."""
    if not isinstance(settings, dict):
        raise LearnError(400, "the settings must be a JSON object")
    unknown = sorted(set(settings) - set(BOUNDS) - {"hidden"})
    if unknown:
        raise LearnError(400, "unknown setting {!r}; the settings are hidden, {}".format(
            unknown[0], ", ".join(BOUNDS)))
    checked = {name: _number(name, settings[name]) if name in settings else bound[3]
               for name, bound in BOUNDS.items()}
    hidden = settings.get("hidden", [30])
    if (not isinstance(hidden, list) or len(hidden) > MAX_HIDDEN_LAYERS
            or any(isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_HIDDEN for n in hidden)):
        raise LearnError(400, "hidden: {!r} is not a list of at most {} layer sizes from 1 to {}".format(
            hidden, MAX_HIDDEN_LAYERS, MAX_HIDDEN))
    checked["hidden"] = list(hidden)
    return checked


class Learning:
    def __init__(self, training, validation, on_done, backend=None):
        self.training, self.validation = training, validation[:EVALUATION_IMAGES]
        self.on_done, self.backend = on_done, backend
        self._lock = threading.Lock()
        self._thread = None
        self._stop = threading.Event()
        self._status = {"state": "idle", "settings": None, "epochs": [], "message": "", "model": None}

    def status(self):
        with self._lock:
            status = dict(self._status)
            status["epochs"] = list(status["epochs"])
            return status

    def start(self, settings):
        with self._lock:
            if self._status["state"] == "running":  # the state, not the thread: it is set as the run's last act
                raise LearnError(409, "a network is learning already; stop it first")
            settings = check_settings(settings)
            if settings["images"] > len(self.training):
                raise LearnError(400, "images: {} is more than the {} training digits here".format(
                    settings["images"], len(self.training)))
            self._stop.clear()
            self._status = {"state": "running", "settings": settings, "epochs": [], "message": "starting",
                            "model": None}
            self._thread = threading.Thread(target=self._run, args=(settings,), name="purenn-learn", daemon=True)
            self._thread.start()
        return self.status()

    def stop(self):
        """Ask a running run to stop; True if one was running."""
        with self._lock:
            running = self._status["state"] == "running"
            if running:
                self._stop.set()
        return running

    def join(self, timeout=None):
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _set(self, **changes):
        with self._lock:
            self._status.update(changes)

    def _run(self, settings):
        """The thread: _learn, and whatever happens the run ends in a state other than "running"
        (stop and start go by that state): any other exception, in training or in on_done, is "failed"."""
        try:
            self._learn(settings)
        except Exception as e:  # noqa: BLE001 -- the page must hear of it; the server goes on
            self._set(state="failed", message="{}: {}".format(type(e).__name__, e))
        finally:
            with self._lock:
                if self._status["state"] == "running":
                    self._status.update(state="failed", message="the run ended without a result")

    def _learn(self, settings):
        sizes = [784] + settings["hidden"] + [10]
        started = time.process_time()
        deadline = time.monotonic() + MAX_SECONDS
        why = []

        def stop():
            if self._stop.is_set():
                why.append("stopped")
            elif time.monotonic() > deadline:
                why.append("stopped at the limit of {:.0f} seconds".format(MAX_SECONDS))
            return bool(why)

        def on_epoch(record):
            epoch = {"epoch": record["epoch"] + 1, "accuracy": record["evaluation_accuracy"],
                     "cost": record["training_cost"], "seconds": record["seconds"]}
            with self._lock:
                self._status["epochs"].append(epoch)
                self._status["message"] = "epoch {} of {}".format(epoch["epoch"], settings["epochs"])

        try:
            net = network2.Network(sizes, seed=settings["seed"], backend=self.backend)
            self._set(message="epoch 1 of {}".format(settings["epochs"]))
            net.SGD(self.training[:settings["images"]], settings["epochs"], 10, settings["eta"],
                    lmbda=settings["lmbda"], evaluation_data=self.validation, monitor_evaluation_accuracy=True,
                    monitor_training_cost=True, on_epoch=on_epoch, stop=stop, verbose=False)
            state, message = "done", "finished"
        except TrainingInterrupted:
            state, message = "stopped", why[0] if why else "stopped"
        except PurennError as e:  # e.g. the weights became NaN: a too-large eta
            self._set(state="failed", message=str(e))
            return
        seconds = time.process_time() - started
        epochs = len(self.status()["epochs"])
        model = self.on_done(net, settings) if epochs else None
        self._set(state=state, model=model, message="{} after {} epochs, {:.2f} s CPU".format(message, epochs, seconds))
