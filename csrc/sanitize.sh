#!/usr/bin/env bash
# Build the C core with AddressSanitizer and UndefinedBehaviorSanitizer into a
# scratch virtual environment and run the tests that drive it: the kernel and
# equality tests, the SVM twins, stopping and resuming, and the fuzzed readers.  Any sanitizer report
# fails the run.  Usage: bash csrc/sanitize.sh   (from anywhere)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

libasan=$(gcc -print-file-name=libasan.so)
libubsan=$(gcc -print-file-name=libubsan.so)
[ -f "$libasan" ] && [ -f "$libubsan" ] || { echo "sanitize: gcc's libasan/libubsan not found" >&2; exit 1; }

git clone -q "$root" "$work/src" 2>/dev/null || cp -r "$root" "$work/src"
rm -rf "$work/src/build" "$work/src"/purenn/_core*.so "$work/src"/purenn/backends/_core*.so
$python -m venv "$work/venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1
PURENN_REQUIRE_C=1 \
PURENN_CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
PURENN_LDFLAGS="-fsanitize=address,undefined" \
    "$work/venv/bin/pip" install -q "$work/src[test]" > "$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }

core=$(find "$work/venv" -name "_core*.so" | head -n 1)
# ldd's output is read whole first: `ldd | grep -q` can fail under pipefail when grep
# stops reading early and ldd is killed by SIGPIPE.
libraries=$(ldd "$core")
case "$libraries" in
    *libasan*) ;;
    *) echo "sanitize: $core is not built with AddressSanitizer" >&2; exit 1 ;;
esac
echo "sanitize: $(basename "$core") built with $(printf '%s\n' "$libraries" | grep -oE 'lib(asan|ubsan)[^ ]*' | sort -u | tr '\n' ' ')"

# The interpreter is not built with ASan, so the runtime is preloaded; Python's own
# allocations are not tracked (leak detection off), the core's buffers are.
export LD_PRELOAD="$libasan $libubsan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$work"
PURENN_REQUIRE_C=1 "$work/venv/bin/python" -m pytest -p no:cacheprovider -q \
    "$root/tests/test_backends.py" "$root/tests/test_network2.py" "$root/tests/test_network3_core.py" "$root/tests/test_companions.py" \
    "$root/tests/test_checkpoint.py" "$root/tests/test_fuzz.py" 2>&1 | tee "$work/pytest.log" | tail -n 5
if grep -qE "ERROR: AddressSanitizer|runtime error:" "$work/pytest.log"; then
    echo "sanitize: the sanitizers reported a problem" >&2
    exit 1
fi
echo "sanitize: clean"
