"""checkpoint.py -- checkpoint files: a network and the state of its stopped run.

A checkpoint file is the state that TrainingInterrupted carries
(purenn.training.state describes it) with the network and, for the command
line, the options of the run:

    save(filename, net, state, command=None)   JSON, written atomically
    load(filename, backend=None)               -> Checkpoint(net, state, command)
"""

import json
import os

from .. import network, network2, network3
from ..errors import ArgumentError, ModelFileError
from ..files.atomic import write_text
from ..files.modelfile import network_dict, read_json
from ..files.network3file import network3_dict
from .state import check_state

__all__ = ["Checkpoint", "save", "load"]

FORMAT = "purenn-checkpoint"
VERSION = 1


class Checkpoint:
    """A loaded checkpoint: the network, the training state, the command's options."""

    def __init__(self, net, state, command):
        self.net, self.state, self.command = net, state, command


#### Files

def save(filename, net, state, command=None):
    """Write `net`, the training `state` and the command's options to
    `filename` as JSON, atomically (never half a file)."""
    described = network3_dict(net, filename) if state["kind"] == "network3" else network_dict(net, filename)
    data = {"format": FORMAT, "version": VERSION, "network": described,
            "training": state, "command": command}
    write_text(filename, json.dumps(data, separators=(",", ":")), suffix=".json")


def load(filename, *, backend=None):
    """Read a checkpoint written by save: Checkpoint(net, state, command).
    The network is the chapter-1 Network, network2's or network3's, as the state says;
    anything damaged or inconsistent is a ModelFileError naming the file."""
    filename = os.fspath(filename)
    data = read_json(filename)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelFileError(filename, "not a purenn checkpoint (no \"format\": \"{}\")".format(FORMAT))
    if data.get("version") != VERSION:
        raise ModelFileError(filename, "checkpoint version {!r}; this purenn reads version {}".format(
            data.get("version"), VERSION))
    state = data.get("training")
    kind = state.get("kind") if isinstance(state, dict) else None
    if kind not in ("network", "network2", "network3"):
        raise ModelFileError(filename, "the training state is missing or of no known kind")
    net = _network(filename, data.get("network"), kind, backend)
    try:
        check_state(state, net, kind)
    except ArgumentError as e:
        raise ModelFileError(filename, str(e)) from None
    command = data.get("command")
    if command is not None and not isinstance(command, dict):
        raise ModelFileError(filename, "command is not a JSON object")
    return Checkpoint(net, state, command)


def _network(filename, described, kind, backend):
    if kind == "network3":
        return network3.network_from_dict(filename, described, backend)
    net2 = network2.network_from_dict(filename, described, backend)
    if kind == "network2":
        return net2
    if net2.cost.__name__ != "QuadraticCost" or net2.activation != "sigmoid" or net2.dropout:
        raise ModelFileError(filename, "a chapter-1 network must be sigmoid with the quadratic cost")
    net = network.Network(net2.sizes, seed=0, backend=backend)
    net.weights, net.biases = net2.weights, net2.biases
    return net
