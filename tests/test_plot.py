"""The SVG chart: round ticks, well-formed SVG, every monitored curve drawn."""

import xml.etree.ElementTree as ET

from purenn.files.plot import nice_ticks, render_svg, write_svg


def test_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.953, 0.978) == [0.95, 0.955, 0.96, 0.965, 0.97, 0.975, 0.98]
    assert nice_ticks(0, 29, most=8) == [0, 5, 10, 15, 20, 25, 30]
    low, high = nice_ticks(3.0, 3.0)[0], nice_ticks(3.0, 3.0)[-1]
    assert low < 3.0 < high


def test_chart_has_both_panels_axes_and_a_legend(tmp_path):
    records = [{"epoch": e, "training_cost": 1.0 / (e + 1), "evaluation_cost": 1.2 / (e + 1),
                "training_accuracy": 0.9 + e / 100, "evaluation_accuracy": 0.88 + e / 100} for e in range(10)]
    path = tmp_path / "c.svg"
    write_svg(path, records, title="a title")
    root = ET.parse(str(path)).getroot()
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    assert {"a title", "Cost per epoch", "Accuracy per epoch", "epoch", "cost", "accuracy",
            "training data", "evaluation data"} <= set(texts)
    assert "90%" in texts
    paths = [p for p in root.iter() if p.tag.endswith("path")]
    assert len(paths) == 4 and all(p.get("d").count("L") == 9 for p in paths)


def test_only_what_was_monitored_is_drawn():
    svg = render_svg([{"epoch": 0, "evaluation_accuracy": 0.5}, {"epoch": 1, "evaluation_accuracy": 0.6}])
    assert "Accuracy per epoch" in svg and "Cost per epoch" not in svg and "training data" not in svg
    assert "nothing was monitored" in render_svg([{"epoch": 0}])
