"""Build purenn.backends._core, the C core, with cffi (API mode, out of line).

setup.py names this file in `cffi_modules`; it can also be run by hand:
`python csrc/build_core.py` builds purenn/backends/_core*.so in place.

The header purenn.h is both the C header and the cffi declaration; the
core's sources, one file per subject, are SOURCES (internal.h is what they
share).
The flags matter: -ffp-contract=off forbids fusing a*b+c into one rounding
(FMA), which would change bits; -ffast-math (reordering sums) is never used.
PURENN_CFLAGS / PURENN_LDFLAGS add flags (the sanitizer build uses them).
"""

import os
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

# The vector kernels, the elementary functions, whole networks, the chapter-6 network, the SVM
# baseline: each a .c file here.
SOURCES = ["kernels.c", "elementary.c", "network.c", "network3.c", "svm.c"]


def _cdef():
    with open(os.path.join(HERE, "purenn.h")) as f:
        return f.read()


def _compile_args():
    if sys.platform == "win32":
        return ["/O2", "/fp:precise"]
    extra = os.environ.get("PURENN_CFLAGS", "").split()
    # The vectoriser may run loops across independent outputs side by side
    # (it never reorders one sum without -ffast-math); its "dynamic" cost
    # model lets it do so for loops whose length is only known at run time.
    return ["-O2", "-ffp-contract=off", "-fno-fast-math", "-std=c99",
            "-ftree-vectorize", "-fvect-cost-model=dynamic", "-pthread"] + extra


ffibuilder = FFI()
ffibuilder.cdef(_cdef())
ffibuilder.set_source(
    "purenn.backends._core",
    '#include "purenn.h"',
    sources=[os.path.relpath(os.path.join(HERE, name)) for name in SOURCES],
    include_dirs=[HERE],
    extra_compile_args=_compile_args(),
    extra_link_args=([] if sys.platform == "win32" else ["-pthread"]) + os.environ.get("PURENN_LDFLAGS", "").split(),
    libraries=[] if sys.platform == "win32" else ["m"],
)

if __name__ == "__main__":
    os.chdir(os.path.dirname(HERE))
    ffibuilder.compile(verbose=True)
