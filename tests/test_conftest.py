"""The suite's own options (tests/conftest.py): --exhaustive runs the cases
marked exhaustive, and --exhaustive-part K/N runs part K of N of them,
so that two of CI's suites (pure CPython 3.8, PyPy) share the long ones (.ci/run)."""

import os
import re
import shutil
import subprocess
import sys

import purenn

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = '''
import pytest

@pytest.mark.exhaustive
@pytest.mark.parametrize("i", range(5))
def test_long(i):
    print("ran long", i)

def test_short():
    pass
'''


OTHER = '''
import pytest

@pytest.mark.exhaustive
def test_other():
    print("ran other")
'''


def _pytest(tmp_path, *options, other=False):
    shutil.copy(os.path.join(HERE, "conftest.py"), str(tmp_path / "conftest.py"))
    (tmp_path / "test_cases.py").write_text(CASES)
    if other:  # collected first: another environment's extra case
        (tmp_path / "test_a_other.py").write_text(OTHER)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(purenn.__file__)))
    env.pop("PURENN_EXHAUSTIVE", None)
    done = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-p", "no:cacheprovider", "-q", "-rs", "-s"]
                          + list(options), cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def _ran(out):
    return sorted(int(i) for i in re.findall(r"ran long (\d)", out))


def test_exhaustive_cases_skip_unless_asked_for(tmp_path):
    status, out, _ = _pytest(tmp_path)
    assert status == 0 and _ran(out) == [] and "1 passed, 5 skipped" in out
    assert "exhaustive: run with --exhaustive" in out
    status, out, _ = _pytest(tmp_path, "--exhaustive")
    assert status == 0 and _ran(out) == [0, 1, 2, 3, 4] and "6 passed" in out


def _parts(tmp_path, other=False):
    runs = []
    for part in ("1/2", "2/2"):
        status, out, _ = _pytest(tmp_path, "--exhaustive", "--exhaustive-part", part, other=other)
        assert status == 0 and "part {} of 2 runs here".format(part[0]) in out
        runs.append(_ran(out))
    return runs


def test_the_parts_share_the_exhaustive_cases_and_together_run_each_once(tmp_path):
    runs = _parts(tmp_path)
    assert runs[0] and runs[1] and sorted(runs[0] + runs[1]) == [0, 1, 2, 3, 4]
    status, out, _ = _pytest(tmp_path, "--exhaustive", "--exhaustive-part", "1/1")
    assert _ran(out) == [0, 1, 2, 3, 4]


def test_a_case_stays_in_its_part_whatever_else_is_collected(tmp_path):
    alone = _parts(tmp_path)
    (tmp_path / "other").mkdir()
    assert _parts(tmp_path / "other", other=True) == alone


def test_a_bad_part_is_a_usage_error(tmp_path):
    for bad in ("0/2", "3/2", "1", "a/b"):
        status, out, err = _pytest(tmp_path, "--exhaustive", "--exhaustive-part", bad)
        assert status == 4 and "argument --exhaustive-part: {!r} is not K/N".format(bad) in err and _ran(out) == [], (bad, err)
