"""Shared fixtures.  The suite runs against every backend: tests that take
the `backend` fixture run once each for "reference", "python" and "c".

Where the C core is not built, its runs are skipped -- unless
PURENN_REQUIRE_C=1 (as in CI), where that is a failure: a broken build must
not hide behind skips.

The exhaustive cases -- long trainings on the pure-Python reference, which
the bit-for-bit tests already tie to the fast backends -- are marked
`exhaustive` (or `exhaustive_on_reference`, for a test's reference run
only) and skipped unless pytest is given --exhaustive or
PURENN_EXHAUSTIVE=1 is set.  CI runs them, shared between its CPython 3.8
and PyPy suites: `--exhaustive-part K/N` runs the cases of part K of N (a case's part is
fixed by a checksum of its name) and skips the others, saying so.
"""

import argparse
import os
import zlib

import pytest

from purenn import mnist_loader
from purenn.backends import BACKENDS, core_status


def _require_c():
    return os.environ.get("PURENN_REQUIRE_C", "").strip().lower() in ("1", "true", "yes", "on")


def pytest_addoption(parser):
    parser.addoption("--exhaustive", action="store_true", help="also run the tests marked exhaustive")
    parser.addoption("--exhaustive-part", metavar="K/N", default=None, type=_part,
                     help="with --exhaustive: run only part K of N of the exhaustive cases (by a checksum of their names)")


def _part(text):
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise argparse.ArgumentTypeError("{!r} is not K/N with 1 <= K <= N".format(text))
    return int(k), int(n)


def pytest_configure(config):
    config.addinivalue_line("markers", "exhaustive: a long case, run with --exhaustive (CI does)")
    config.addinivalue_line("markers", "exhaustive_on_reference: the test's reference run is exhaustive")


def _exhaustive(config):
    return config.getoption("--exhaustive") or os.environ.get("PURENN_EXHAUSTIVE", "").strip() in ("1", "true")


def pytest_collection_modifyitems(config, items):
    part = config.getoption("--exhaustive-part")
    if _exhaustive(config) and part is None:
        return
    if _exhaustive(config):
        k, n = part
        reason = "exhaustive: part {} of {} runs here, this case in another part".format(k, n)
    else:
        k, n, reason = None, None, "exhaustive: run with --exhaustive or PURENN_EXHAUSTIVE=1"
    for item in items:
        if _is_exhaustive(item) and (k is None or _part_of(item, n) != k):
            item.add_marker(pytest.mark.skip(reason=reason))


def _part_of(item, n):
    """The part (1 to n) a case falls in: by its name alone, so the same in every
    environment whatever else is collected there (the C core's cases, say)."""
    return zlib.crc32(item.nodeid.encode("utf-8")) % n + 1


def _is_exhaustive(item):
    on_reference = (item.get_closest_marker("exhaustive_on_reference") is not None
                    and getattr(item, "callspec", None) is not None
                    and item.callspec.params.get("backend") == "reference")
    return item.get_closest_marker("exhaustive") is not None or on_reference


def pytest_report_header(config):
    built, detail = core_status()
    return "purenn C core: {} ({}){}; exhaustive cases {}".format(
        "built" if built else "NOT built", detail, "; required" if _require_c() else "",
        _exhaustive_header(config))


def _exhaustive_header(config):
    if not _exhaustive(config):
        return "skipped (--exhaustive runs them)"
    part = config.getoption("--exhaustive-part")
    return "included" if part is None else "part {} of {} included".format(*part)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each backend name in turn; "c" skipped (or failed, if required) when not built."""
    if request.param == "c":
        built, detail = core_status()
        if not built:
            if _require_c():
                pytest.fail("PURENN_REQUIRE_C=1 but the C core is not built: {}".format(detail))
            pytest.skip("the C core is not built: {}".format(detail))
    return request.param


@pytest.fixture(scope="session")
def core():
    """The compiled C core module (ffi, lib), for kernel-level tests."""
    built, detail = core_status()
    if not built:
        if _require_c():
            pytest.fail("PURENN_REQUIRE_C=1 but the C core is not built: {}".format(detail))
        pytest.skip("the C core is not built: {}".format(detail))
    from purenn.backends import _core
    return _core


@pytest.fixture(scope="session")
def mnist():
    """(training_data, validation_data, test_data) from the bundled MNIST, loaded once."""
    return mnist_loader.load_data_wrapper()
