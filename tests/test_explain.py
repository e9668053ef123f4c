"""`purenn explain`: backpropagation's four equations with the numbers, checked
against a [2, 2, 1] example worked on paper, against central differences,
and against a deliberately broken backprop."""

import subprocess
import sys

from purenn import network2
from purenn.explain import explain, render


def worked_net():
    """The network worked on paper: x = (1, 0.5), y = 1, sigmoid neurons, the quadratic cost."""
    net = network2.Network([2, 2, 1], cost=network2.QuadraticCost, seed=0, backend="reference")
    net.weights = [[[0.5, -1.0], [1.0, 2.0]], [[1.0, -1.0]]]
    net.biases = [[0.25, -1.0], [0.5]]
    return net


# Worked by hand: z^2 = (0.5*1 - 1*0.5 + 0.25, 1*1 + 2*0.5 - 1) = (0.25, 1); a^2 = (sigma(0.25), sigma(1))
# = (0.562177, 0.731059); z^3 = 0.562177 - 0.731059 + 0.5 = 0.331118; a^3 = 0.582031; C = (0.582031 - 1)^2 / 2
# = 0.0873489; delta^3 = (a^3 - 1) a^3 (1 - a^3) = (-0.417969)(0.243271) = -0.10168;
# delta^2_1 = (1 * -0.10168) * sigma'(0.25) = -0.10168 * 0.246134 = -0.0250268;
# delta^2_2 = (-1 * -0.10168) * sigma'(1) = 0.10168 * 0.196612 = 0.0199914.
WORKED = [
    "z^2_1 = w^2_1,1 a^1_1 + w^2_1,2 a^1_2 + b^2_1 = 0.5*1 + (-1)*0.5 + 0.25 = 0.25",
    "a^2_1 = sigma(z^2_1) = 0.562177",
    "z^2_2 = w^2_2,1 a^1_1 + w^2_2,2 a^1_2 + b^2_2 = 1*1 + 2*0.5 + (-1) = 1",
    "a^2_2 = sigma(z^2_2) = 0.731059",
    "z^3_1 = w^3_1,1 a^2_1 + w^3_1,2 a^2_2 + b^3_1 = 1*0.562177 + (-1)*0.731059 + 0.5 = 0.331118",
    "a^3_1 = sigma(z^3_1) = 0.582031",
    "C = QuadraticCost(a^3, y) = 0.0873489",
    "BP1  delta^3_1 = dC/da^3_1 * sigma'(z^3_1) = (a^3_1 - y_1) * a^3_1 (1 - a^3_1) = (-0.417969) * 0.243271 = -0.10168",
    "BP2  delta^2_1 = (w^3_1,1 delta^3_1) * sigma'(z^2_1) = (1*(-0.10168)) * 0.246134 = -0.0250268",
    "BP2  delta^2_2 = (w^3_1,2 delta^3_1) * sigma'(z^2_2) = ((-1)*(-0.10168)) * 0.196612 = 0.0199914",
    "BP3  dC/db^2_1 = delta^2_1 = -0.0250268",
    "BP4  dC/dw^2_1,2 = a^1_2 delta^2_1 = 0.5 * (-0.0250268) = -0.0125134",
    "BP4  dC/dw^3_1,1 = a^2_1 delta^3_1 = 0.562177 * (-0.10168) = -0.0571619",
    "BP4  dC/dw^3_1,2 = a^2_2 delta^3_1 = 0.731059 * (-0.10168) = -0.0743337",
]


def test_the_numbers_are_those_worked_on_paper():
    lines = [text for kind, text in explain(worked_net(), [1.0, 0.5], [1.0], eta=1.0)]
    for expected in WORKED:
        assert expected in lines, expected
    assert lines[-1].startswith("C: 0.0873489 -> ") and lines[-1].endswith("(lower)")


def test_every_gradient_agrees_with_its_central_difference():
    for net, x, y in ((worked_net(), [1.0, 0.5], [1.0]),
                      (network2.Network([3, 4, 4, 2], network2.CrossEntropyCost, activation="tanh", seed=3,
                                        backend="reference"), [0.2, 0.9, 0.4], [0.0, 1.0]),
                      (network2.Network([3, 5, 3], network2.LogLikelihoodCost, activation="relu", seed=4,
                                        backend="reference"), [0.7, 0.1, 0.5], [0.0, 0.0, 1.0])):
        lines = [text for _, text in explain(net, x, y, neurons=10)]
        checks = [line for line in lines if "central difference " in line]
        assert len(checks) == sum(n_out * (n_in + 1) for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:]))
        assert not any("DISAGREE" in line for line in checks)
        assert any(line.startswith("the check passes: all {} gradients agree".format(len(checks))) for line in lines)


class BrokenBackprop(network2.Network):
    """backprop with BP2 wrong: the hidden layer's sigma' left out."""

    def backprop(self, x, y, mask=None):
        nabla_b, nabla_w = super().backprop(x, y, mask)
        a = x
        for l, (b, w) in enumerate(zip(self.biases[:-1], self.weights[:-1])):
            a = self._activate(l, [sum(w_jk * a_k for w_jk, a_k in zip(w_j, a)) + b_j for w_j, b_j in zip(w, b)])
        nabla_b[0] = [d / (a_j * (1 - a_j)) for d, a_j in zip(nabla_b[0], a)]
        nabla_w[0] = [[d * x_k for x_k in x] for d in nabla_b[0]]
        return nabla_b, nabla_w


def test_a_broken_backprop_is_shown_and_the_check_says_they_disagree():
    net = BrokenBackprop([2, 2, 1], cost=network2.QuadraticCost, seed=0, backend="reference")
    net.weights, net.biases = worked_net().weights, worked_net().biases
    lines = [text for _, text in explain(net, [1.0, 0.5], [1.0])]
    assert "BP3  dC/db^2_1 = delta^2_1 = -0.10168" in lines  # what is shown is the subclass's backprop
    assert any(line.startswith("dC/db^2_1") and line.endswith("DISAGREE") for line in lines)
    assert any(line.startswith("dC/dw^3_1,1") and not line.endswith("DISAGREE") for line in lines)
    verdict = [line for line in lines if line.startswith("the check")]
    assert verdict == ["the check FAILS: 6 of 9 gradients disagree with their central differences (largest "
                       "relative difference {}; backprop is wrong)".format(verdict[0].split("difference ")[1]
                                                                           .split(";")[0])]


def test_the_command_line_prints_a_trace_and_markdown():
    done = subprocess.run([sys.executable, "-m", "purenn", "explain", "--sizes", "2,3,2", "--seed", "1", "--format",
                           "markdown"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("### The forward pass") and done.stdout.count("```") == 10
    assert "the check passes: all 17 gradients agree" in done.stdout
    mnist = subprocess.run([sys.executable, "-m", "purenn", "explain", "--sizes", "784,30,10", "--example", "0",
                            "--neurons", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
    assert mnist.returncode == 0 and "(782 more terms)" in mnist.stdout and "the check passes" in mnist.stdout
    bad = subprocess.run([sys.executable, "-m", "purenn", "explain", "--input", "1,2,3"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr == ("purenn explain: error: argument --input: 3 numbers, but the "
                                                  "network's layer has 2 (see purenn explain --help)\n")


def test_render_as_text_underlines_each_part():
    text = render([("heading", "A"), ("line", "x"), ("heading", "B"), ("line", "y")])
    assert text == "A\n-\nx\n\nB\n-\ny\n"
