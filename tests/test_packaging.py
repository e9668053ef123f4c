"""The build backend (csrc/build_backend.py): with PURENN_PURE_PYTHON=1 it asks
for nothing and writes the wheel setuptools would -- every module, the bundled
MNIST, setup.py's metadata, a true RECORD -- with the standard library alone."""

import base64
import email.parser
import hashlib
import importlib.util
import os
import zipfile

import pytest

import purenn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST_INFO = "purenn-{}.dist-info/".format(purenn.__version__)


@pytest.fixture
def backend(monkeypatch):
    monkeypatch.setenv("PURENN_PURE_PYTHON", "1")
    monkeypatch.delenv("PURENN_REQUIRE_C", raising=False)
    monkeypatch.chdir(ROOT)  # as a frontend runs it
    spec = importlib.util.spec_from_file_location("build_backend", os.path.join(ROOT, "csrc", "build_backend.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_pure_build_asks_for_nothing_and_a_c_build_for_setuptools_and_cffi(backend, monkeypatch):
    assert backend.get_requires_for_build_wheel() == [] == backend.get_requires_for_build_editable()
    monkeypatch.delenv("PURENN_PURE_PYTHON")
    for requirements in (backend.get_requires_for_build_wheel(), backend.get_requires_for_build_editable()):
        assert {r.split(">")[0] for r in requirements} == {"setuptools", "wheel", "cffi"}


def _open(directory, name):
    wheel = zipfile.ZipFile(os.path.join(str(directory), name))
    for line in wheel.read(DIST_INFO + "RECORD").decode().splitlines():
        path, digest, size = line.split(",")
        if path != DIST_INFO + "RECORD":
            data = wheel.read(path)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert int(size) == len(data), path
    assert sorted(wheel.namelist()) == sorted(line.split(",")[0] for line in
                                              wheel.read(DIST_INFO + "RECORD").decode().splitlines())
    return wheel


def _metadata(wheel):
    return email.parser.Parser().parsestr(wheel.read(DIST_INFO + "METADATA").decode("utf-8"))


def test_the_pure_wheel_holds_every_module_and_the_bundled_mnist(backend, tmp_path):
    name = backend.build_wheel(str(tmp_path))
    assert name == "purenn-{}-py3-none-any.whl".format(purenn.__version__)
    modules = {os.path.relpath(os.path.join(directory, f), ROOT).replace(os.sep, "/")
               for directory, dirs, files in os.walk(os.path.join(ROOT, "purenn"))
               for f in files if f.endswith(".py") and "__pycache__" not in directory}
    data = {"purenn/data/" + f for f in os.listdir(os.path.join(ROOT, "data"))
            if f.endswith("-ubyte.gz") or f.startswith("MD5SUMS.")}
    assets = {"purenn/web/assets/" + f for f in ("index.html", "page.js", "page.css")}  # the page, in its folder
    with _open(tmp_path, name) as wheel:
        assert {n for n in wheel.namelist() if not n.startswith(DIST_INFO)} == modules | data | assets
        assert len(data) == 6
        assert "Root-Is-Purelib: true" in wheel.read(DIST_INFO + "WHEEL").decode().splitlines()
        assert "purenn = purenn.__main__:run" in wheel.read(DIST_INFO + "entry_points.txt").decode()
        metadata = _metadata(wheel)
    assert (metadata["Name"], metadata["Version"], metadata["Requires-Python"]) == ("purenn", purenn.__version__, ">=3.8")
    assert metadata.get_all("Provides-Extra") == ["test"]
    assert metadata.get_all("Requires-Dist") == ['pytest>=6; extra == "test"', 'hypothesis>=6; extra == "test"']
    assert metadata.get_payload().startswith("# purenn")  # the README


def test_the_pure_editable_wheel_puts_the_source_tree_on_the_path(backend, tmp_path):
    name = backend.build_editable(str(tmp_path))
    with _open(tmp_path, name) as wheel:
        pth = [n for n in wheel.namelist() if not n.startswith(DIST_INFO)]
        assert pth == ["__editable__.purenn-{}.pth".format(purenn.__version__)]
        assert wheel.read(pth[0]).decode() == ROOT + "\n"
        assert _metadata(wheel)["Name"] == "purenn"
        assert "purenn = purenn.__main__:run" in wheel.read(DIST_INFO + "entry_points.txt").decode()
