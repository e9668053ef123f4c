"""The reference code the fast backends mirror, and whether it is still that code.

The Python engine and the C core compute what the book's methods and the
reference's arithmetic compute, in their own code.  A subclass that
overrides a book method is caught by overridden_methods (purenn.backends);
this module catches the rest -- a mirrored function edited in its source
file (the chapter-2 exercise done in network.py itself, say), or replaced on
its module or class while the program runs:

    changed(net)     the names in MIRRORED, of the modules `net`'s class uses,
                     whose code is not the code the twins were checked against

Each name's source text is fingerprinted (SHA-256) and compared with
RECORDED, the fingerprints taken when the twins last agreed with it (the
bit-for-bit tests hold them to it).  A source that cannot be read (a
package installed without its .py files) counts as unchanged: nobody can
have edited it.  Each object is fingerprinted once; a replaced object is
fingerprinted again.

After a deliberate change of a mirrored function -- with its twins in
backends/engine.py and csrc/ changed to match, and the bit-for-bit tests
passing -- record it: `python -m purenn.backends.mirrored --write`.
tests/test_twins.py checks that RECORDED is current and that MIRRORED holds
every Python twin the C core names.
"""

import importlib
import os
from operator import attrgetter

__all__ = ["MIRRORED", "RECORDED", "changed", "fingerprint", "write"]

#: module of a network class -> the purenn modules whose code its fast backends mirror
USES = {"purenn.network": ("linalg", "network"), "purenn.network2": ("linalg", "network", "network2"),
        "purenn.mnist_svm": ("linalg", "mnist_svm")}

#: The functions, classes and methods the fast backends mirror, by name under purenn.
MIRRORED = (
    "linalg.dot", "linalg.weighted_inputs", "linalg.transpose_times", "linalg.outer", "linalg.add",
    "linalg.subtract_scaled", "linalg.argmax", "linalg.one_hot",
    "network.sigmoid", "network.sigmoid_prime", "network.QuadraticCost",
    "network.Network.feedforward", "network.Network.update_mini_batch", "network.Network.backprop",
    "network.Network.evaluate", "network.Network.cost_derivative",
    "network2.tanh", "network2.relu", "network2._sigmoid_prime_of", "network2._tanh_prime_of",
    "network2._relu_prime_of", "network2.softmax", "network2._log", "network2.CrossEntropyCost",
    "network2.LogLikelihoodCost", "network2.sign", "network2._step", "network2._velocity",
    "network2.Network.feedforward", "network2.Network._activate", "network2.Network.update_mini_batch",
    "network2.Network._momentum_step", "network2.Network.backprop", "network2.Network.dropout_masks",
    "network2.Network.dropout_mask", "network2.Network.accuracy", "network2.Network.total_cost",
    "mnist_svm.features", "mnist_svm.LinearSVM.scores", "mnist_svm.LinearSVM.train_epoch",
    "mnist_svm.LinearSVM.predict",
)

_seen = {}  # name -> (the object fingerprinted, whether it matched RECORDED)


def resolve(name):
    """The object a MIRRORED name stands for."""
    getter = _getters.get(name)
    if getter is None:
        module, path = name.split(".", 1)
        getter = _getters[name] = (importlib.import_module("purenn." + module), attrgetter(path))
    return getter[1](getter[0])


_getters = {}  # name -> (module, attrgetter of the rest)


def fingerprint(obj):
    """SHA-256 (hex, first 16 digits) of the source text of `obj`, or None where it cannot be read."""
    import hashlib  # here, not at the top: PyPy's hashlib loads cffi, which `import purenn` never needs
    import inspect
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):
        return None
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def changed(net_or_class):
    """The MIRRORED names of the modules the network's class uses (USES) whose
    code is not the recorded code; [] when all are as recorded."""
    cls = net_or_class if isinstance(net_or_class, type) else type(net_or_class)
    book = next((c for c in cls.__mro__ if c.__module__ in USES), None)
    out = []
    for name in _names(USES[book.__module__] if book is not None else ()):
        obj = resolve(name)
        seen = _seen.get(name)
        if seen is None or seen[0] is not obj:
            digest = fingerprint(obj)
            seen = _seen[name] = (obj, digest is None or digest == RECORDED.get(name))
        if not seen[1]:
            out.append(name)
    return out


def _names(modules, cache={}):
    if modules not in cache:
        cache[modules] = [name for name in MIRRORED if name.split(".", 1)[0] in modules]
    return cache[modules]


def write():
    """Record the fingerprints of the code as it is now, in this file."""
    path = os.path.abspath(__file__)
    text = open(path, encoding="utf-8").read()
    start = text.index(_BLOCK) + 1
    end = text.index("\n}\n", start) + 3
    lines = ["RECORDED = {"] + ['    "{}": "{}",'.format(name, fingerprint(resolve(name))) for name in MIRRORED]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:start] + "\n".join(lines) + "\n}\n" + text[end:])
    print("recorded {} fingerprints in {}".format(len(MIRRORED), path))


_BLOCK = "\n" + "RECORDED = {" + "\n"  # where the block begins (spelt so that it does not match itself)

#: The fingerprints of MIRRORED when the twins last agreed with them (written by write()).
RECORDED = {
    "linalg.dot": "166fbc0b97331b67",
    "linalg.weighted_inputs": "130af3a7257c48b2",
    "linalg.transpose_times": "da91e804de13a52d",
    "linalg.outer": "baffb91c0a3f4ac8",
    "linalg.add": "d486d9a06a1a5c57",
    "linalg.subtract_scaled": "bb07d65803f653c6",
    "linalg.argmax": "a1c2dd0def1d6086",
    "linalg.one_hot": "fe4acab7dbdaa619",
    "network.sigmoid": "38979832a9aeb770",
    "network.sigmoid_prime": "febc9a7e944e6656",
    "network.QuadraticCost": "73b9583c5dc7aee7",
    "network.Network.feedforward": "9596eaf38b308ccb",
    "network.Network.update_mini_batch": "1fd410aa7c27fbde",
    "network.Network.backprop": "bfd364fe2b76f9d7",
    "network.Network.evaluate": "49b63876562913d7",
    "network.Network.cost_derivative": "0b158ae86d9aed23",
    "network2.tanh": "31b38ecf54aa6895",
    "network2.relu": "6e967398a5870fbd",
    "network2._sigmoid_prime_of": "6e8dd472bb60524c",
    "network2._tanh_prime_of": "b6bf19b26e774c50",
    "network2._relu_prime_of": "e9a5b38ce52bbc71",
    "network2.softmax": "f7b84775c54119d5",
    "network2._log": "a9b5be8e932e41c3",
    "network2.CrossEntropyCost": "3c9079d646fdaf9b",
    "network2.LogLikelihoodCost": "564c6b83078cb9ae",
    "network2.sign": "d9a986614f425e25",
    "network2._step": "10b1d3ac27c7baf3",
    "network2._velocity": "b2dbd8650519b47a",
    "network2.Network.feedforward": "d93f83ecf04a008b",
    "network2.Network._activate": "06bf9c715ec84d41",
    "network2.Network.update_mini_batch": "2305511be002f2aa",
    "network2.Network._momentum_step": "8f15e85ac7c85655",
    "network2.Network.backprop": "de4e3d1ea5488cc0",
    "network2.Network.dropout_masks": "d7fb3cc383694fda",
    "network2.Network.dropout_mask": "1e00b5366fa74766",
    "network2.Network.accuracy": "8cba749349b5eed3",
    "network2.Network.total_cost": "01503c0b57ef19c9",
    "mnist_svm.features": "05c46dc39e560c00",
    "mnist_svm.LinearSVM.scores": "44189c373ab5a16f",
    "mnist_svm.LinearSVM.train_epoch": "dd9e1926de23793c",
    "mnist_svm.LinearSVM.predict": "4b0e89785fdc5f7f",
}
