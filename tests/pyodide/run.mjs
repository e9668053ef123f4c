// Run a Python file in Pyodide under Node.js, offline: tests/test_pyodide.py's driver.
//
//   node tests/pyodide/run.mjs PYODIDE [--wheel FILE]... [--mount HOST=GUEST]... [--env NAME=VALUE]...
//                              (SCRIPT | -m MODULE) [ARG]...
//
// PYODIDE is an npm-installed node_modules/pyodide folder.  Pyodide is loaded from it alone
// (indexURL): its WebAssembly, its standard library; no package of Pyodide's is loaded, so nothing
// is fetched from a CDN (and the CI runs this with no network at all).  Each wheel is a zip,
// unpacked into site-packages by Python's zipfile (no micropip).  Each HOST directory is mounted at
// GUEST with NODEFS: Python reads (and writes) the host's files there.  --env sets os.environ, and
// PYTHONPATH goes before sys.path, as in CPython.  SCRIPT, a path in Pyodide's file system (under a
// mount), runs as __main__ with sys.argv [SCRIPT, ARG...] and no bytecode written; -m MODULE runs
// an installed module so (`-m pytest`).  The exit status is the script's: SystemExit's code, 1 for
// an uncaught exception (its traceback on stderr); a bad command line is one line and status 2.

import fs from "node:fs";
import path from "node:path";

function usage(message) {
    process.stderr.write(`run.mjs: ${message}\n`);
    process.exit(2);
}

function parse(argv) {
    const [pyodide, ...rest] = argv;
    if (!pyodide) {
        usage("usage: run.mjs PYODIDE [--wheel FILE]... [--mount HOST=GUEST]... [--env NAME=VALUE]... "
              + "(SCRIPT | -m MODULE) [ARG]...");
    }
    if (!fs.existsSync(path.join(pyodide, "pyodide.mjs"))) {
        usage(`${pyodide}: no pyodide.mjs there (expected node_modules/pyodide)`);
    }
    const isFile = (p) => fs.statSync(p, { throwIfNoEntry: false })?.isFile();
    const isDirectory = (p) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory();
    const options = { pyodide: path.resolve(pyodide), wheels: [], mounts: [], env: {} };
    while (rest.length && rest[0].startsWith("--")) {
        const [flag, value] = [rest.shift(), rest.shift()];
        if (value === undefined) usage(`${flag} needs a value`);
        if (flag === "--wheel") {
            if (!isFile(value)) usage(`--wheel ${value}: not a file`);
            options.wheels.push(value);
        } else if (flag === "--mount" || flag === "--env") {
            const at = value.indexOf("=");
            const form = flag === "--mount" ? "HOST=GUEST" : "NAME=VALUE";
            if (at < 1) usage(`${flag} ${value}: expected ${form}`);
            const [left, right] = [value.slice(0, at), value.slice(at + 1)];
            if (flag === "--env") options.env[left] = right;
            else if (!isDirectory(left)) usage(`--mount ${value}: ${left} is not a directory`);
            else if (!right.startsWith("/")) usage(`--mount ${value}: ${right} is not an absolute path`);
            else options.mounts.push([path.resolve(left), right]);
        } else usage(`${flag}: not an option (--wheel, --mount, --env)`);
    }
    if (rest[0] === "-m") options.module = rest.shift();
    if (!rest.length) usage(options.module ? "-m needs a MODULE" : "no SCRIPT to run");
    [options.script, ...options.args] = rest;
    return options;
}

const options = parse(process.argv.slice(2));
const { loadPyodide } = await import(path.join(options.pyodide, "pyodide.mjs"));
const started = Date.now();
const pyodide = await loadPyodide({ indexURL: options.pyodide + "/" });
const writer = (fd) => ({ write: (bytes) => fs.writeSync(fd, bytes) });
pyodide.setStdout(writer(1));
pyodide.setStderr(writer(2));
for (const [host, guest] of options.mounts) {
    pyodide.FS.mkdirTree(guest);
    pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: host }, guest);
}
options.wheels.forEach((wheel, i) => pyodide.FS.writeFile(`/tmp/wheel-${i}.whl`, fs.readFileSync(wheel)));
const booted = Date.now();

const status = pyodide.runPython(`
import os, runpy, site, sys, traceback, zipfile
sys.dont_write_bytecode = True  # nothing written into the mounted folders
for i in range(${options.wheels.length}):
    with zipfile.ZipFile("/tmp/wheel-%d.whl" % i) as wheel:
        wheel.extractall(site.getsitepackages()[0])
os.environ.update(ENV)
sys.path[0:0] = [p for p in os.environ.get("PYTHONPATH", "").split(":") if p]  # as CPython reads it
sys.argv = list(ARGV)

def main():
    try:
        if MODULE:
            runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as e:
        code = e.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0

try:
    status = main()
finally:
    sys.stdout.flush()
    sys.stderr.flush()
status
`, { globals: pyodide.toPy({ ENV: options.env, ARGV: [options.script, ...options.args], MODULE: !!options.module }) });
process.stderr.write(`run.mjs: Pyodide ${pyodide.version} booted in ${(booted - started) / 1000} s, `
    + `the script ran in ${(Date.now() - booted) / 1000} s\n`);
process.exit(status);
