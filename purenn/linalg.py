"""linalg.py -- the few NumPy operations the book's networks use, as plain loops.

Where the book writes one NumPy expression, purenn.network and
purenn.network2 call one of these small functions:

    book (NumPy)                          here
    np.dot(w, a) + b                      weighted_inputs(w, a, b)
    np.dot(w.transpose(), delta)          transpose_times(w, delta)
    np.dot(delta, a.transpose())          outer(delta, a)
    u + v                                 add(u, v)
    u - c * v                             subtract_scaled(u, v, c)
    np.argmax(v)                          argmax(v)
    vectorized_result(j) (np.zeros, e[j]=1)   one_hot(j, n)

Each of them fixes the order in which its numbers are added, because the C
core (csrc/) and the Python engine must add them in exactly that order to
get exactly the same bits:

*   A sum starts from 0.0 and adds its terms from the first index up.
*   Products with an input that is exactly zero are left out of `dot` and
    `outer`: most MNIST pixels are 0, and adding w * 0.0 to a sum changes
    nothing, save that a NaN or infinite weight would poison it.  So a
    non-finite weight meets a zero pixel without harm here (NumPy would
    give NaN); the C core does the same.

Shapes, for a layer of n_in inputs and n_out neurons:
    w   n_out x n_in    w[j][k] is the weight from neuron k to neuron j
    b   n_out           b[j] the bias of neuron j
    a   n_in            the activations coming in
    z   n_out           the weighted inputs, z[j] = w[j] . a + b[j]

    >>> w = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]       # 3 neurons, 2 inputs
    >>> weighted_inputs(w, [1.0, 0.5], [0.0, 0.0, 1.0])
    [2.0, 5.0, 9.0]
    >>> transpose_times(w, [1.0, 0.0, -1.0])
    [-4.0, -4.0]
    >>> outer([2.0, 3.0], [0.5, 0.0])                  # a zero input gives -0.0, added as nothing
    [[1.0, -0.0], [1.5, -0.0]]
    >>> argmax([0.1, 0.7, 0.7]), one_hot(2, 4)
    (1, [0.0, 0.0, 1.0, 0.0])
"""

__all__ = ["dot", "weighted_inputs", "transpose_times", "outer", "add", "subtract_scaled", "argmax", "one_hot"]


def dot(w_j, a):
    """w_j . a, the terms added in index order; terms with a[k] == 0 skipped."""
    total = 0.0
    for w_jk, a_k in zip(w_j, a):
        if a_k != 0.0:
            total += w_jk * a_k
    return total


def weighted_inputs(w, a, b):
    """z = w a + b (the book's np.dot(w, a) + b): n_out numbers."""
    return [dot(w_j, a) + b_j for w_j, b_j in zip(w, b)]


def transpose_times(w, delta):
    """w^T delta (the book's np.dot(w.transpose(), delta)): n_in numbers.

    Entry k is sum over j of w[j][k] * delta[j], added for j = 0, 1, ...
    """
    result = [0.0] * len(w[0])
    for w_j, delta_j in zip(w, delta):
        for k, w_jk in enumerate(w_j):
            result[k] += w_jk * delta_j
    return result


def outer(delta, a):
    """delta a^T (the book's np.dot(delta, a.transpose())): n_out x n_in.

    Where a[k] == 0 the entry is -0.0, not delta_j * 0: x + (-0.0) is x for
    every x, bit for bit, so adding this gradient skips those terms as `dot`
    does.
    """
    return [[delta_j * a_k if a_k != 0.0 else -0.0 for a_k in a] for delta_j in delta]


def add(u, v):
    """u + v, entry by entry."""
    return [u_i + v_i for u_i, v_i in zip(u, v)]


def subtract_scaled(u, v, c):
    """u - c * v, entry by entry: with a gradient v and a rate c, one step of gradient descent."""
    return [u_i - c * v_i for u_i, v_i in zip(u, v)]


def argmax(values):
    """The index of the largest value; the first one on a tie, as np.argmax.
    (Unlike np.argmax, a NaN wins only in first place: NaN > v is false.)"""
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def one_hot(j, n):
    """The n-element list with 1.0 at position j (the book's vectorized_result)."""
    e = [0.0] * n
    e[j] = 1.0
    return e
