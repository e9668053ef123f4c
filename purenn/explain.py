"""explain.py -- chapter 2 on the screen: backpropagation's four equations, with the numbers.

    lines = explain(net, x, y, eta=0.5)      # one training example (x, y) through network2 `net`
    print(render(lines))                     # plain text; render(lines, "markdown") for notes

The book states backpropagation as four equations (chapter 2):

    BP1  delta^L = grad_a C (.) sigma'(z^L)
    BP2  delta^l = ((w^{l+1})^T delta^{l+1}) (.) sigma'(z^l)
    BP3  dC/db^l_j = delta^l_j
    BP4  dC/dw^l_jk = a^{l-1}_k delta^l_j

explain writes out, in the book's notation (layer 1 is the input; w^l_jk
joins neuron k of layer l-1 to neuron j of layer l; indices from 1) and
order: the forward pass, neuron by neuron; the backward pass, each delta as
its product; every gradient; each gradient beside its central difference
(C(p + h) - C(p - h)) / 2h; and one step of gradient descent.  The deltas
and gradients are the network's own `backprop` -- the function SGD uses --
so a subclass that changes backprop changes what is shown, and the check
says when it is wrong.  The factors printed beside a delta are worked out
here from the forward pass, so that a reader can redo the multiplication.
"""

from .linalg import weighted_inputs
from .network2 import ACTIVATIONS

__all__ = ["explain", "render", "AGREE"]

#: the largest relative difference between a gradient and its central difference that counts as agreeing
AGREE = 1e-5


def _n(v):
    return "{:.6g}".format(v)


def _p(v):
    """A number as a factor: in parentheses when negative."""
    return "({})".format(_n(v)) if v < 0 else _n(v)


def _shown(count, neurons):
    """The indices of a layer that are written out: the first `neurons` of `count`."""
    return range(min(count, neurons))


def _more(count, neurons):
    return " ({} more not shown)".format(count - neurons) if count > neurons else ""


def explain(net, x, y, eta=0.5, h=1e-6, neurons=4, terms=4):
    """The trace of one example (x, y) through `net` (a purenn.network2.Network):
    a list of (kind, text), kind "heading" or "line".  `neurons` per layer and
    `terms` per sum are written out; the check covers the parameters shown."""
    out = []
    activations, zs = _forward(net, x)
    out += _forward_lines(net, activations, zs, neurons, terms)
    cost = net.cost.fn(activations[-1], y)
    out.append(("line", "C = {}(a^{}, y) = {}".format(net.cost.__name__, net.num_layers, _n(cost))))
    nabla_b, nabla_w = net.backprop(x, y)
    out += _backward_lines(net, activations, zs, y, nabla_b, neurons, terms)
    out += _gradient_lines(net, activations, nabla_b, nabla_w, neurons)
    out += _check_lines(net, x, y, nabla_b, nabla_w, h, neurons)
    out += _step_lines(net, x, y, nabla_b, nabla_w, eta, cost, neurons)
    return out


#### The forward pass

def _forward(net, x):
    """The activations a^1 (= x) .. a^L and weighted inputs z^2 .. z^L, as SGD computes them."""
    activations, zs = [list(x)], []
    for l, (b, w) in enumerate(zip(net.biases, net.weights)):
        z = weighted_inputs(w, activations[-1], b)
        zs.append(z)
        activations.append(net._activate(l, z))
    return activations, zs


def _function_name(net, l):
    """The name of layer l+2's activation function (l counts weight layers from 0)."""
    if l == net.num_layers - 2:
        return "softmax" if net.cost.output == "softmax" else "sigma"
    return {"sigmoid": "sigma", "tanh": "tanh", "relu": "ReLU"}[net.activation]


def _forward_lines(net, activations, zs, neurons, terms):
    out = [("heading", "The forward pass: z^l = w^l a^(l-1) + b^l, a^l = sigma(z^l)")]
    for l, (w, b, z) in enumerate(zip(net.weights, net.biases, zs)):
        layer, a_in = l + 2, activations[l]
        for j in _shown(len(z), neurons):
            symbols, values = [], []
            for k in _shown(len(a_in), terms):
                symbols.append("w^{0}_{1},{2} a^{3}_{2}".format(layer, j + 1, k + 1, layer - 1))
                values.append("{}*{}".format(_p(w[j][k]), _p(a_in[k])))
            rest = " + ... ({} more terms)".format(len(a_in) - terms) if len(a_in) > terms else ""
            out.append(("line", "z^{0}_{1} = {2}{3} + b^{0}_{1} = {4}{3} + {5} = {6}".format(
                layer, j + 1, " + ".join(symbols), rest, " + ".join(values), _p(b[j]), _n(z[j]))))
            out.append(("line", "a^{0}_{1} = {2}(z^{0}_{1}) = {3}".format(
                layer, j + 1, _function_name(net, l), _n(activations[l + 1][j]))))
        if len(z) > neurons:
            out.append(("line", "... layer {}: {}".format(layer, _more(len(z), neurons).strip(" ()"))))
    return out


#### The backward pass: BP1 and BP2

def _backward_lines(net, activations, zs, y, nabla_b, neurons, terms):
    L = net.num_layers
    out = [("heading", "The backward pass (delta^l_j = dC/dz^l_j, from backprop)")]
    a_out, delta = activations[-1], nabla_b[-1]
    for j in _shown(len(delta), neurons):
        if net.cost.__name__ == "QuadraticCost":
            out.append(("line", "BP1  delta^{0}_{1} = dC/da^{0}_{1} * sigma'(z^{0}_{1}) = (a^{0}_{1} - y_{1}) * "
                                "a^{0}_{1} (1 - a^{0}_{1}) = {2} * {3} = {4}".format(
                                    L, j + 1, _p(a_out[j] - y[j]), _p(a_out[j] * (1.0 - a_out[j])), _n(delta[j]))))
        else:
            out.append(("line", "BP1  delta^{0}_{1} = a^{0}_{1} - y_{1} = {2} - {3} = {4}   ({5}: sigma'(z) "
                                "cancels)".format(L, j + 1, _p(a_out[j]), _p(y[j]), _n(delta[j]),
                                                  net.cost.__name__)))
    for l in range(L - 1, 1, -1):  # the book's layer numbers, going back
        w_next, d_next, d = net.weights[l - 1], nabla_b[l - 1], nabla_b[l - 2]
        for j in _shown(len(d), neurons):
            symbols, values = [], []
            for k in _shown(len(d_next), terms):
                symbols.append("w^{0}_{1},{2} delta^{0}_{1}".format(l + 1, k + 1, j + 1))
                values.append("{}*{}".format(_p(w_next[k][j]), _p(d_next[k])))
            rest = " + ..." if len(d_next) > terms else ""
            prime = _prime(net, activations[l - 1][j])
            out.append(("line", "BP2  delta^{0}_{1} = ({2}{3}) * {4}'(z^{0}_{1}) = ({5}{3}) * {6} = {7}".format(
                l, j + 1, " + ".join(symbols), rest, _function_name(net, l - 2), " + ".join(values), _p(prime),
                _n(d[j]))))
    return out


def _prime(net, a):
    """The hidden activation's derivative f'(z), written in terms of a = f(z) as backprop does."""
    return ACTIVATIONS[net.activation][1](a)


#### BP3 and BP4: the gradients

def _gradient_lines(net, activations, nabla_b, nabla_w, neurons):
    out = [("heading", "The gradients: BP3 dC/db^l_j = delta^l_j, BP4 dC/dw^l_jk = a^(l-1)_k delta^l_j")]
    for l in range(2, net.num_layers + 1):
        nb, nw, a_in = nabla_b[l - 2], nabla_w[l - 2], activations[l - 2]
        for j in _shown(len(nb), neurons):
            out.append(("line", "BP3  dC/db^{0}_{1} = delta^{0}_{1} = {2}".format(l, j + 1, _n(nb[j]))))
            for k in _shown(len(a_in), neurons):
                out.append(("line", "BP4  dC/dw^{0}_{1},{2} = a^{3}_{2} delta^{0}_{1} = {4} * {5} = {6}".format(
                    l, j + 1, k + 1, l - 1, _p(a_in[k]), _p(nb[j]), _n(nw[j][k]))))
    return out


#### The check: each gradient beside its central difference

def _cost(net, x, y):
    activations, _ = _forward(net, x)
    return net.cost.fn(activations[-1], y)


def _central(net, x, y, row, index, h):
    """(C(p + h) - C(p - h)) / 2h for the parameter row[index] (put back as it was)."""
    p = row[index]
    row[index] = p + h
    up = _cost(net, x, y)
    row[index] = p - h
    down = _cost(net, x, y)
    row[index] = p
    return (up - down) / (2.0 * h)


def _check_lines(net, x, y, nabla_b, nabla_w, h, neurons):
    out = [("heading", "The check: each gradient beside (C(p + h) - C(p - h)) / 2h, h = {}".format(_n(h)))]
    worst, disagree, count = 0.0, 0, 0
    for l in range(2, net.num_layers + 1):
        b, w = net.biases[l - 2], net.weights[l - 2]
        for j in _shown(len(b), neurons):
            params = [("dC/db^{}_{}".format(l, j + 1), b, j, nabla_b[l - 2][j])]
            params += [("dC/dw^{}_{},{}".format(l, j + 1, k + 1), w[j], k, nabla_w[l - 2][j][k])
                       for k in _shown(len(w[j]), neurons)]
            for name, row, index, gradient in params:
                estimate = _central(net, x, y, row, index, h)
                scale = max(abs(gradient), abs(estimate))
                relative = abs(gradient - estimate) / scale if scale > 1e-12 else 0.0  # (both zero: agreed)
                worst, count = max(worst, relative), count + 1
                disagree += relative > AGREE
                out.append(("line", "{:<16} backprop {:>13}  central difference {:>13}  relative difference "
                                    "{:.1e}{}".format(name, _n(gradient), _n(estimate), relative,
                                                      "  DISAGREE" if relative > AGREE else "")))
    if disagree:
        out.append(("line", "the check FAILS: {} of {} gradients disagree with their central differences "
                            "(largest relative difference {:.1e}; backprop is wrong)".format(disagree, count, worst)))
    else:
        out.append(("line", "the check passes: all {} gradients agree with their central differences "
                            "(largest relative difference {:.1e}, below {:.0e})".format(count, worst, AGREE)))
    return out


#### The step

def _step_lines(net, x, y, nabla_b, nabla_w, eta, cost, neurons):
    out = [("heading", "One step of gradient descent, eta = {}: w -> w - eta dC/dw, b -> b - eta dC/db".format(
        _n(eta)))]
    weights, biases = net.weights, net.biases
    net.weights = [[[w_jk - eta * g for w_jk, g in zip(w_j, g_j)] for w_j, g_j in zip(w, g)]
                   for w, g in zip(weights, nabla_w)]
    net.biases = [[b_j - eta * g for b_j, g in zip(b, g_l)] for b, g_l in zip(biases, nabla_b)]
    try:
        for l in range(2, net.num_layers + 1):
            for j in _shown(len(biases[l - 2]), neurons):
                out.append(("line", "b^{0}_{1}: {2} -> {3}".format(l, j + 1, _n(biases[l - 2][j]),
                                                                     _n(net.biases[l - 2][j]))))
                for k in _shown(len(weights[l - 2][j]), neurons):
                    out.append(("line", "w^{0}_{1},{2}: {3} -> {4}".format(
                        l, j + 1, k + 1, _n(weights[l - 2][j][k]), _n(net.weights[l - 2][j][k]))))
        after = _cost(net, x, y)
    finally:
        net.weights, net.biases = weights, biases
    out.append(("line", "C: {} -> {} ({})".format(_n(cost), _n(after), "lower" if after < cost else
                                                   "not lower: try a smaller eta" if after > cost else "unchanged")))
    return out


#### Rendering

def render(lines, form="text"):
    """The trace as plain text, or as Markdown (a heading and a code block per part)."""
    if form not in ("text", "markdown"):
        raise ValueError("form: {!r} is neither 'text' nor 'markdown'".format(form))
    out, open_block = [], False
    for kind, text in lines:
        if kind == "heading":
            if form == "markdown":
                if open_block:
                    out.append("```")
                out += ["", "### " + text, "", "```"]
                open_block = True
            else:
                out += (["", text, "-" * len(text)] if out else [text, "-" * len(text)])
        else:
            out.append(text)
    if open_block:
        out.append("```")
    return "\n".join(out).lstrip("\n") + "\n"
