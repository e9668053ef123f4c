"""`python -m purenn bench3`: time the book's chapter-6 conv nets, against PyTorch.

For the book's conv1 (20 5 x 5 filters, pool 2 x 2, 100 sigmoid neurons,
softmax) and conv2 (a second conv-pool layer of 40 filters before them), it
prints the seconds one epoch of SGD takes (50,000 images, mini-batch 10,
eta 0.1): the reference (timed on a few mini-batches and scaled -- it is
slow), the C core on each thread count of --threads and, when PyTorch is
installed, the same nets in PyTorch on the CPU (float32, torch.optim.SGD,
mini-batch 10, the same thread counts), each with its ratio to PyTorch at the
same thread count.

purenn runs SGD as network3.SGD does: a C call per mini-batch, from Python,
on the packed training images; PyTorch runs its usual loop (zero_grad,
forward, cross-entropy, backward, step) on one float32 tensor of the images.
Times are CPU seconds of the process (time.process_time; for several threads
that is the sum over them) and wall-clock seconds, the best of --repeats; the
C core's and PyTorch's repeats take turns (C, PyTorch, C, ...), so that a slow
spell of a shared machine falls on both, not on one.  The machine's other work
disturbs the wall-clock times more.  Last, a training
process of conv2 on the C core is started on its own, and its peak memory
(VmHWM) printed.
"""

import contextlib
import io
import os
import subprocess
import sys
import time

from .. import network3
from ..network3 import ConvPoolLayer, Network, SoftmaxLayer
from .layers import build_layers, parse_layers
from .options import add_data_option, positive_int
from .train3 import RUNS

__all__ = ["add_parser", "run", "conv_net", "NETS"]

#: The nets timed: two of the book's chapter-6 runs (train3.RUNS), whose layers are written there.
NETS = ("conv1", "conv2")
MINI_BATCH, ETA, EPOCH = 10, 0.1, 50000


def conv_net(name, backend, threads=None, seed=0):
    """The book's run `name` (train3.RUNS) as a purenn.network3 Network, for 28 x 28 images."""
    layers = build_layers(parse_layers(RUNS[name][0]), MINI_BATCH, (28, 28), 10)
    return Network(layers, MINI_BATCH, seed=seed, backend=backend, threads=threads)


def _best(repeats, *runs):
    """For each of runs, (CPU seconds, wall seconds) per epoch, each the least of
    `repeats` calls; the runs take turns, one call each per round."""
    cpu, wall = [[] for _ in runs], [[] for _ in runs]
    for _ in range(repeats):
        for i, (run, scale) in enumerate(runs):
            c, w = time.process_time(), time.perf_counter()
            run()
            cpu[i].append((time.process_time() - c) * scale)
            wall[i].append((time.perf_counter() - w) * scale)
    return [(min(c), min(w)) for c, w in zip(cpu, wall)]


def _time_purenn(name, backend, threads, xs, ys, batches):
    """(run, scale): `batches` of SGD's mini-batches on `backend`, and the factor to an epoch."""
    net = conv_net(name, backend, threads)
    core = net._core()
    trainer = core.Trainer(net, xs, ys) if core is not None else None
    masks = None

    def run():
        for i in range(batches):
            batch = list(range(i * MINI_BATCH, (i + 1) * MINI_BATCH))
            if trainer is not None:
                trainer.update_mini_batch(batch, ETA, 0.0, EPOCH // MINI_BATCH, masks)
            else:
                net.update_mini_batch([xs[k] for k in batch], [ys[k] for k in batch], ETA, 0.0, EPOCH // MINI_BATCH)
    return run, EPOCH / (batches * MINI_BATCH)


def _torch_net(torch, name):
    """The same layers in PyTorch: Conv2d, MaxPool2d and the activation for each
    ConvPoolLayer; Linear and the activation for a FullyConnectedLayer; Linear for
    the SoftmaxLayer (CrossEntropyLoss applies the softmax)."""
    nn = torch.nn
    functions = {"sigmoid": nn.Sigmoid, "ReLU": nn.ReLU, "tanh": nn.Tanh, "linear": nn.Identity}
    modules, flat = [], False
    for layer in conv_net(name, "reference").layers:
        if isinstance(layer, ConvPoolLayer):
            filters, maps, fh, fw = layer.filter_shape
            modules += [nn.Conv2d(maps, filters, (fh, fw)), nn.MaxPool2d(layer.poolsize)]
        else:
            modules += [] if flat else [nn.Flatten()]
            modules.append(nn.Linear(layer.n_in, layer.n_out))
            flat = True
        if not isinstance(layer, SoftmaxLayer):
            modules.append(functions[layer.activation_fn.__name__]())
    return nn.Sequential(*modules)


def _time_torch(torch, name, threads, images, labels, batches):
    """(run, scale) as _time_purenn's, for PyTorch on `threads` threads."""
    torch.manual_seed(0)
    net = _torch_net(torch, name)
    optimiser = torch.optim.SGD(net.parameters(), lr=ETA)
    loss = torch.nn.CrossEntropyLoss()

    def run():
        torch.set_num_threads(threads)
        for i in range(batches):
            x, y = images[i * MINI_BATCH:(i + 1) * MINI_BATCH], labels[i * MINI_BATCH:(i + 1) * MINI_BATCH]
            optimiser.zero_grad()
            loss(net(x), y).backward()
            optimiser.step()
    return run, EPOCH / (batches * MINI_BATCH)


def _memory_of_a_conv2_run(data_dir, batches):
    """The peak memory (MB) of a process that loads MNIST and trains conv2 on the C core."""
    code = ("import sys; from purenn.cli import bench3; sys.exit(bench3._conv2_process({!r}, {}))".format(
        data_dir, batches))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(network3.__file__)))
    done = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, universal_newlines=True)
    return done.stdout.strip() if done.returncode == 0 else None


def _conv2_process(data_dir, batches):
    """What SGD holds in a conv2 run (the data loaded, the 50,000 images packed for the
    core, the validation images packed to be evaluated), for `batches` mini-batches."""
    from .bench import peak_rss_mb
    training, validation, _ = network3.load_data_shared(data_dir)
    net = conv_net("conv2", "c")
    trainer = net._core().Trainer(net, *training)
    for i in range(batches):
        trainer.update_mini_batch(range(i * MINI_BATCH, (i + 1) * MINI_BATCH), ETA, 0.0, EPOCH // MINI_BATCH, None)
    trainer.end_epoch()
    if len(validation[0]) >= MINI_BATCH:
        net.accuracy(validation)
    print("{:.0f}".format(peak_rss_mb()))
    return 0


def _ratio(seconds, peer):
    return "{:.2f}x PyTorch's time".format(seconds / peer) if peer else ""


def run_bench3(xs, ys, names, threads, batches, reference_batches, repeats, torch_wanted, data_dir, out):
    say = lambda text="": print(text, file=out, flush=True)  # noqa: E731
    torch = _import_torch() if torch_wanted else None
    say("purenn bench3: seconds per epoch of {:,} images, mini-batch {}, eta {}; CPU seconds (process_time, "
        "all threads), wall in brackets; best of {}".format(EPOCH, MINI_BATCH, ETA, repeats))
    say("python {}; PyTorch {}".format(sys.version.split()[0], torch.__version__ if torch else "not timed"))
    if torch is not None:
        images = torch.tensor([list(x) for x in xs[:batches * MINI_BATCH]], dtype=torch.float32)
        images, labels = images.reshape(-1, 1, 28, 28), torch.tensor(ys[:batches * MINI_BATCH])
    for name in names:
        (cpu, wall), = _best(1, _time_purenn(name, "reference", None, xs, ys, reference_batches))
        say("{:<6} reference ({} mini-batches, scaled)  {:>9.1f} s  ({:.1f})".format(
            name, reference_batches, cpu, wall))
        for t in threads:
            runs = [_time_purenn(name, "c", t, xs, ys, batches)]
            runs += [_time_torch(torch, name, t, images, labels, batches)] if torch else []
            (cpu, wall), peer = (_best(repeats, *runs) + [(None, None)])[:2]
            say("{:<6} C core, {} thread(s)                {:>9.2f} s  ({:.2f})  {} (wall {})".format(
                name, t, cpu, wall, _ratio(cpu, peer[0]), _ratio(wall, peer[1]) or "-"))
            if torch:
                say("{:<6} PyTorch, {} thread(s), float32       {:>9.2f} s  ({:.2f})".format(name, t, *peer))
    say("peak memory of a conv2 training process on the C core (MNIST loaded, the training images packed, "
        "{} mini-batches, the validation accuracy): {} MB".format(
            batches, _memory_of_a_conv2_run(data_dir, batches) or "not measured"))


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def add_parser(commands):
    parser = commands.add_parser(
        "bench3", help="time the book's chapter-6 conv nets: reference, C core, PyTorch",
        description="Seconds per epoch (50,000 images, mini-batch 10) of the book's conv1 and conv2 nets: "
                    "the reference (scaled from a few mini-batches), the C core on each thread count and, "
                    "when installed, PyTorch on the CPU at the same thread counts, with ratios.")
    parser.add_argument("--nets", default="conv1,conv2", metavar="NAME,...", help="of conv1, conv2 (default both)")
    parser.add_argument("--threads", default="1,2", metavar="N,...", help="thread counts (default 1,2)")
    parser.add_argument("--mini-batches", type=positive_int, default=500, metavar="N",
                        help="mini-batches timed on the C core and PyTorch (default 500), scaled to an epoch")
    parser.add_argument("--reference-mini-batches", type=positive_int, default=2, metavar="N",
                        help="mini-batches timed on the reference (default 2)")
    parser.add_argument("--repeats", type=positive_int, default=5, metavar="N", help="best of N (default 5)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    add_data_option(parser)
    return parser


def _list(parser, text, option, allowed=None):
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        parser.error("argument {}: empty".format(option))
    for item in items:
        if allowed is not None and item not in allowed:
            parser.error("argument {}: {!r} is not one of {}".format(option, item, ", ".join(allowed)))
    return items


def run(args, parser, argv):
    names = _list(parser, args.nets, "--nets", NETS)
    threads = []
    for item in _list(parser, args.threads, "--threads"):
        if not item.isdigit() or not 1 <= int(item) <= 64:
            parser.error("argument --threads: {!r} is not a number of threads from 1 to 64".format(item))
        threads.append(int(item))
    data_dir = getattr(args, "data", None)
    training, _, _ = network3.load_data_shared(data_dir)
    need = max(args.mini_batches, args.reference_mini_batches) * MINI_BATCH
    if need > len(training[0]):
        parser.error("argument --mini-batches: {} mini-batches need {} images; the data has {}".format(
            args.mini_batches, need, len(training[0])))
    run_bench3(training[0], training[1], names, threads, args.mini_batches, args.reference_mini_batches,
               args.repeats, not args.no_torch, data_dir, sys.stdout)
    return 0
