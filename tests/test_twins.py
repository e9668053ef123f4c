"""The C core's comments name their Python twins truly.

Every C function in csrc/ that mirrors Python code says so in a comment:
"Twin of network2.Network.backprop", or "Twins of a, b and c" for several.
Each name is a path inside the purenn package -- a module (relative to
purenn, e.g. `linalg` or `backends.engine`) and then attributes -- and
these tests resolve every one of them, so that when the Python side moves
the comments cannot go on naming what is no longer there.  The tests only
read text: they pass with or without the C core built.
"""

import importlib
import inspect
import os
import re

CSRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "csrc")

#: A dotted name: a module of purenn, then attributes.  It ends before
#: anything else: "network2.Network.backprop's", "linalg.outer(delta, a)".
NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
#: "Twin of" or "Twins of", in any case, then the name(s).
MARK = re.compile(r"\b(twins?)\s+of\s+", re.IGNORECASE)
#: Between the names of a "Twins of" list: ", ", " and ", ", and ".
SEPARATOR = re.compile(r"\s*,\s*and\s+|\s*,\s*|\s+and\s+")
COMMENT = re.compile(r"/\*(.*?)\*/|//([^\n]*)", re.DOTALL)

#: Fewer names than this means the reading went wrong, not that all is well.
AT_LEAST = 15


def _sources():
    names = sorted(name for name in os.listdir(CSRC) if name.endswith((".c", ".h")))
    assert names, "no .c or .h files in {}".format(CSRC)
    return names


def _comments(text):
    """Each comment's words, one line: the leading `*` of its lines dropped, whitespace collapsed."""
    for match in COMMENT.finditer(text):
        body = match.group(1) if match.group(1) is not None else match.group(2)
        body = re.sub(r"(?m)^\s*\*(?!/)", " ", body)
        yield " ".join(body.split())


def twin_names(text):
    """(names, unnamed) in the C source `text`: every name after "Twin of" or in a
    "Twins of" list, and the phrases where a mark is followed by no name at all."""
    names, unnamed = [], []
    for comment in _comments(text):
        for mark in MARK.finditer(comment):
            name = NAME.match(comment, mark.end())
            if name is None:
                unnamed.append(comment[mark.start():mark.end() + 30].strip())
                continue
            names.append(name.group())
            position = name.end()
            while mark.group(1).lower() == "twins":
                separator = SEPARATOR.match(comment, position)
                name = NAME.match(comment, separator.end()) if separator else None
                if name is None:
                    break
                names.append(name.group())
                position = name.end()
    return names, unnamed


def _module(parts):
    """The longest purenn.<parts[:i]> that imports, and how many parts it took."""
    for i in range(len(parts), 0, -1):
        dotted = "purenn." + ".".join(parts[:i])
        try:
            return importlib.import_module(dotted), i
        except ModuleNotFoundError as e:
            if e.name is not None and (dotted == e.name or dotted.startswith(e.name + ".")):
                continue  # no such module: try a shorter prefix
            raise  # the module exists but fails to import
    return None, 0


def problem(name):
    """Why `name` does not name a real function, class, method or value of purenn, or None."""
    parts = name.split(".")
    module, used = _module(parts)
    if module is None:
        return "no module purenn.{}".format(parts[0])
    if used == len(parts):
        return "purenn.{} is a module, not a function".format(name)
    thing = module
    for i in range(used, len(parts)):
        if not hasattr(thing, parts[i]):
            return "{} has no {}".format(".".join(["purenn"] + parts[:i]), parts[i])
        thing = getattr(thing, parts[i])
    defined_in = getattr(thing, "__module__", None)
    if (inspect.isfunction(thing) or inspect.isclass(thing)) and defined_in != module.__name__:
        return "defined in {}, not in {}".format(defined_in, module.__name__)
    return None


def _all_twins():
    found = {}
    for source in _sources():
        with open(os.path.join(CSRC, source)) as f:
            found[source] = twin_names(f.read())
    return found


def test_every_twin_named_in_csrc_is_real():
    found = _all_twins()
    names = {name for names, _ in found.values() for name in names}
    assert len(names) >= AT_LEAST, "only {} twin names found in csrc/ ({}): is the reading broken?".format(
        len(names), ", ".join(sorted(names)))
    dangling = ["csrc/{}: {} ({})".format(source, name, problem(name))
                for source, (names, _) in sorted(found.items())
                for name in sorted(set(names)) if problem(name) is not None]
    assert not dangling, "twin names in csrc/ that name nothing real:\n  " + "\n  ".join(dangling)


def test_every_twin_comment_names_its_twin():
    unnamed = ["csrc/{}: {!r}".format(source, phrase)
               for source, (_, phrases) in sorted(_all_twins().items()) for phrase in phrases]
    assert not unnamed, ("a 'Twin of' that names no module.function follows it (write e.g. "
                         "'Twin of network2.Network.backprop'):\n  " + "\n  ".join(unnamed))


def test_the_reading_of_twin_comments():
    text = """
    /* Twin of linalg.weighted_inputs: z = w a + b. */
    /* Twins of network.QuadraticCost.fn, network2.CrossEntropyCost.fn
     * and network2.LogLikelihoodCost.fn, per row. */
    // twin of network2.Network.backprop's forward pass
    /* Twin of the update at the end */
    """
    names, unnamed = twin_names(text)
    assert names == ["linalg.weighted_inputs", "network.QuadraticCost.fn", "network2.CrossEntropyCost.fn",
                     "network2.LogLikelihoodCost.fn", "network2.Network.backprop"]
    assert unnamed == ["Twin of the update at the end"]
    assert problem("linalg.weighted_inputs") is None
    assert problem("network2.Network._momentum_step") is None
    assert problem("mnist_loader.PIXEL_VALUES") is None
    assert problem("backends.engine.nonzeros") is None
    assert problem("network.weighted_inputs") == "defined in purenn.linalg, not in purenn.network"
    assert problem("network2.Network._update") == "purenn.network2.Network has no _update"
    assert problem("nosuchmodule.f") == "no module purenn.nosuchmodule"
    assert problem("linalg") is not None


#### The Python twins are still the code the fast backends were checked against

def test_the_recorded_fingerprints_are_those_of_the_reference_now():
    from purenn import mnist_svm, network, network2
    from purenn.backends import mirrored

    assert set(mirrored.RECORDED) == {short for uses in mirrored.USES.values() for short in uses}
    for cls in (network.Network, network2.Network, mnist_svm.LinearSVM):
        assert mirrored.changed(cls) == [], (
            "the reference changed; if its twins (backends/engine.py, csrc/) were changed to match and the "
            "bit-for-bit tests pass, record it: python -c \"from purenn.backends import mirrored; mirrored.write()\"")


def test_every_python_twin_the_c_core_names_is_watched_for_changes():
    """A twin's module is one whose source and objects mirrored.changed watches
    (or it is the one table watched on its own, mnist_loader.PIXEL_VALUES);
    the engine's own functions are not the reference."""
    from purenn.backends import mirrored

    named = set()
    for source in _sources():
        with open(os.path.join(CSRC, source)) as f:
            named.update(twin_names(f.read())[0])
    watched = {short for uses in mirrored.USES.values() for short in uses}
    unwatched = sorted(name for name in named if name.split(".")[0] not in watched
                       and name != "mnist_loader.PIXEL_VALUES" and not name.startswith("backends.engine."))
    assert len(named) >= AT_LEAST and unwatched == []
