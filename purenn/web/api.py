"""The page's requests and their answers, with no sockets: App.handle(method, target, content_type, body).

    GET  /  /page.js  /page.css       the page (its own three files, read at start)
    GET  /api/models                  the models served, in order
    POST /api/predict?model=M         body: a PNG or PGM picture -> what M sees in it
                                      (read as `predict` reads a file)
    POST /api/classify                {"model", "image": 784 numbers 0-255} -> the same
    POST /api/inside                  {"model", "image"} -> each hidden layer's activations
    GET  /api/weights?model=M         the first layer's weights as pictures
    GET  /api/mistakes?model=M&page=K the test digits M gets wrong, PAGE_SIZE a page (while they are
                                      worked out, "read" < "of": ask again)
    GET  /api/learn                   the Learn run's status
    POST /api/learn                   {"hidden", "epochs", "images", "eta", "lmbda", "seed"}: start one
    POST /api/learn/stop              stop it

An answer is (status, content type, bytes).  Every refusal is a 4xx whose body
is one line of JSON, {"error": "..."}, naming what is wrong.  No part of a
request is ever used as a file name: the page's files are a fixed table.
"""

import json
import os
import re
import threading
from urllib.parse import parse_qs, urlsplit

from ..errors import DataFileError
from ..files.handwriting import mnist_style
from ..files.modelfile import nested_too_deeply
from ..files.pictures import decode_picture
from ..mnist_loader import Image
from .learn import LearnError

__all__ = ["App", "HTTPError", "PAGE_SIZE", "MAX_JSON_BYTES", "MAX_PICTURE_BYTES", "ASSETS"]

PAGE_SIZE = 40
MAX_JSON_BYTES = 64 * 1024
MAX_PICTURE_BYTES = 4 * 1024 * 1024
PICTURE_TYPES = ("image/png", "image/x-portable-graymap", "image/x-portable-bitmap")

#: path -> (file in purenn/web/assets, content type)
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/page.js": ("page.js", "text/javascript; charset=utf-8"),
    "/page.css": ("page.css", "text/css; charset=utf-8"),
}


_PAGE = re.compile("[1-9][0-9]*")

#: Pictures decoded at once: a 2048 x 2048 PNG takes seconds and 100 MB in pure Python, so
#: a crowd of uploads waits its turn rather than taking the machine's memory.
_DECODING = threading.BoundedSemaphore(2)


class HTTPError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def json_answer(status, value):
    return status, "application/json", (json.dumps(value, allow_nan=False) + "\n").encode("utf-8")


def error_answer(status, message):
    return json_answer(status, {"error": " ".join(str(message).split())})


def body_limit(path):
    """The largest body a POST to `path` may have."""
    return MAX_PICTURE_BYTES if urlsplit(path).path == "/api/predict" else MAX_JSON_BYTES


def _load_assets():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
    assets = {}
    for path, (name, content_type) in ASSETS.items():
        with open(os.path.join(here, name), "rb") as f:
            assets[path] = (content_type, f.read())
    return assets


def _json_body(content_type, body):
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise HTTPError(415, "the body must be application/json, not {!r}".format(content_type or "nothing"))
    try:
        text = body.decode("utf-8")
        if nested_too_deeply(text):
            raise RecursionError
        value = json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise HTTPError(400, "the body is not JSON: {}".format(e)) from None
    except RecursionError:
        raise HTTPError(400, "the body is JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise HTTPError(400, "the body must be a JSON object")
    return value


def _no_constant(name):
    raise ValueError("{} is not a number JSON allows".format(name))


def _image(value):
    """An Image from a request's "image": 784 whole numbers from 0 to 255 (28 x 28, row by row)."""
    if not isinstance(value, list) or len(value) != 784:
        raise HTTPError(400, "image: expected a list of 784 numbers (28 x 28), got {}".format(
            "{} of them".format(len(value)) if isinstance(value, list) else type(value).__name__))
    for k, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 255 or v != int(v):
            raise HTTPError(400, "image[{}]: {!r} is not a whole number from 0 to 255".format(k, v))
    return Image(bytes(int(v) for v in value))


def _query(target):
    parts = urlsplit(target)
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise HTTPError(400, "the query {!r} is not name=value pairs".format(parts.query)) from None
    return parts.path, {name: values[-1] for name, values in query.items()}


class App:
    """The answers of one server: its models, the test digits, the Learn run."""

    def __init__(self, models, test_data, learning):
        self.models, self.test_data, self.learning = models, test_data, learning
        self.assets = _load_assets()
        self.routes = {
            ("GET", "/api/models"): self.list_models,
            ("POST", "/api/predict"): self.predict,
            ("POST", "/api/classify"): self.classify,
            ("POST", "/api/inside"): self.inside,
            ("GET", "/api/weights"): self.weights,
            ("GET", "/api/mistakes"): self.mistakes,
            ("GET", "/api/learn"): self.learn_status,
            ("POST", "/api/learn"): self.learn_start,
            ("POST", "/api/learn/stop"): self.learn_stop,
        }

    def handle(self, method, target, content_type="", body=b""):
        """(status, content type, bytes) for one request."""
        try:
            path, query = _query(target)
            if method == "GET" and path in self.assets:
                return (200,) + self.assets[path]
            route = self.routes.get((method, path))
            if route is None:
                if any(p == path for _, p in self.routes):
                    return error_answer(405, "{} is not for {} requests".format(path, method))
                return error_answer(404, "nothing here: {}".format(path[:200]))
            return json_answer(200, route(query, content_type, body))
        except HTTPError as e:
            return error_answer(e.status, e)
        except LearnError as e:
            return error_answer(e.status, e)

    def _model(self, name):
        if name is None:
            names = self.models.names()
            if not names:
                raise HTTPError(404, "no model is served")
            name = names[0]
        if not isinstance(name, str):
            raise HTTPError(400, "model: {!r} is not a model's name".format(name))
        model = self.models.get(name)
        if model is None:
            raise HTTPError(404, "model: no model called {!r}; the models are {}".format(
                name[:100], ", ".join(self.models.names())))
        return model

    #### the answers

    def list_models(self, query, content_type, body):
        return {"models": [model.describe() for model in self.models.all()]}

    def predict(self, query, content_type, body):
        model = self._model(query.get("model"))
        kind = content_type.split(";")[0].strip().lower()
        if kind not in PICTURE_TYPES:
            raise HTTPError(415, "the body must be a picture ({}), not {!r}".format(
                ", ".join(PICTURE_TYPES), content_type or "nothing"))
        with _DECODING:
            try:
                width, height, pixels = decode_picture("the picture sent", body)
            except DataFileError as e:
                raise HTTPError(400, str(e)) from None
            image = mnist_style(width, height, pixels)
        return model.read(image)

    def classify(self, query, content_type, body):
        request = _json_body(content_type, body)
        return self._model(request.get("model")).read(_image(request.get("image")))

    def inside(self, query, content_type, body):
        request = _json_body(content_type, body)
        model = self._model(request.get("model"))
        return {"model": model.name, "layers": model.inside(_image(request.get("image")))}

    def weights(self, query, content_type, body):
        return self._model(query.get("model")).weights()

    def mistakes(self, query, content_type, body):
        model = self._model(query.get("model"))
        page = query.get("page", "1")
        if not _PAGE.fullmatch(page):
            raise HTTPError(400, "page: {!r} is not a page number (1, 2, ...)".format(page[:20]))
        wrong, read, failed = model.mistakes(self.test_data)
        if failed is not None:
            raise HTTPError(500, "working out the mistakes of {} failed: {}".format(model.name, failed))
        pages = max(1, -(-len(wrong) // PAGE_SIZE))
        page = min(int(page) if len(page) <= 12 else pages, pages)  # past the last: the last
        items = [{"index": i, "label": label, "predicted": guess, "image": list(self.test_data[i][0].pixels)}
                 for i, label, guess in wrong[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]]
        return {"model": model.name, "total": len(wrong), "read": read, "of": len(self.test_data), "page": page,
                "pages": pages, "items": items}

    def learn_status(self, query, content_type, body):
        return self.learning.status()

    def learn_start(self, query, content_type, body):
        return self.learning.start(_json_body(content_type, body))

    def learn_stop(self, query, content_type, body):
        return {"stopping": self.learning.stop()}

