"""The page's server without a browser: every answer, every refusal, the limits, the files it will not serve,
many clients at once, and `python -m purenn serve` as a user starts and stops it."""

import builtins
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import purenn
from purenn import network2, network3
from purenn.files.handwriting import predict
from purenn.files.pictures import write_pgm, write_png
from purenn.network2 import sigmoid
from purenn.web import learn as learn_module
from purenn.web.api import MAX_JSON_BYTES, MAX_PICTURE_BYTES, PAGE_SIZE, App
from purenn.web.learn import Learning
from purenn.web.models import Model, Models
from purenn.web.server import make_server
from purenn.cli.options import classify

PYTHONPATH = os.path.dirname(os.path.dirname(purenn.__file__))


@pytest.fixture(scope="module")
def data(mnist):
    training, validation, test = mnist
    return training[:2000], validation[:1000], test[:300]


@pytest.fixture(scope="module")
def dense():
    net = network2.Network([784, 30, 10], seed=3)
    return net


@pytest.fixture(scope="module")
def conv():
    net = network3.Network([network3.ConvPoolLayer((4, 1, 5, 5), (1, 1, 28, 28)),
                            network3.FullyConnectedLayer(4 * 12 * 12, 20),
                            network3.SoftmaxLayer(20, 10)], 1, seed=4, backend="reference")
    for layer in net.layers[-1:]:  # a softmax of zeros says nothing: give it weights
        layer.w = [[0.01 * ((j * 7 + k) % 11 - 5) for k in range(layer.n_in)] for j in range(layer.n_out)]
    return net


@pytest.fixture()
def app(data, dense, conv):
    training, validation, test = data
    models = Models([Model("dense", dense, "a test", classify), Model("conv", conv, "a test", classify)])

    def learned(net, settings):
        models.add(Model("learned", net, "learned", classify))
        return "learned"

    app = App(models, test, Learning(training, validation, learned))
    yield app
    app.learning.stop()
    app.learning.join(30)


def answer(app, method, target, content_type="", body=b""):
    status, kind, data = app.handle(method, target, content_type, body)
    if kind == "application/json":
        text = data.decode("utf-8")
        assert text.endswith("\n") and "\n" not in text[:-1]  # one line
        return status, json.loads(text)
    return status, data


def post_json(app, target, value):
    return answer(app, "POST", target, "application/json", json.dumps(value).encode())


def refused(app, method, target, content_type="", body=b""):
    status, value = answer(app, method, target, content_type, body)
    assert 400 <= status < 500, (status, value)
    assert set(value) == {"error"} and value["error"]
    return status, value["error"]


def image_list(image):
    return list(image.pixels)


#### the page's files, and nothing else

def test_the_page_and_its_two_files_are_served(app):
    status, page = answer(app, "GET", "/")
    assert status == 200 and b"/page.js" in page and b"/page.css" in page
    assert app.handle("GET", "/page.js")[1].startswith("text/javascript")
    assert app.handle("GET", "/page.css")[1].startswith("text/css")


@pytest.mark.parametrize("target", [
    "/../purenn/web/api.py", "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2Fapi.py", "//etc/passwd", "/etc/passwd",
    "/assets/page.js", "/api.py", "/__init__.py", "/index.html", "/page.js/../../api.py", "/page.js%00",
    "/C:%5CWindows%5Cwin.ini", "/..%5c..%5capi.py", "/static/../api.py", "/assets/../api.py"])
def test_no_path_from_a_request_reaches_a_file(app, target):
    status, error = refused(app, "GET", target)
    assert status == 404 and "nothing here" in error


def test_after_start_answers_open_no_file_at_all(app, dense, monkeypatch, tmp_path):
    """The page's files are read once, at start; a symlink or a file put where they were changes nothing."""
    write_pgm(str(tmp_path / "d.pgm"), 28, 28, bytes(784))
    pgm = open(str(tmp_path / "d.pgm"), "rb").read()

    def no_files(*args, **kwargs):
        raise AssertionError("a request opened a file: {!r}".format(args[:1]))
    monkeypatch.setattr(builtins, "open", no_files)
    monkeypatch.setattr(os, "open", no_files)
    for target in ("/", "/page.js", "/page.css", "/../../etc/passwd", "/api/models", "/api/weights?model=dense"):
        app.handle("GET", target)
    assert app.handle("POST", "/api/predict?model=dense", "image/x-portable-graymap", pgm)[0] == 200


#### reading digits

def test_a_picture_is_read_as_predict_reads_its_file(app, dense, data, tmp_path):
    """The page sends its canvas as a PGM (or an upload as PNG): the answer is predict's on that file."""
    image = data[2][0][0]
    big = bytes(255 - image.pixels[(y // 5) * 28 + x // 5] for y in range(140) for x in range(140))
    for name, write, kind in (("d.pgm", write_pgm, "image/x-portable-graymap"), ("d.png", write_png, "image/png")):
        path = str(tmp_path / name)
        write(path, 140, 140, big)
        status, value = answer(app, "POST", "/api/predict?model=dense", kind, open(path, "rb").read())
        digit, outputs, seen = predict(dense, path)
        assert status == 200 and value["digit"] == digit and value["image"] == image_list(seen)
        assert [float(v).hex() for v in value["outputs"]] == [float(v).hex() for v in outputs]


def test_a_28_by_28_image_is_read_as_it_is(app, dense, data):
    image = data[2][5][0]
    status, value = post_json(app, "/api/classify", {"model": "dense", "image": image_list(image)})
    outputs = dense.feedforward(image)
    assert status == 200 and value["image"] == image_list(image)
    assert value["outputs"] == outputs and value["digit"] == max(range(10), key=lambda j: (outputs[j], -j))


def test_without_a_model_named_the_first_is_used(app):
    status, value = post_json(app, "/api/classify", {"image": [0] * 784})
    assert status == 200 and value["model"] == "dense"


@pytest.mark.parametrize("image, what", [
    ([0] * 783, "784 numbers"), ([0] * 785, "784 numbers"), ("0" * 784, "784 numbers"), (None, "784 numbers"),
    ([0] * 783 + [256], "image[783]"), ([-1] + [0] * 783, "image[0]"), ([0.5] + [0] * 783, "image[0]"),
    ([True] + [0] * 783, "image[0]"), (["1"] + [0] * 783, "image[0]"), ([[0]] * 784, "image[0]")])
def test_an_image_that_is_not_28_by_28_numbers_in_range_is_refused(app, image, what):
    status, error = refused(app, "POST", "/api/classify", "application/json",
                            json.dumps({"model": "dense", "image": image}).encode())
    assert status == 400 and what in error


def test_a_whole_number_written_as_a_float_is_a_pixel(app):
    assert post_json(app, "/api/classify", {"image": [255.0] + [0] * 783})[0] == 200


@pytest.mark.parametrize("content_type, body, status, what", [
    ("text/plain", b"{}", 415, "application/json"),
    ("", b"{}", 415, "application/json"),
    ("application/json", b"{not json", 400, "not JSON"),
    ("application/json", b"\xff\xfe", 400, "not JSON"),
    ("application/json", b"[1, 2]", 400, "JSON object"),
    ("application/json", b'{"image": [NaN]}', 400, "not JSON"),
    ("application/json", b'{"model": "nobody", "image": []}', 404, "no model called 'nobody'"),
    ("application/json", b'{"model": 7, "image": []}', 400, "model"),
])
def test_a_bad_request_body_is_refused_with_one_line(app, content_type, body, status, what):
    got, error = refused(app, "POST", "/api/classify", content_type, body)
    assert got == status and what in error


@pytest.mark.parametrize("content_type, body, status, what", [
    ("application/json", b"{}", 415, "picture"),
    ("image/png", b"\x89PNG\r\n\x1a\nrubbish", 400, "the picture sent"),
    ("image/x-portable-graymap", b"P5\n99999 99999\n255\n", 400, "larger than"),
    ("image/png", b"GIF89a", 400, "not a PNG, PGM or PBM"),
    ("image/png", b"", 400, "not a PNG, PGM or PBM"),
])
def test_a_bad_picture_is_refused_with_one_line(app, content_type, body, status, what):
    got, error = refused(app, "POST", "/api/predict?model=dense", content_type, body)
    assert got == status and what in error


def test_an_unknown_model_or_route_or_method_is_refused(app):
    assert refused(app, "GET", "/api/weights?model=nobody")[0] == 404
    assert refused(app, "GET", "/api/nothing")[0] == 404
    assert refused(app, "GET", "/api/predict")[0] == 405
    assert refused(app, "POST", "/api/models", "application/json", b"{}")[0] == 405
    assert refused(app, "GET", "/api/mistakes?model=dense&page")[0] == 400


#### inside the networks

def test_inside_a_dense_network_its_hidden_layer_gives_its_output(app, dense, data):
    image = data[2][7][0]
    status, value = post_json(app, "/api/inside", {"model": "dense", "image": image_list(image)})
    assert status == 200 and len(value["layers"]) == 1
    hidden = value["layers"][0]["values"]
    assert len(hidden) == 30 and all(0.0 < h < 1.0 for h in hidden)
    w, b = dense.weights[1], dense.biases[1]
    z = []
    for w_j, b_j in zip(w, b):  # the output layer applied to the hidden activations sent
        total = 0.0
        for w_jk, h in zip(w_j, hidden):
            total += w_jk * h
        z.append(total + b_j)
    expected = network2.softmax(z) if dense.cost.output == "softmax" else [sigmoid(z_j) for z_j in z]
    assert expected == dense.feedforward(image)


def test_inside_a_conv_network_its_feature_maps_and_hidden_layer(app, conv, data):
    image = data[2][9][0]
    status, value = post_json(app, "/api/inside", {"model": "conv", "image": image_list(image)})
    maps, hidden = value["layers"]
    assert status == 200 and maps["kind"] == "maps" and (maps["maps"], maps["rows"], maps["cols"]) == (4, 12, 12)
    assert len(maps["values"]) == 4 * 144 and len(maps["pictures"]) == 4
    assert maps["values"] == conv.layers[0].feedforward(list(image))
    assert hidden["kind"] == "neurons" and conv.layers[2].feedforward(hidden["values"]) == conv.feedforward(image)


def test_weights_are_pictures_with_zero_at_grey_128(app, dense, conv):
    import base64
    status, value = answer(app, "GET", "/api/weights?model=dense")
    assert status == 200 and value["what"] == "hidden neuron" and value["total"] == 30
    first = base64.b64decode(value["pictures"][0]["pixels"])
    row = dense.weights[0][0]
    largest = max(abs(v) for v in row)
    assert len(first) == 784 and first == bytes(int(round(128 + 127 * v / largest)) for v in row)
    status, value = answer(app, "GET", "/api/weights?model=conv")
    assert value["what"] == "filter" and value["total"] == 4
    assert (value["pictures"][0]["width"], value["pictures"][0]["height"]) == (5, 5)


def test_mistakes_are_the_test_digits_it_gets_wrong_paged(app, dense, data):
    test = data[2]
    wrong = [i for i, (x, y) in enumerate(test) if dense.feedforward(x).index(max(dense.feedforward(x))) != y]
    app.models.get("dense").all_mistakes(test)
    status, value = answer(app, "GET", "/api/mistakes?model=dense&page=1")
    assert status == 200 and value["total"] == len(wrong) and value["read"] == value["of"] == len(test)
    assert value["pages"] == max(1, math.ceil(len(wrong) / PAGE_SIZE)) and len(value["items"]) == min(40, len(wrong))
    shown = [item["index"] for page in range(1, value["pages"] + 1)
             for item in answer(app, "GET", "/api/mistakes?model=dense&page={}".format(page))[1]["items"]]
    assert shown == wrong
    item = value["items"][0]
    assert item["label"] == test[item["index"]][1] and item["image"] == image_list(test[item["index"]][0])
    assert answer(app, "GET", "/api/mistakes?model=dense&page=999")[1]["page"] == value["pages"]
    for page in ("0", "-1", "x", "1.5"):
        assert refused(app, "GET", "/api/mistakes?model=dense&page=" + page)[0] == 400


def test_mistakes_are_worked_out_aside_in_chunks_and_the_page_is_answered_at_once(app, monkeypatch):
    from purenn.web import models as models_module
    model = app.models.get("conv")
    slow, release = [], threading.Event()

    def classify_slowly(net, xs):
        slow.append(len(xs))
        release.wait(30)
        return [0] * len(xs)
    monkeypatch.setattr(model, "_classify", classify_slowly)
    monkeypatch.setattr(models_module, "MISTAKES_CHUNK", 100)
    value = answer(app, "GET", "/api/mistakes?model=conv")[1]
    assert value["read"] < value["of"] == 300                # answered at once, while the work goes on
    started = time.monotonic()
    while not slow and time.monotonic() - started < 10:
        time.sleep(0.01)
    release.set()                                             # the chunk out finishes; reading goes on
    assert post_json(app, "/api/classify", {"model": "conv", "image": [0] * 784})[0] == 200
    wrong = model.all_mistakes(app.test_data)
    assert slow == [100, 100, 100] and len(wrong) == sum(1 for _, y in app.test_data if y != 0)
    value = answer(app, "GET", "/api/mistakes?model=conv")[1]
    assert value["read"] == value["of"] and value["total"] == len(wrong)


#### Learn

def wait_for(app, states=("done", "stopped", "failed"), timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = answer(app, "GET", "/api/learn")[1]
        if status["state"] in states:
            return status
        time.sleep(0.02)
    raise AssertionError("the run did not end: {}".format(status))


def test_a_run_learns_epoch_by_epoch_the_same_network_as_sgd(app, data):
    settings = {"hidden": [12], "epochs": 3, "images": 500, "eta": 0.5, "seed": 7}
    status, value = post_json(app, "/api/learn", settings)
    assert status == 200 and value["state"] == "running"
    end = wait_for(app)
    assert end["state"] == "done" and [e["epoch"] for e in end["epochs"]] == [1, 2, 3] and end["model"] == "learned"
    assert all(0.0 <= e["accuracy"] <= 1.0 and e["cost"] > 0 for e in end["epochs"])
    net = network2.Network([784, 12, 10], seed=7)
    net.SGD(data[0][:500], 3, 10, 0.5, verbose=False)
    assert app.models.get("learned").net.weights == net.weights
    assert app.models.get("learned").net.biases == net.biases


def test_one_run_at_a_time_and_it_stops_when_asked(app):
    post_json(app, "/api/learn", {"hidden": [100, 100], "epochs": 30, "images": 2000})
    status, error = refused(app, "POST", "/api/learn", "application/json", b"{}")
    assert status == 409 and "learning already" in error
    assert post_json(app, "/api/learn/stop", {})[1] == {"stopping": True}
    end = wait_for(app)
    assert end["state"] == "stopped" and end["message"].startswith("stopped")
    assert post_json(app, "/api/learn/stop", {})[1] == {"stopping": False}


def test_a_run_whose_result_cannot_be_kept_fails_and_the_next_one_may_start(app, monkeypatch):
    def refuse(net, settings):
        raise OSError("no room for the model")
    monkeypatch.setattr(app.learning, "on_done", refuse)
    settings = {"hidden": [5], "epochs": 1, "images": 100}
    assert post_json(app, "/api/learn", settings)[0] == 200
    end = wait_for(app, ("failed",))
    assert end["message"] == "OSError: no room for the model"
    app.learning.join(10)
    assert post_json(app, "/api/learn/stop", {})[1] == {"stopping": False}
    monkeypatch.undo()
    assert post_json(app, "/api/learn", settings)[0] == 200  # not "learning already"
    assert wait_for(app)["state"] == "done"


def test_a_run_stops_at_its_time_limit(app, monkeypatch):
    monkeypatch.setattr(learn_module, "MAX_SECONDS", 0.3)
    post_json(app, "/api/learn", {"hidden": [100, 100], "epochs": 30, "images": 2000})
    end = wait_for(app)
    assert end["state"] == "stopped" and "limit of 0 seconds" in end["message"]


@pytest.mark.parametrize("settings, what", [
    ({"epochs": 0}, "epochs: 0 is not from 1 to 30"), ({"epochs": 31}, "epochs"), ({"epochs": "5"}, "whole number"),
    ({"epochs": True}, "whole number"), ({"epochs": 2.5}, "whole number"), ({"hidden": [101]}, "hidden"),
    ({"hidden": [0]}, "hidden"), ({"hidden": [10, 10, 10]}, "hidden"), ({"hidden": "30"}, "hidden"),
    ({"images": 99}, "images"), ({"images": 10000}, "more than the 2000 training digits"),
    ({"eta": 1e9}, "eta"), ({"eta": 0}, "eta"), ({"speed": 1}, "unknown setting 'speed'"),
    ({"seed": -1}, "seed"), ({"lmbda": -0.1}, "lmbda")])
def test_settings_out_of_bounds_are_refused(app, settings, what):
    status, error = refused(app, "POST", "/api/learn", "application/json", json.dumps(settings).encode())
    assert status == 400 and what in error
    assert answer(app, "GET", "/api/learn")[1]["state"] == "idle"


#### over HTTP: the limits, the Host, many clients

@pytest.fixture()
def server(app):
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def request(server, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def raw(server, data):
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=30) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    if not data.startswith(b"HTTP/"):  # an answer to a request line that named no HTTP version: no head
        return None, data
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_over_http_paths_are_not_normalised_into_files(server):
    for target in (b"/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/page.js/../api.py", b"/\\..\\api.py"):
        status, body = raw(server, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                           % server.server_address[1])
        assert status == 404 and b"nothing here" in body


def test_a_body_over_the_limit_is_refused_unread(server):
    port = server.server_address[1]
    for path, limit in (("/api/classify", MAX_JSON_BYTES), ("/api/predict", MAX_PICTURE_BYTES)):
        status, body = raw(server, "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n"
                                   "Content-Length: {}\r\n\r\n{{".format(path, port, limit + 1).encode())
        assert status == 413 and b"more than the" in body


def test_a_post_needs_a_length(server):
    port = server.server_address[1]
    status, body = raw(server, "POST /api/classify HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n".format(port).encode())
    assert status == 411
    status, body = raw(server, "POST /api/classify HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nTransfer-Encoding: chunked"
                               "\r\n\r\n0\r\n\r\n".format(port).encode())
    assert status == 411


def test_a_request_for_another_host_or_from_another_page_is_refused(server):
    assert request(server, "GET", "/api/models", headers={"Host": "evil.example:80"})[0] == 403
    assert request(server, "POST", "/api/learn/stop", b"{}", {"Content-Type": "application/json",
                                                              "Origin": "http://evil.example"})[0] == 403
    port = server.server_address[1]
    for host in ("localhost:{}".format(port), "127.0.0.1:{}".format(port)):
        assert request(server, "GET", "/api/models", headers={"Host": host})[0] == 200
    assert request(server, "POST", "/api/learn/stop", b"{}", {"Content-Type": "application/json",
                                                              "Origin": "http://127.0.0.1:{}".format(port)})[0] == 200


def test_other_methods_are_refused_with_json(server):
    for method in ("PUT", "DELETE", "PATCH", "HEAD"):
        status, kind, body = request(server, method, "/api/models")
        assert status == 405 and (method == "HEAD" or json.loads(body)["error"])


def test_an_error_inside_an_answer_is_a_500_and_the_server_goes_on(server, app, monkeypatch):
    monkeypatch.setattr(Model, "describe", lambda self: 1 / 0)
    status, kind, body = request(server, "GET", "/api/models")
    assert status == 500 and "ZeroDivisionError" in json.loads(body)["error"]
    monkeypatch.undo()
    assert request(server, "GET", "/api/models")[0] == 200


def test_many_clients_at_once_good_and_bad_requests(server, data):
    image = json.dumps({"model": "dense", "image": image_list(data[2][0][0])}).encode()
    expected = request(server, "POST", "/api/classify", image, {"Content-Type": "application/json"})[2]
    failures = []

    def client(n):
        try:
            for i in range(12):
                kind = (n + i) % 4
                if kind == 0:
                    got = request(server, "POST", "/api/classify", image, {"Content-Type": "application/json"})
                    ok = got[0] == 200 and got[2] == expected
                elif kind == 1:
                    ok = request(server, "POST", "/api/classify", b"{bad", {"Content-Type": "application/json"})[0] == 400
                elif kind == 2:
                    ok = request(server, "GET", "/../etc/passwd")[0] == 404
                else:
                    ok = request(server, "GET", "/api/mistakes?model=dense&page=2")[0] == 200
                if not ok:
                    failures.append((n, i))
        except Exception as e:  # noqa: BLE001
            failures.append((n, i, kind, repr(e)))
    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == []
    assert request(server, "GET", "/api/models")[0] == 200


def test_what_the_standard_library_refuses_is_a_json_line_too(server):
    port = server.server_address[1]
    for data, status in ((b"GARBAGE\r\n\r\n", None),                   # HTTP/0.9 style: the JSON line alone
                         (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
                         ("OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n".format(port).encode(), 501)):
        got, body = raw(server, data)
        assert got == status and json.loads(body)["error"], (data[:20], body[:200])


def test_a_length_that_is_no_ascii_number_is_refused(server):
    port = server.server_address[1]
    for length in (b"\xb2", b"-1", b"1e3", b"12, 12", b"\xd9\xa3"):
        status, body = raw(server, b"POST /api/classify HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                   b"Content-Type: application/json\r\nContent-Length: %s\r\n\r\n{}" % (port, length))
        assert status == 411 and json.loads(body)["error"], length


def test_a_get_with_a_body_is_answered_once_and_its_body_never_read_as_a_request(server):
    port = server.server_address[1]
    smuggled = "GET /api/nope HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n".format(port).encode()
    status, body = raw(server, "GET /api/models HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\r\n".format(
        port, len(smuggled)).encode() + smuggled)
    assert status == 200 and b"HTTP/1.1" not in body  # one answer, then the connection closed


def test_deep_json_and_odd_pages_are_400s_not_500s(app):
    for target, body in (("/api/classify", b"[" * 30000 + b"]" * 30000),
                         ("/api/inside", b'{"a":' * 10000 + b"1" + b"}" * 10000)):
        status, error = refused(app, "POST", target, "application/json", body)
        assert status == 400 and "nested too deeply" in error
    assert refused(app, "GET", "/api/mistakes?model=dense&page=%C2%B2")[0] == 400
    app.models.get("dense").all_mistakes(app.test_data)
    status, value = answer(app, "GET", "/api/mistakes?model=dense&page=" + "9" * 5000)
    assert status == 200 and value["page"] == value["pages"]


def test_a_failed_mistakes_pass_is_said(app, monkeypatch):
    model = app.models.get("conv")
    monkeypatch.setattr(model, "_classify", lambda net, xs: 1 / 0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        model.all_mistakes(app.test_data)
    status, kind, data = app.handle("GET", "/api/mistakes?model=conv")
    assert status == 500 and "working out the mistakes of conv failed: ZeroDivisionError" in json.loads(data)["error"]


def test_a_client_that_goes_away_is_no_error(server, capsys):
    import struct
    port = server.server_address[1]
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /api/classify HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 100\r\n\r\n{" % port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        s.close()
    time.sleep(0.5)
    assert request(server, "GET", "/api/models")[0] == 200
    assert capsys.readouterr().err == ""


def test_loopback_however_spelled_checks_the_host(app):
    server = make_server(app, "127.1", 0)  # bound to 127.0.0.1
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        assert request(server, "GET", "/api/models", headers={"Host": "evil.example"})[0] == 403
    finally:
        server.shutdown()
        server.server_close()


def test_two_host_headers_or_an_origin_of_another_scheme_are_refused(server):
    port = server.server_address[1]
    status, body = raw(server, "GET /api/models HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\nHost: evil.example\r\n"
                               "Connection: close\r\n\r\n".format(port).encode())
    assert status == 403
    assert request(server, "POST", "/api/learn/stop", b"{}", {"Content-Type": "application/json",
                                                              "Origin": "evil://127.0.0.1:{}".format(port)})[0] == 403


def test_connections_past_the_most_served_at_once_get_a_503(app, monkeypatch):
    from purenn.web import server as server_module
    monkeypatch.setattr(server_module, "MAX_CONNECTIONS", 2)
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    idle = [socket.create_connection(("127.0.0.1", server.server_address[1])) for _ in range(2)]
    try:
        time.sleep(0.3)
        status, body = raw(server, b"GET /api/models HTTP/1.1\r\n\r\n")
        assert status == 503 and "try again" in json.loads(body)["error"]
    finally:
        for s in idle:
            s.close()
        server.shutdown()
        server.server_close()
    # the idle ones given back, once their threads have seen the clients close (not at once: they are threads)
    given_back = [server.connections.acquire(timeout=5) for _ in range(2)]
    assert given_back == [True, True]


#### the command

def start(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=PYTHONPATH, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "purenn", "serve", "--port", "0"] + list(args), cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, universal_newlines=True)


def test_serve_with_no_model_trains_a_quick_one_says_so_and_stops_cleanly(tmp_path):
    process = start(tmp_path)
    try:
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert "no model given: trained a quick one, 'quick'" in lines[0], lines
        url = lines[1].split("open ", 1)[1].split()[0]
        port = int(url.rsplit(":", 1)[1].strip("/"))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/api/models")
        models = json.loads(connection.getresponse().read())["models"]
        assert [m["name"] for m in models] == ["quick"]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0 and "purenn serve: stopped" in out and err == ""


def test_serve_refuses_bad_models_and_ports_in_one_line(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    env = dict(os.environ, PYTHONPATH=PYTHONPATH)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        for args, what in ((["bad.json"], "bad.json"), (["missing.json"], "missing.json"),
                           (["--port", "70000"], "argument --port"), (["--port", port], "argument --port"),
                           (["--host", "nonsense.invalid", "--port", "0"], "argument --host"),
                           (["--host", "999.1.1.1", "--port", "0"], "argument --host")):
            done = subprocess.run([sys.executable, "-m", "purenn", "serve"] + args, cwd=str(tmp_path), env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
            lines = done.stderr.strip().splitlines()
            assert done.returncode == 2 and what in lines[-1] and "Traceback" not in done.stderr, done.stderr


def test_serve_lists_the_models_given_of_either_kind(tmp_path, dense, conv):
    dense.save(str(tmp_path / "dense.json"))
    conv.save(str(tmp_path / "conv.json"))
    process = start(tmp_path, "dense.json", "conv.json", "dense.json")
    try:
        line = process.stdout.readline()
        assert "3 models (dense, conv, dense-2)" in line, line
        port = int(line.split("open ", 1)[1].split()[0].rsplit(":", 1)[1].strip("/"))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/api/models")
        models = json.loads(connection.getresponse().read())["models"]
        assert [(m["name"], m["kind"]) for m in models] == [("dense", "network2"), ("conv", "network3"),
                                                             ("dense-2", "network2")]
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0 and err == ""


def test_the_quick_model_is_the_same_on_every_backend(mnist):
    from purenn.cli.serve import QUICK, _quick_model
    from purenn.backends import available_backends
    backends = [backend for backend in available_backends() if backend != "reference"]
    nets = [_quick_model(mnist[0], backend)[0] for backend in backends]
    assert QUICK[0] == [784, 30, 10] and nets[0].sizes == QUICK[0]
    assert all(net.weights == nets[0].weights and net.biases == nets[0].biases for net in nets), backends

