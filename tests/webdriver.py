"""A small W3C WebDriver client (standard library only) for the browser tests: Debian's chromium via chromedriver.

    Browser.start()            chromedriver on a free port and a headless chromium session
                               (None, and why, if either is not installed)
    .open(url) .find(css) .find_all(css) .click(element) .text(element) .attribute(element, name)
    .run(script, *args)        execute JavaScript in the page, its value returned
    .wait(script, timeout)     run the script until it returns something true
    .pointer(kind, moves)      real pointer events: [("down"|"move"|"up", x, y)] in viewport pixels
    .upload(element, path)     choose a file in an <input type=file>
    .console()                 the browser's console messages since the last call
    .screenshot(path)          a PNG of the window
    .quit()
"""

import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import time

CHROMIUM = os.environ.get("PURENN_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
        "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
        "--disable-extensions", "--disable-sync", "--no-first-run", "--no-default-browser-check",
        "--metrics-recording-only", "--disable-features=Translate,MediaRouter,OptimizationHints"]
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriverError(Exception):
    pass


class Browser:
    def __init__(self, process, port, session):
        self.process, self.port, self.session = process, port, session

    @classmethod
    def start(cls):
        """(Browser, None) or (None, why it cannot run here)."""
        driver = shutil.which("chromedriver")
        if driver is None or not os.path.exists(CHROMIUM):
            return None, "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        port = _free_port()
        process = subprocess.Popen([driver, "--port={}".format(port)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                if _request(port, "GET", "/status")["value"].get("ready"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                return None, "chromedriver did not start"
            time.sleep(0.1)
        capabilities = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": ARGS},
            "goog:loggingPrefs": {"browser": "ALL"}}}}
        try:
            value = _request(port, "POST", "/session", capabilities)["value"]
        except WebDriverError as e:
            process.kill()
            return None, "chromium did not start: {}".format(e)
        return cls(process, port, value["sessionId"]), None

    def call(self, method, path, body=None):
        return _request(self.port, method, "/session/{}{}".format(self.session, path), body)["value"]

    def open(self, url):
        self.call("POST", "/url", {"url": url})

    def find(self, css):
        return self.call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css):
        return [e[ELEMENT] for e in self.call("POST", "/elements", {"using": "css selector", "value": css})]

    def click(self, element):
        self.call("POST", "/element/{}/click".format(element), {})

    def text(self, element):
        return self.call("GET", "/element/{}/text".format(element))

    def attribute(self, element, name):
        return self.call("GET", "/element/{}/attribute/{}".format(element, name))

    def type(self, element, text, clear=True):
        if clear:
            self.call("POST", "/element/{}/clear".format(element), {})
        self.call("POST", "/element/{}/value".format(element), {"text": text})

    upload = type

    def run(self, script, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait(self, script, timeout=30.0, *args):
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(script, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("timed out after {} s waiting for: {}".format(timeout, script))
            time.sleep(0.05)

    def pointer(self, kind, moves):
        """Real pointer events of a `kind` ("mouse", "pen", "touch") along moves [(what, x, y)]."""
        actions = []
        for what, x, y in moves:
            actions.append({"type": "pointerMove", "duration": 0, "x": int(x), "y": int(y), "origin": "viewport"})
            if what == "down":
                actions.append({"type": "pointerDown", "button": 0})
            elif what == "up":
                actions.append({"type": "pointerUp", "button": 0})
        self.call("POST", "/actions", {"actions": [{"type": "pointer", "id": "p1",
                                                   "parameters": {"pointerType": kind}, "actions": actions}]})
        self.call("DELETE", "/actions")

    def console(self):
        return self.call("POST", "/se/log", {"type": "browser"})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.call("GET", "/screenshot")))

    def quit(self):
        try:
            self.call("DELETE", "")
        except (OSError, WebDriverError):
            pass
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _request(port, method, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        response = connection.getresponse()
        value = json.loads(response.read().decode() or "{}")
    finally:
        connection.close()
    if response.status >= 400:
        error = value.get("value", {})
        raise WebDriverError("{} {}: {} {}".format(method, path, error.get("error"), error.get("message", "")[:500]))
    return value
