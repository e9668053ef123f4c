"""The pytest plugin for the suite in Pyodide (`-p in_pyodide`; tests/test_pyodide.py gives it).

Pyodide has no processes: a test that starts one gets "OSError: [Errno 138] emscripten does
not support processes" from subprocess, and is reported here as skipped, saying so -- only
that error, nothing else is turned into a skip.  SKIPPED names the other tests left out, each
with its reason.
"""

import pytest

NO_PROCESSES = "emscripten does not support processes"

#: test id (file::name, any parameters) -> why it does not run in Pyodide.
SKIPPED = {
    "test_network3_files.py::test_truncated_json_and_a_device_are_refused_in_one_line":
        "Pyodide's file system has no /dev/zero",
    # Long trainings: what they check (learning, the engine against the reference) needs no
    # Pyodide of its own, and the bits such runs rest on are test_pyodide.py's same_bits.
    "test_network.py::test_learns_digits_from_a_few_thousand_images": "15 s of training in Pyodide",
    "test_network2.py::test_every_option_matches_the_reference_bit_for_bit":
        "70 s of training in Pyodide (same_bits' network2 case compares the engine and the reference there)",
    "test_network2.py::test_every_option_learns": "the trainings of test_every_option_matches_the_reference_bit_for_bit",
    "test_network3.py::test_a_short_run_learns_the_digits": "30 s of training in Pyodide",
    "test_pictures.py::test_digits_drawn_bigger_shifted_inverted_and_in_colour_are_recognised":
        "40 s of training in Pyodide (the module's `trained` network)",
    "test_pictures.py::test_predict_from_the_command_line_saves_what_the_network_saw":
        "the module's `trained` network, 40 s of training in Pyodide",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        test_id = item.nodeid.split("[")[0].split("/")[-1]
        if test_id in SKIPPED:
            item.add_marker(pytest.mark.skip(reason="in Pyodide: " + SKIPPED[test_id]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        return (yield)
    except OSError as e:
        if NO_PROCESSES in str(e):
            pytest.skip("in Pyodide: the test starts a process, and Pyodide has none")
        raise
