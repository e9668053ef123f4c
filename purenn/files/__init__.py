"""Files and formats: what purenn reads and writes, how it reads them within limits and writes them safely.

    atomic       write a file so that it is never seen half-written
    reading      open a file to read only if it is a regular one (never a FIFO or a device)
    idx          IDX files (MNIST's format), plain or gzip, all six element types
    bookpickle   the book's mnist.pkl.gz, without NumPy and without running its code
    pictures     PNG, PGM and PBM pictures; digit grids; digits in the terminal
    handwriting  a picture of a digit -> an MNIST-style 28 x 28 input
    modelfile    the JSON model files the book's network2.save and load use
    network3file the JSON model files of network3 (purenn.network3's save and load)
    plot         charts as SVG (series, log axes, panels, legends); a run's monitored curves
"""
