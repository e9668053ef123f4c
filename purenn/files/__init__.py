"""Files and formats: what purenn reads and writes, and how it writes them safely.

    atomic       write a file so that it is never seen half-written
    idx          IDX files (MNIST's format), plain or gzip, all six element types
    pictures     PNG, PGM and PBM pictures; digit grids; digits in the terminal
    handwriting  a picture of a digit -> an MNIST-style 28 x 28 input
    modelfile    the JSON model files the book's network2.save and load use
    plot         monitored curves as an SVG chart
"""
