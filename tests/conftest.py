"""Shared fixtures.  The suite runs against every backend: tests that take
the `backend` fixture run once each for "reference", "python" and "c".

Where the C core is not built, its runs are skipped -- unless
PURENN_REQUIRE_C=1 (as in CI), where that is a failure: a broken build must
not hide behind skips.

The exhaustive cases -- long trainings on the pure-Python reference, which
the bit-for-bit tests already tie to the fast backends -- are marked
`exhaustive` (or `exhaustive_on_reference`, for a test's reference run
only) and skipped unless pytest is given --exhaustive or
PURENN_EXHAUSTIVE=1 is set.  CI runs them.
"""

import os

import pytest

from purenn import mnist_loader
from purenn.backends import BACKENDS, core_status


def _require_c():
    return os.environ.get("PURENN_REQUIRE_C", "").strip().lower() in ("1", "true", "yes", "on")


def pytest_addoption(parser):
    parser.addoption("--exhaustive", action="store_true", help="also run the tests marked exhaustive")


def pytest_configure(config):
    config.addinivalue_line("markers", "exhaustive: a long case, run with --exhaustive (CI does)")
    config.addinivalue_line("markers", "exhaustive_on_reference: the test's reference run is exhaustive")


def _exhaustive(config):
    return config.getoption("--exhaustive") or os.environ.get("PURENN_EXHAUSTIVE", "").strip() in ("1", "true")


def pytest_collection_modifyitems(config, items):
    if _exhaustive(config):
        return
    skip = pytest.mark.skip(reason="exhaustive: run with --exhaustive or PURENN_EXHAUSTIVE=1")
    for item in items:
        on_reference = (item.get_closest_marker("exhaustive_on_reference") is not None
                        and getattr(item, "callspec", None) is not None
                        and item.callspec.params.get("backend") == "reference")
        if item.get_closest_marker("exhaustive") is not None or on_reference:
            item.add_marker(skip)


def pytest_report_header(config):
    built, detail = core_status()
    return "purenn C core: {} ({}){}; exhaustive cases {}".format(
        "built" if built else "NOT built", detail, "; required" if _require_c() else "",
        "included" if _exhaustive(config) else "skipped (--exhaustive runs them)")


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
