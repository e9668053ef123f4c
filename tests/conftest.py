"""Shared fixtures.  The suite runs against every backend: tests that take
the `backend` fixture run once each for "reference", "python" and "c".

Where the C core is not built, its runs are skipped -- unless
PURENN_REQUIRE_C=1 (as in CI), where that is a failure: a broken build must
not hide behind skips.
"""

import os

import pytest

from purenn import mnist_loader
from purenn.backends import BACKENDS, core_status


def _require_c():
    return os.environ.get("PURENN_REQUIRE_C", "").strip().lower() in ("1", "true", "yes", "on")


def pytest_report_header(config):
    built, detail = core_status()
    return "purenn C core: {} ({}){}".format(
        "built" if built else "NOT built", detail, "; required" if _require_c() else "")


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
