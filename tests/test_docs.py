"""The text tells the truth: the modules' doctests run, and docs/ARCHITECTURE.md
lists exactly the files there are."""

import doctest
import importlib
import os
import pkgutil

import purenn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# The modules that import the compiled core (absent from a pure-Python install).
NEEDS_CORE = ("purenn.backends._core", "purenn.backends.cbackend", "purenn.backends.csvm", "purenn.backends.cnetwork3")


def _modules():
    names = ["purenn"]
    for info in pkgutil.walk_packages(purenn.__path__, "purenn."):
        if info.name not in NEEDS_CORE:
            names.append(info.name)
    return names


def test_every_modules_doctests_pass():
    tried = 0
    for name in _modules():
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, name
        tried += result.attempted
    assert tried >= 5  # the examples exist, so this test can fail


def _listed_files():
    text = open(os.path.join(ROOT, "docs", "ARCHITECTURE.md"), encoding="utf-8").read()
    block = text.split("```tree\n", 1)[1].split("```", 1)[0]
    return {line.split()[0] for line in block.splitlines() if line.strip()}


def _source_files():
    found = set()
    for folder in ("purenn", "csrc", "tests"):
        for directory, dirs, files in os.walk(os.path.join(ROOT, folder)):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "data")]
            for name in files:
                if name.endswith((".py", ".c", ".h", ".sh", ".html", ".js", ".mjs", ".css")) and not name.startswith("_core"):
                    found.add(os.path.relpath(os.path.join(directory, name), ROOT).replace(os.sep, "/"))
    return found


def test_the_architecture_document_lists_every_file_and_no_other():
    listed, present = _listed_files(), _source_files()
    assert len(present) > 40
    assert sorted(present - listed) == [], "files missing from docs/ARCHITECTURE.md"
    assert sorted(listed - present) == [], "files in docs/ARCHITECTURE.md that do not exist"
