"""Install purenn: the pure-Python package, the bundled MNIST, and -- where a
C compiler and cffi are at hand -- the C core (csrc/, module purenn.backends._core).

Environment variables:
    PURENN_PURE_PYTHON=1   do not build the C core (and do not depend on cffi)
    PURENN_REQUIRE_C=1     fail the install if the C core cannot be built
    PURENN_CFLAGS, PURENN_LDFLAGS   extra flags for the core (csrc/build_core.py)
"""

import os
import re
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def _flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


PURE = _flag("PURENN_PURE_PYTHON")
REQUIRE_C = _flag("PURENN_REQUIRE_C")
if PURE and REQUIRE_C:
    sys.exit("purenn: PURENN_PURE_PYTHON=1 and PURENN_REQUIRE_C=1 contradict each other")


def _version():
    with open(os.path.join(HERE, "purenn", "__init__.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


def _say(message):
    print("purenn: " + message, file=sys.stderr)


class optional_build_ext(build_ext):
    """Build the C core if possible; without a compiler, install pure Python only."""

    def run(self):
        try:
            super().run()
        except Exception as e:  # no compiler, missing headers, a failing linker, ...
            self._failed(e)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:
            self._failed(e)
        else:
            _say("built the C core ({})".format(ext.name))

    def _failed(self, error):
        if REQUIRE_C:
            raise error
        _say("the C core could not be built ({}: {}); installing the pure-Python "
             "reference only".format(type(error).__name__, error))


# Only a build says what it builds: pip also runs this file to ask for the
# build requirements (cffi), before cffi is there.
BUILDING = any(command in sys.argv for command in
               ("build", "build_ext", "bdist_wheel", "editable_wheel", "install", "develop"))

options = {}
if PURE:
    if BUILDING:
        _say("PURENN_PURE_PYTHON is set: installing the pure-Python reference only")
else:
    try:
        import cffi  # noqa: F401
    except ImportError:
        if REQUIRE_C and BUILDING:
            sys.exit("purenn: PURENN_REQUIRE_C=1 but cffi is not installed")
        if BUILDING:
            _say("cffi is not available: installing the pure-Python reference only")
    else:
        options = dict(cffi_modules=["csrc/build_core.py:ffibuilder"], install_requires=["cffi>=1.12"])

with open(os.path.join(HERE, "README.md")) as f:
    long_description = f.read()

setup(
    name="purenn",
    version=_version(),
    description="Nielsen's neural networks in plain Python, with an optional bit-for-bit C core",
    long_description=long_description,
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.8",
    # purenn.book.src is a folder of modules for sys.path (the book's names), not a package
    packages=["purenn", "purenn.backends", "purenn.book", "purenn.book.src", "purenn.cli", "purenn.files",
              "purenn.training", "purenn.figures", "purenn.web", "purenn.micro", "purenn.data"],
    package_dir={"purenn": "purenn", "purenn.data": "data"},
    package_data={"purenn.data": ["*-ubyte.gz", "MD5SUMS.*.txt"], "purenn.web": ["assets/*"]},
    # Asking for cffi while building lets pip fetch it into the build
    # environment; PURENN_PURE_PYTHON=1 asks for nothing.
    setup_requires=[] if PURE else ["cffi>=1.12"],
    extras_require={"test": ["pytest>=6", "hypothesis>=6"]},
    entry_points={"console_scripts": ["purenn = purenn.__main__:run"]},
    cmdclass={"build_ext": optional_build_ext},
    zip_safe=False,
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: Implementation :: CPython",
        "Programming Language :: Python :: Implementation :: PyPy",
        "Programming Language :: C",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
    **options
)
