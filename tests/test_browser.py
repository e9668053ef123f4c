"""The page in a real browser (headless chromium through chromedriver): digits drawn with real pointer events
are read as `predict` reads the canvas's picture; each view opens and shows what it should; a Learn session
runs to its end; an uploaded picture is read as `predict` reads its file; the console stays free of errors.

Skipped when chromium or chromedriver is not installed -- unless PURENN_REQUIRE_BROWSER=1 (as in CI), where
that is a failure.  With PURENN_SCREENSHOTS=DIR each view's screenshot is written there (docs/screenshots).
"""

import os
import threading

import pytest

from purenn.cli.options import classify
from purenn.cli.serve import _quick_model
from purenn.files.handwriting import digit_of, mnist_style, predict
from purenn.files.pictures import write_png
from purenn.web.api import App
from purenn.web.learn import Learning
from purenn.web.models import Model, Models
from purenn.web.server import make_server

from webdriver import Browser

SHOTS = os.environ.get("PURENN_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser():
    browser, why = Browser.start()
    if browser is None:
        if os.environ.get("PURENN_REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes", "on"):
            pytest.fail("PURENN_REQUIRE_BROWSER=1 but " + why)
        pytest.skip(why)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def site(mnist):
    training, validation, test = mnist
    net = _quick_model(training, None)[0]
    models = Models([Model("quick", net, "trained on start", classify)])

    def learned(net, settings):
        models.add(Model("learned", net, "learned in the page", classify))
        return "learned"

    app = App(models, test, Learning(training, validation, learned))
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield app, server.url
    app.learning.stop()
    app.learning.join(30)
    server.shutdown()
    server.server_close()


@pytest.fixture()
def page(browser, site):
    app, url = site
    browser.open(url)
    browser.wait("return document.body.dataset.model === 'quick'")
    yield browser, app
    errors = [entry for entry in browser.console() if entry["level"] == "SEVERE"]
    assert errors == [], "the browser's console has errors"


def settled(browser):
    """Wait until the page has no request out, then its digit ('?' for none)."""
    browser.wait("return document.getElementById('answer').dataset.busy === '0'")
    return browser.text(browser.find("#digit"))


def strokes(image):
    """A test digit as strokes on the 280 x 280 canvas: along each of its rows, one stroke per run of ink."""
    out = []
    for y in range(28):
        x = 0
        while x < 28:
            if image.pixels[y * 28 + x] >= 128:
                start = x
                while x < 28 and image.pixels[y * 28 + x] >= 128:
                    x += 1
                out.append(((start * 10 + 5, y * 10 + 5), ((x - 1) * 10 + 5, y * 10 + 5)))
            x += 1
    return out


def draw(browser, lines, kind):
    browser.run("window.scrollTo(0, 0)")
    left, top = browser.run("const r = document.getElementById('canvas').getBoundingClientRect();"
                            "return [r.left, r.top];")
    for (x0, y0), (x1, y1) in lines:
        moves = [("down", left + x0, top + y0)]
        steps = max(1, abs(x1 - x0) // 10)
        moves += [("move", left + x0 + (x1 - x0) * s / steps, top + y0) for s in range(1, steps + 1)]
        moves.append(("up", left + x1, top + y1))
        browser.pointer(kind, moves)


def canvas_grey(browser, element, side):
    """The red channel of a canvas's pixels (the page draws in greys), read from the browser."""
    return bytes(browser.run(
        "const c = document.getElementById(arguments[0]);"
        "const d = c.getContext('2d').getImageData(0, 0, arguments[1], arguments[1]).data;"
        "const out = []; for (let i = 0; i < d.length; i += 4) out.push(d[i]); return out;", element, side))


def shot(browser, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        browser.screenshot(os.path.join(SHOTS, name + ".png"))


@pytest.mark.parametrize("kind, index", [("mouse", 0), ("pen", 1), ("touch", 2), ("mouse", 3)])
def test_a_digit_drawn_with_real_pointer_events_is_read_as_predict_reads_the_canvas(page, mnist, kind, index):
    browser, app = page
    image, label = mnist[2][index]
    draw(browser, strokes(image), kind)
    shown = settled(browser)
    seen = mnist_style(280, 280, canvas_grey(browser, "canvas", 280))   # the canvas, read as predict reads a file
    digit, outputs = digit_of(app.models.get("quick").net, seen)
    assert shown == str(digit)
    assert bytes(255 - v for v in canvas_grey(browser, "seen", 28)) == seen.pixels
    values = [float(browser.text(e)) for e in browser.find_all("#bars .value")]
    assert values == [round(v, 3) for v in outputs[:10]]
    if index == 0:
        shot(browser, "draw")
    browser.click(browser.find("#undo"))  # one stroke fewer: still a digit
    assert settled(browser) in "0123456789"
    browser.click(browser.find("#clear"))
    assert settled(browser) == "?"


def test_inside_shows_the_hidden_layer_and_each_neurons_weights(page, mnist):
    browser, app = page
    draw(browser, strokes(mnist[2][0][0]), "mouse")
    settled(browser)
    browser.click(browser.find("#tab-inside"))
    browser.wait("return document.querySelectorAll('#layers .neuron').length === 30")
    browser.wait("return document.querySelectorAll('#weights .cell canvas').length === 30")
    assert len(browser.find_all("#weights .excited")) == 5
    assert browser.run("return document.getElementById('draw').hidden") is True
    shot(browser, "inside")


def test_mistakes_are_paged_and_one_clicked_is_read_in_draw(page):
    browser, app = page
    browser.click(browser.find("#tab-mistakes"))
    wrong = app.models.get("quick").all_mistakes(app.test_data)
    browser.wait("return document.getElementById('mistakes').dataset.complete === 'true'")
    assert "gets {:,} of the 10,000 test digits wrong".format(len(wrong)) in browser.text(browser.find("#mistakes-note"))
    cells = browser.find_all("#mistake-grid .mistake")
    assert len(cells) == min(40, len(wrong))
    assert [int(browser.attribute(c, "data-index")) for c in cells[:5]] == [i for i, _, _ in wrong[:5]]
    shot(browser, "mistakes")
    browser.click(browser.find("#next"))
    browser.wait("return document.getElementById('page-info').textContent.startsWith('page 2')")
    cell = browser.find_all("#mistake-grid .mistake")[0]
    index, predicted = int(browser.attribute(cell, "data-index")), browser.attribute(cell, "data-predicted")
    assert index == wrong[40][0]
    browser.click(cell)
    assert browser.run("return document.getElementById('draw').hidden") is False
    assert settled(browser) == predicted


def test_a_short_learn_session_runs_to_its_end_and_can_draw(page, mnist):
    browser, app = page
    browser.click(browser.find("#tab-learn"))
    for field, value in (("hidden", "20"), ("epochs", "3"), ("images", "1000"), ("eta", "0.5")):
        browser.type(browser.find("#" + field), value)
    browser.click(browser.find("#start"))
    browser.wait("return document.getElementById('learn-status').dataset.state === 'done'", 120)
    assert browser.run("return document.querySelectorAll('#accuracy-chart circle').length") == 3
    assert browser.run("return document.querySelectorAll('#cost-chart circle').length") == 3
    assert "done, finished after 3 epochs" in browser.text(browser.find("#learn-status"))
    shot(browser, "learn")
    browser.click(browser.find("#use-learned"))
    browser.wait("return document.body.dataset.model === 'learned'")
    draw(browser, strokes(mnist[2][1][0]), "mouse")
    shown = settled(browser)
    seen = mnist_style(280, 280, canvas_grey(browser, "canvas", 280))
    assert shown == str(digit_of(app.models.get("learned").net, seen)[0])


def test_an_uploaded_picture_is_read_as_predict_reads_its_file(page, mnist, tmp_path):
    browser, app = page
    image = mnist[2][4][0]
    path = str(tmp_path / "digit.png")
    write_png(path, 84, 84, bytes(255 - image.pixels[(y // 3) * 28 + x // 3] for y in range(84) for x in range(84)))
    browser.upload(browser.find("#upload"), path, clear=False)
    browser.wait("return document.getElementById('digit').textContent !== '?'")
    digit, outputs, seen = predict(app.models.get("quick").net, path)
    assert settled(browser) == str(digit)
    assert bytes(255 - v for v in canvas_grey(browser, "seen", 28)) == seen.pixels


def test_a_refused_upload_is_said_on_the_page_not_in_the_console(page, tmp_path):
    browser, app = page
    path = str(tmp_path / "notes.png")
    with open(path, "wb") as f:
        f.write(b"not a picture at all")
    browser.upload(browser.find("#upload"), path, clear=False)
    message = browser.wait("const p = document.getElementById('problem'); return !p.hidden && p.textContent")
    assert message.startswith("notes.png: ") and "not a PNG, PGM or PBM picture" in message
    # The browser itself notes the refused request (status 400) in the console; that, and nothing else.
    errors = [entry["message"] for entry in browser.console() if entry["level"] == "SEVERE"]
    assert len(errors) == 1 and "/api/predict" in errors[0] and "400" in errors[0], errors
