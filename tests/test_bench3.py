"""`python -m purenn bench3`: the conv nets timed on the reference and the C core's
threads (PyTorch left out here: --no-torch), the memory of a conv2 process."""

import re

import pytest

from purenn import cli
from purenn.network3 import _rows

from test_cli import run_main, small_mnist  # noqa: F401 (a fixture)


def test_bench3_times_the_reference_and_each_thread_count_and_a_conv2_process(core, small_mnist, capsys):  # noqa: F811
    status, out, err = run_main(["bench3", "--data", small_mnist, "--nets", "conv1", "--threads", "1,2",
                                 "--mini-batches", "3", "--reference-mini-batches", "1", "--repeats", "1",
                                 "--no-torch"], capsys)
    assert status == 0, err
    assert "PyTorch not timed" in out
    assert re.search(r"^conv1  reference \(1 mini-batches, scaled\) +\d+\.\d s  \(\d+\.\d\)$", out, re.M)
    for threads in (1, 2):
        assert re.search(r"^conv1  C core, {} thread\(s\) +\d+\.\d\d s  \(\d+\.\d\d\)".format(threads), out, re.M)
    assert "conv2" not in out.split("peak memory")[0]
    assert re.search(r"peak memory of a conv2 training process .*: \d+ MB$", out, re.M)


@pytest.mark.parametrize("args, message", [
    (["--nets", "conv9"], "argument --nets: 'conv9' is not one of conv1, conv2"),
    (["--nets", ","], "argument --nets: empty"),
    (["--threads", "0"], "argument --threads: '0' is not a number of threads from 1 to 64"),
    (["--threads", "two"], "argument --threads: 'two' is not a number of threads from 1 to 64"),
    (["--mini-batches", "51"], "argument --mini-batches: 51 mini-batches need 510 images; the data has 500"),
])
def test_bench3_bad_arguments_are_one_line(small_mnist, capsys, args, message):  # noqa: F811
    with pytest.raises(SystemExit) as info:
        cli.main(["bench3", "--data", small_mnist, "--no-torch"] + args)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err
    assert message in err.strip().splitlines()[-1], err


@pytest.mark.parametrize("name", ["conv1", "conv2"])
def test_the_pytorch_peer_is_the_same_network(name):
    torch = pytest.importorskip("torch")
    from purenn.cli import bench3
    peer, net = bench3._torch_net(torch, name), bench3.conv_net(name, "reference")
    ours = sum(len(row) for layer in net.layers for row in _rows(layer.w)) + sum(len(layer.b) for layer in net.layers)
    assert sum(p.numel() for p in peer.parameters()) == ours
    assert peer(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
