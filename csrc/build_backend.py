"""purenn's PEP 517 build backend (pyproject.toml: build-backend, backend-path).

With PURENN_PURE_PYTHON=1 it needs nothing but the standard library: it asks
for no build requirements and writes the pure-Python wheel (or the editable
one) itself, so `PURENN_PURE_PYTHON=1 pip install --no-index .` works where no
package index can be reached -- even in a venv with no setuptools at all.
Otherwise every hook is setuptools.build_meta's, asked for with setuptools,
wheel and cffi (setup.py builds the C core, csrc/build_core.py), as before.

The wheel's contents and metadata are setup.py's: setup.py is run with a
stand-in for setuptools that keeps the arguments of setup(), and the packages,
package_data, extras and entry points given there are written out, as
setuptools writes them (a py3-none-any wheel, Root-Is-Purelib).  The
pure editable wheel is the metadata and a .pth naming the source tree, where
the loader finds ./data.  An sdist is the same in both modes (the choice is
made when it is installed), so it is always setuptools'.

It lives in csrc/ beside build_core.py, with the rest of what builds purenn:
the top level holds only the package, its sources, tests and data, and the
packaging metadata, and csrc/ ships in the sdist (MANIFEST.in).
"""

import base64
import glob
import hashlib
import os
import runpy
import sys
import types
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIRES = ["setuptools>=64", "wheel", "cffi>=1.12"]  # 64: the first with build_editable


def _pure():  # as setup.py reads it
    return os.environ.get("PURENN_PURE_PYTHON", "").strip().lower() in ("1", "true", "yes", "on")


def _setuptools():
    from setuptools import build_meta
    return build_meta


def get_requires_for_build_wheel(config_settings=None):
    return [] if _pure() else list(REQUIRES)


def get_requires_for_build_editable(config_settings=None):
    return [] if _pure() else list(REQUIRES)


def get_requires_for_build_sdist(config_settings=None):
    return ["setuptools>=64"]


def build_sdist(sdist_directory, config_settings=None):
    return _setuptools().build_sdist(sdist_directory, config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    if not _pure():
        return _setuptools().prepare_metadata_for_build_wheel(metadata_directory, config_settings)
    return _write_metadata(metadata_directory)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    if not _pure():
        return _setuptools().prepare_metadata_for_build_editable(metadata_directory, config_settings)
    return _write_metadata(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if not _pure():
        return _setuptools().build_wheel(wheel_directory, config_settings, metadata_directory)
    return _write_wheel(wheel_directory, editable=False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    if not _pure():
        return _setuptools().build_editable(wheel_directory, config_settings, metadata_directory)
    return _write_wheel(wheel_directory, editable=True)


# The pure-Python wheel.

def _setup_arguments():
    """The keyword arguments setup.py gives setup(), setuptools standing aside."""
    given = {}
    setuptools = types.ModuleType("setuptools")
    setuptools.setup = given.update
    build_ext = types.ModuleType("setuptools.command.build_ext")
    build_ext.build_ext = object  # setup.py's optional_build_ext subclasses it; unused here
    stand_ins = {"setuptools": setuptools, "setuptools.command.build_ext": build_ext}
    saved = {name: sys.modules.get(name) for name in stand_ins}
    sys.modules.update(stand_ins)
    try:
        runpy.run_path(os.path.join(ROOT, "setup.py"), run_name="__main__")
    finally:
        for name, module in saved.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module
    return given


def _dist_info(setup):
    return "{name}-{version}.dist-info".format(**setup)


def _metadata_files(setup):
    """The .dist-info files but RECORD: {name inside the wheel: text}."""
    dist_info = _dist_info(setup) + "/"
    lines = ["Metadata-Version: 2.1", "Name: " + setup["name"], "Version: " + setup["version"],
             "Summary: " + setup["description"], "License: " + setup["license"]]
    lines += ["Classifier: " + c for c in setup.get("classifiers", [])]
    lines += ["Requires-Python: " + setup["python_requires"],
              "Description-Content-Type: " + setup["long_description_content_type"]]
    lines += ["Requires-Dist: " + r for r in setup.get("install_requires", [])]
    for extra, requirements in sorted(setup.get("extras_require", {}).items()):
        lines.append("Provides-Extra: " + extra)
        lines += ["Requires-Dist: " + _for_extra(r, extra) for r in requirements]
    entry_points = "".join("[{}]\n{}\n\n".format(group, "\n".join(entries))
                           for group, entries in sorted(setup.get("entry_points", {}).items()))
    tops = sorted({package.split(".")[0] for package in setup["packages"]})
    return {
        dist_info + "METADATA": "\n".join(lines) + "\n\n" + setup["long_description"],
        dist_info + "WHEEL": "Wheel-Version: 1.0\nGenerator: purenn (csrc/build_backend.py)\n"
                             "Root-Is-Purelib: true\nTag: py3-none-any\n",
        dist_info + "entry_points.txt": entry_points,
        dist_info + "top_level.txt": "".join(top + "\n" for top in tops),
    }


def _for_extra(requirement, extra):
    """'pytest>=6' -> 'pytest>=6; extra == "test"'; a marker it has already is kept, and-ed."""
    name, _, marker = requirement.partition(";")
    condition = 'extra == "{}"'.format(extra)
    return "{}; {}".format(name.strip(), "({}) and {}".format(marker.strip(), condition) if marker else condition)


def _write_metadata(metadata_directory):
    setup = _setup_arguments()
    os.makedirs(os.path.join(metadata_directory, _dist_info(setup)), exist_ok=True)
    for name, text in _metadata_files(setup).items():
        with open(os.path.join(metadata_directory, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return _dist_info(setup)


def _source_dir(package, package_dir):
    """Where a package's files are: setuptools' rule, the longest prefix named in package_dir."""
    parts = package.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in package_dir:
            return os.path.join(ROOT, package_dir[".".join(parts[:n])], *parts[n:])
    return os.path.join(ROOT, package_dir.get("", ""), *parts)


def _package_files(setup):
    """{name inside the wheel: path}: each package's modules (*.py) and its package_data."""
    files = {}
    for package in setup["packages"]:
        source = _source_dir(package, setup.get("package_dir", {}))
        for pattern in ["*.py"] + list(setup.get("package_data", {}).get(package, [])):
            for path in glob.glob(os.path.join(source, pattern)):
                if os.path.isfile(path):  # kept where it is in the package: assets/page.js stays in assets/
                    inside = os.path.relpath(path, source).replace(os.sep, "/")
                    files["/".join(package.split(".") + [inside])] = path
    return files


def _write_wheel(wheel_directory, editable):
    setup = _setup_arguments()
    contents = {}  # name inside the wheel: bytes
    if editable:
        contents["__editable__.{name}-{version}.pth".format(**setup)] = (ROOT + "\n").encode("utf-8")
    else:
        for name, path in sorted(_package_files(setup).items()):
            with open(path, "rb") as f:
                contents[name] = f.read()
    for name, text in _metadata_files(setup).items():
        contents[name] = text.encode("utf-8")
    dist_info = _dist_info(setup) + "/"
    record = ["{},sha256={},{}".format(name, base64.urlsafe_b64encode(hashlib.sha256(data).digest())
                                       .rstrip(b"=").decode("ascii"), len(data))
              for name, data in contents.items()]
    contents[dist_info + "RECORD"] = "".join(line + "\n" for line in record + [dist_info + "RECORD,,"]).encode()
    wheel_name = "{name}-{version}-py3-none-any.whl".format(**setup)
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in contents.items():
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # the same bytes every build
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    print("purenn: built {} (pure Python, no build requirements)".format(wheel_name), file=sys.stderr)
    return wheel_name
