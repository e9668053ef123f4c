"""Scripts written for the book's src/ folder, run on purenn in real processes:
`python -m purenn run SCRIPT` and the folder `python -m purenn path` prints, on
PYTHONPATH.  The oracle for everything that is not the book's names is
python itself: `python SCRIPT` gives the same output, status and traceback."""

import importlib.util
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import purenn  # noqa: E402

# Where the purenn under test lives (a checkout, or an install's site-packages), for the processes' PYTHONPATH.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(purenn.__file__)))
HAS_NETWORK3 = importlib.util.find_spec("purenn.network3") is not None


def _env(pythonpath=(), **extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(list(pythonpath) + [ROOT])  # the purenn under test, whatever is installed
    env.pop("PURENN_BACKEND", None)
    env.update(extra)
    return env


def _shown(script):
    """How python names a script run from its folder in tracebacks: absolute from Python 3.9 on."""
    return str(script) if sys.version_info >= (3, 9) else script.name


def _script(directory, text, name="script.py"):
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def purenn_run(directory, args, **env):
    """`python -m purenn run ARGS...` in `directory`: (status, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "purenn", "run"] + [str(a) for a in args], cwd=str(directory),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          env=_env(**env), timeout=300)
    return done.returncode, done.stdout, done.stderr


def plain_python(directory, args, pythonpath=()):
    done = subprocess.run([sys.executable] + [str(a) for a in args], cwd=str(directory), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=_env(pythonpath), timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_the_purenn_under_test_is_the_one_these_processes_import(tmp_path):
    script = _script(tmp_path, "import purenn; print(purenn.__file__)")
    assert purenn_run(tmp_path, [script.name]) == (0, os.path.join(ROOT, "purenn", "__init__.py") + "\n", "")


#### The book's sessions

def test_the_chapter_1_session_trains_purenns_network(backend, tmp_path):
    script = _script(tmp_path, """\
        import mnist_loader
        training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
        import network
        net = network.Network([784, 30, 10])
        net.SGD(training_data[:1000], 1, 10, 3.0, test_data=test_data[:100])
        print(net.backend)
        """)
    status, out, err = purenn_run(tmp_path, [script.name], PURENN_BACKEND=backend)
    assert (status, err) == (0, "")
    assert re.match(r"Epoch 0: \d+ / 100, [\d.]+% correct, [\d.]+ s\n{}\n\Z".format(backend), out), out


def test_a_chapter_3_script_trains_network2_with_its_options(tmp_path):
    script = _script(tmp_path, """\
        import mnist_loader
        import network2
        training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = net.SGD(
            training_data[:1000], 2, 10, 0.5, lmbda=5.0, evaluation_data=validation_data[:100],
            monitor_evaluation_accuracy=True)
        assert len(evaluation_accuracy) == 2 and evaluation_cost == training_cost == training_accuracy == []
        """)
    status, out, err = purenn_run(tmp_path, [script.name])
    assert (status, err) == (0, "")
    assert re.findall(r"^Accuracy on evaluation data: \d+ / 100$", out, re.M) and out.count("training complete") == 2


def _small_mnist(directory, n_train=120, n_test=20):
    """The first images of the bundled MNIST as a data directory (a sixth of the training file validates)."""
    from purenn import mnist_loader
    from purenn.files.idx import write_idx
    directory.mkdir()
    training, _, test = mnist_loader.load_data()
    for prefix, (images, labels), n in (("train", training, n_train), ("t10k", test, n_test)):
        write_idx(str(directory / "{}-images-idx3-ubyte".format(prefix)),
                  b"".join(bytes(x.pixels) for x in images[:n]), (n, 28, 28))
        write_idx(str(directory / "{}-labels-idx1-ubyte".format(prefix)), labels[:n], (n,))
    return directory


def test_the_chapter_6_session_trains_network3(tmp_path):
    """The book's session, with its data file and epochs given as arguments (a small file, one epoch)."""
    _small_mnist(tmp_path / "data")
    script = _script(tmp_path, """\
        import sys
        import network3
        from network3 import Network
        from network3 import ConvPoolLayer, FullyConnectedLayer, SoftmaxLayer
        training_data, validation_data, test_data = network3.load_data_shared(sys.argv[1])
        mini_batch_size = 10
        net = Network([
            FullyConnectedLayer(n_in=784, n_out=100),
            SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
        net.SGD(training_data, int(sys.argv[2]), mini_batch_size, 0.1, validation_data, test_data)
        """)
    status, out, err = purenn_run(tmp_path, [script.name, "data", "1"])
    assert (status, err) == (0, "")
    assert re.search(r"^Epoch 0: validation accuracy [\d.]+%$", out, re.M), out
    assert "Finished training network." in out and "Corresponding test accuracy of" in out


def test_a_script_in_the_style_of_the_forks_test_py_runs(tmp_path):
    """The fork's test.py: list(training_data), network.Network, then network3's conv nets with ReLU."""
    _small_mnist(tmp_path / "data")
    script = _script(tmp_path, """\
        import sys
        def main():
            import mnist_loader
            training_data, validation_data, test_data = mnist_loader.load_data_wrapper(sys.argv[1])
            training_data = list(training_data)
            import network
            net = network.Network([784, 5, 10])
            net.SGD(training_data, 1, 10, 3.0, test_data=test_data)

            import network3
            from network3 import Network, ConvPoolLayer, FullyConnectedLayer, SoftmaxLayer
            training_data, validation_data, test_data = network3.load_data_shared(sys.argv[1])
            mini_batch_size = 10
            from network3 import ReLU
            net = Network([
                ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28),
                              filter_shape=(4, 1, 5, 5),
                              poolsize=(2, 2),
                              activation_fn=ReLU),
                FullyConnectedLayer(n_in=4*12*12, n_out=20, activation_fn=ReLU),
                SoftmaxLayer(n_in=20, n_out=10)], mini_batch_size)
            net.SGD(training_data, 1, mini_batch_size, 0.03, validation_data, test_data, lmbda=0.1)

        if __name__ == "__main__":
            main()
        """, name="test.py")
    status, out, err = purenn_run(tmp_path, [script.name, "data"])
    assert (status, err) == (0, "")
    assert re.search(r"^Epoch 0: \d+ / 20, ", out, re.M) and "Finished training network." in out, out


#### The names are purenn's modules themselves

_IDENTITY = """\
    import sys
    import purenn.{0}, {0}
    from elements import {0} as e
    from mnist import {0} as m
    import elements.{0}, mnist.{0}
    assert {0} is purenn.{0} is e is m is elements.{0} is mnist.{0} is sys.modules["{0}"], {0}
    """


@pytest.mark.parametrize("name", ["network", "network2", "mnist_loader", "expand_mnist", "mnist_average_darkness",
                                  "mnist_svm"])
def test_each_book_name_and_the_ports_spellings_are_purenns_module(tmp_path, name):
    script = _script(tmp_path, _IDENTITY.format(name))
    assert purenn_run(tmp_path, [script.name]) == (0, "", "")


def test_the_forks_package_imports_its_modules_as_its_init_did(tmp_path):
    script = _script(tmp_path, """\
        import mnist, elements, purenn.mnist_loader, purenn.expand_mnist
        assert mnist.mnist_loader is purenn.mnist_loader and mnist.expand_mnist is purenn.expand_mnist
        assert elements.network.Network is __import__("purenn.network").network.Network
        try:
            elements.sigmoid
        except AttributeError as e:
            print(e)
        try:
            import elements.mnist
        except ImportError as e:
            print(type(e).__name__, e)
        """)
    assert purenn_run(tmp_path, [script.name]) == (
        0, "module 'elements' has no attribute 'sigmoid'\nModuleNotFoundError No module named 'elements.mnist'\n", "")


def test_a_script_that_replaces_the_books_function_changes_what_is_trained(tmp_path):
    script = _script(tmp_path, """\
        import mnist_loader, network
        calls = []
        book_sigmoid = network.sigmoid
        def sigmoid(z):
            calls.append(1)
            return book_sigmoid(z)
        network.sigmoid = sigmoid
        class Counted(network.Network):
            batches = 0
            def update_mini_batch(self, mini_batch, eta):
                Counted.batches += 1
                super().update_mini_batch(mini_batch, eta)
        training_data = mnist_loader.load_data_wrapper()[0][:30]
        net = Counted([784, 5, 10], seed=1)
        net.SGD(training_data, 1, 10, 3.0)
        print(net.backend, Counted.batches, len(calls) > 0)
        """)
    status, out, err = purenn_run(tmp_path, [script.name])
    assert (status, err) == (0, "")
    assert out.splitlines()[-1] == "reference 3 True"


@pytest.mark.skipif(HAS_NETWORK3, reason="purenn.network3 exists: `import network3` is it")
@pytest.mark.parametrize("statement", ["import network3", "from network3 import ConvPoolLayer",
                                       "from elements.network3 import ConvPoolLayer"])
def test_network3_is_an_import_error_that_says_purenn_has_no_network3_yet(tmp_path, statement):
    script = _script(tmp_path, statement + "\n")
    status, out, err = purenn_run(tmp_path, [script.name])
    assert (status, out) == (1, "")
    assert err.startswith("Traceback (most recent call last):\n  File \"{}\", line 1, in <module>\n".format(
        _shown(script)))
    last = err.splitlines()[-1]
    assert re.match(r"ImportError: (elements\.)?network3 is not in this purenn yet \(chapter 6's convolutional "
                    r"networks are still to come\); it has the book's expand_mnist, .*mnist_svm, network and "
                    r"network2\Z", last), last


@pytest.mark.skipif(not HAS_NETWORK3, reason="purenn has no network3 yet")
def test_network3_is_purenns_when_purenn_has_it(tmp_path):
    script = _script(tmp_path, "import network3, purenn.network3\nassert network3 is purenn.network3\n")
    assert purenn_run(tmp_path, [script.name]) == (0, "", "")


def test_a_local_module_of_a_book_name_is_not_used_and_a_warning_names_it(tmp_path):
    (tmp_path / "network.py").write_text("raise RuntimeError('the book's NumPy network.py')\n")
    (tmp_path / "elements").mkdir()
    (tmp_path / "elements" / "__init__.py").write_text("raise RuntimeError('the port's own package')\n")
    script = _script(tmp_path, """\
        import network, purenn.network
        import network
        from elements import network2
        print(network is purenn.network)
        """)
    status, out, err = purenn_run(tmp_path, [script.name])
    assert (status, out) == (0, "True\n")
    assert err.splitlines() == [
        "purenn run: warning: {} is not used: `import network` is purenn's (purenn run --help says how to use your "
        "own)".format(tmp_path / "network.py"),
        "purenn run: warning: {} is not used: `import elements` is purenn's (purenn run --help says how to use your "
        "own)".format(tmp_path / "elements" / "__init__.py")]


#### Everything else is the script's own, as under python

def test_argv_main_file_and_path_are_as_python_gives_them(tmp_path):
    (tmp_path / "sub").mkdir()
    script = _script(tmp_path / "sub", """\
        import os, sys, __main__
        print(sys.argv, __name__, __file__, __main__.__file__, __spec__, sys.path[0], os.getcwd())
        print(__main__.helper() if hasattr(__main__, "helper") else "")
        def helper():
            return "from __main__"
        """)
    args = [os.path.join("sub", script.name), "-h", "--", "x", "--epochs", "3"]
    assert purenn_run(tmp_path, args) == plain_python(tmp_path, args)
    status, out, _ = purenn_run(tmp_path, args)
    assert out.startswith("['sub/script.py', '-h', '--', 'x', '--epochs', '3'] __main__ ")


@pytest.mark.parametrize("ending, status", [("", 0), ("sys.exit(3)", 3), ("sys.exit('no more digits')", 1),
                                            ("sys.exit(None)", 0), ("raise SystemExit(4)", 4),
                                            ("def f():\n    sys.exit(5)\nf()", 5)])
def test_the_exit_status_and_message_are_the_scripts(tmp_path, ending, status):
    script = _script(tmp_path, "import sys\nprint('out')\n" + ending + "\n")
    assert purenn_run(tmp_path, [script.name]) == plain_python(tmp_path, [script.name])
    assert purenn_run(tmp_path, [script.name])[0] == status


def test_an_uncaught_exception_is_the_scripts_traceback_from_its_first_frame(tmp_path):
    _script(tmp_path, "def divide(a, b):\n    return a / b\n", name="helper.py")
    script = _script(tmp_path, """\
        import helper
        def epoch(n):
            try:
                helper.divide(n, 0)
            except ZeroDivisionError as e:
                raise ValueError("bad epoch") from e
        print("before")
        epoch(1)
        """)
    ran = purenn_run(tmp_path, [script.name])
    assert ran == plain_python(tmp_path, [script.name])
    status, out, err = ran
    assert (status, out) == (1, "before\n")
    assert err.count("Traceback (most recent call last):") == 2 and "purenn" not in err


def test_a_purenn_error_in_a_script_is_a_traceback_not_one_line(tmp_path):
    script = _script(tmp_path, "import mnist_loader\nmnist_loader.load_data_wrapper('/nonexistent/mnist')\n")
    status, out, err = purenn_run(tmp_path, [script.name])
    assert (status, out) == (1, "")
    lines = err.splitlines()
    assert lines[:2] == ["Traceback (most recent call last):",
                         '  File "{}", line 2, in <module>'.format(_shown(script))]
    assert lines[-1].startswith("purenn.errors.DataFileError: /nonexistent/mnist")
    assert os.path.join("purenn", "cli") not in err  # no frame of purenn's own command line


def test_a_syntax_error_and_the_scripts_excepthook_are_as_under_python(tmp_path):
    bad = _script(tmp_path, "print('never')\ndef (\n", name="bad.py")
    assert purenn_run(tmp_path, [bad.name]) == plain_python(tmp_path, [bad.name])
    assert purenn_run(tmp_path, [bad.name])[0] == 1
    hooked = _script(tmp_path, """\
        import sys
        sys.excepthook = lambda kind, error, tb: print("hook:", kind.__name__, tb.tb_frame.f_code.co_filename)
        raise KeyError(1)
        """, name="hooked.py")
    assert purenn_run(tmp_path, [hooked.name]) == plain_python(tmp_path, [hooked.name])
    assert purenn_run(tmp_path, [hooked.name]) == (1, "hook: KeyError {}\n".format(_shown(hooked)), "")


def test_ctrl_c_is_the_scripts_keyboard_interrupt_then_status_130(tmp_path):
    script = _script(tmp_path, """\
        import atexit, time
        atexit.register(print, "atexit ran")
        print("ready", flush=True)
        def train():
            time.sleep(60)
        train()
        """)
    process = subprocess.Popen([sys.executable, "-m", "purenn", "run", script.name], cwd=str(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=_env())
    try:
        assert process.stdout.readline() == "ready\n"
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert (process.returncode, out) == (130, "atexit ran\n")
    lines = err.splitlines()
    assert lines[:2] == ["Traceback (most recent call last):",
                         '  File "{}", line 6, in <module>'.format(_shown(script))]
    assert lines[-1] == "KeyboardInterrupt" and "purenn" not in err


@pytest.mark.parametrize("args, message", [
    (["missing.py"], "missing.py: No such file or directory"),
    (["."], ".: is a directory; give a script"),
    ([], "give the script to run: purenn run SCRIPT.py [ARGS...] (see purenn run --help)")])
def test_a_script_that_cannot_be_run_is_one_line_status_2(tmp_path, args, message):
    assert purenn_run(tmp_path, args) == (2, "", "purenn run: error: {}\n".format(message))


#### The sys.path way: the folder `python -m purenn path` prints

def test_the_folder_purenn_path_prints_makes_the_book_names_purenns_under_plain_python(tmp_path):
    done = subprocess.run([sys.executable, "-m", "purenn", "path"], stdout=subprocess.PIPE, env=_env(),
                          universal_newlines=True, check=True)
    folder = done.stdout.rstrip("\n")
    assert os.path.isfile(os.path.join(folder, "network.py")) and done.stdout == folder + "\n"
    script = _script(tmp_path, textwrap.dedent(_IDENTITY.format("network2")) + textwrap.dedent("""\
        import mnist_loader, network
        net = network.Network([784, 10, 10])
        net.SGD(mnist_loader.load_data_wrapper()[0][:50], 1, 10, 3.0)
        try:
            import network3
        except ImportError as e:
            print(e)
        """))
    status, out, err = plain_python(tmp_path, [script.name], pythonpath=[folder])
    assert (status, err) == (0, "")
    assert out.startswith("Epoch 0 complete, ")
    assert ("not in this purenn yet" in out) != HAS_NETWORK3


def test_on_sys_path_a_module_beside_the_script_comes_first_as_python_orders_it(tmp_path):
    folder = os.path.join(ROOT, "purenn", "book", "src")
    (tmp_path / "network.py").write_text("WHOSE = 'mine'\n")
    script = _script(tmp_path, "import network, mnist_loader\nprint(network.WHOSE, mnist_loader.__name__)\n")
    assert plain_python(tmp_path, [script.name], pythonpath=[folder]) == (0, "mine purenn.mnist_loader\n", "")
