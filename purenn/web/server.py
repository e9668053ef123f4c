"""The HTTP side of the page: a threading http.server in front of App.

    make_server(app, host, port)   a bound server (port 0: any free one); .url
    serve(server)                  serve until Ctrl-C or SIGTERM, then close cleanly

Each request is read within limits before App sees it: a POST needs a
Content-Length, at most api.body_limit() bytes (413 otherwise, the body left
unread and the connection closed); a connection idle for TIMEOUT seconds is
dropped.  When bound to a loopback address, requests must name it in their
Host header (so a web page elsewhere cannot reach it by DNS rebinding), and a
POST that says where it comes from (Origin) must come from the page itself.
An error inside an answer is a 500 with a JSON line, and the server goes on.
"""

import http.server
import ipaddress
import signal
import socket
import sys
import threading

from .api import body_limit, error_answer

__all__ = ["make_server", "serve", "TIMEOUT"]

TIMEOUT = 30


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, app, verbose=False):
        family_v6 = ":" in address[0]
        if family_v6:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.app, self.verbose = app, verbose
        host, port = self.server_address[:2]
        self.loopback = _loopback(address[0])
        shown = "[{}]".format(host) if family_v6 else host
        self.url = "http://{}:{}/".format(shown, port)
        names = {"localhost", "127.0.0.1", "[::1]", shown}
        self.hosts = {"{}:{}".format(name, port) for name in names}


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "purenn"
    sys_version = ""
    timeout = TIMEOUT
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write("purenn serve: {} {}\n".format(self.address_string(), format % args))

    def do_GET(self):
        self._answer("GET", b"")

    def do_POST(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            return self._send(*error_answer(411, "send the body with a Content-Length, not chunked"), close=True)
        if length is None or not length.strip().isdigit():
            return self._send(*error_answer(411, "a POST needs a Content-Length"), close=True)
        length, limit = int(length), body_limit(self.path)
        if length > limit:
            return self._send(*error_answer(413, "the body is {} bytes, more than the {} allowed here".format(
                length, limit)), close=True)
        body = self.rfile.read(length)
        if len(body) < length:
            return self._send(*error_answer(400, "the body ended after {} of {} bytes".format(len(body), length)),
                              close=True)
        self._answer("POST", body)

    def _refuse(self, method):
        self._send(*error_answer(405, "{} requests are not served here".format(method)), close=True)

    def do_PUT(self):
        self._refuse("PUT")

    def do_DELETE(self):
        self._refuse("DELETE")

    def do_PATCH(self):
        self._refuse("PATCH")

    def do_HEAD(self):
        self._refuse("HEAD")

    def _foreign(self, method):
        """Why the request comes from somewhere it should not, or None."""
        if not self.server.loopback:
            return None
        if self.headers.get("Host", "") not in self.server.hosts:
            return "the Host header {!r} is not this server's".format(self.headers.get("Host", "")[:100])
        origin = self.headers.get("Origin")
        if method == "POST" and origin is not None and origin.split("//", 1)[-1] not in self.server.hosts:
            return "a request from the page at {!r} is not served".format(origin[:100])
        return None

    def _answer(self, method, body):
        foreign = self._foreign(method)
        if foreign is not None:
            return self._send(*error_answer(403, foreign), close=True)
        try:
            answer = self.server.app.handle(method, self.path, self.headers.get("Content-Type", ""), body)
        except Exception as e:  # noqa: BLE001 -- one bad answer must not stop the server
            sys.stderr.write("purenn serve: error answering {} {}: {}: {}\n".format(
                method, self.path[:200], type(e).__name__, e))
            answer = error_answer(500, "internal error: {}: {}".format(type(e).__name__, e))
        self._send(*answer)

    def _send(self, status, content_type, data, close=False):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                             "connect-src 'self'; frame-ancestors 'none'")
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client went away: nothing to tell it
            self.close_connection = True


def make_server(app, host="127.0.0.1", port=8000, verbose=False):
    """A server bound to (host, port), not yet serving: OSError if it cannot bind."""
    return Server((host, port), app, verbose)


def serve(server, on_stop=None):
    """Serve until Ctrl-C or SIGTERM; then stop the server, call on_stop(), close."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop) if threading.current_thread() is threading.main_thread() else None
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if on_stop is not None:
            on_stop()
        server.server_close()

