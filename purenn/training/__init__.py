"""What a long training run needs beyond the book's loop, written once for every network.

    run          the one training run: backend, epochs, stop and resume, progress,
                 timing, divergence checks, monitoring, early stopping, the schedule
    run3         network3.SGD's hooks: stop, progress, checkpoints within an epoch, resume
    state        the state a stopped run carries, and its checks
    checkpoint   checkpoint files: a network with the state of its run
    checks       argument checks, each naming the argument at fault
    progress     the one-line progress report on a terminal
"""
