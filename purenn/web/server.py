"""The HTTP side of the page: a threading http.server in front of App.

    make_server(app, host, port)   a bound server (port 0: any free one); .url
    serve(server)                  serve until Ctrl-C or SIGTERM, then close cleanly

Each request is read within limits before App sees it: a POST needs a
Content-Length, at most api.body_limit() bytes (413 otherwise, the body left
unread and the connection closed); a GET with a body is answered and its
connection closed (the body is never read as the next request); a connection
idle for TIMEOUT seconds is dropped, and at most MAX_CONNECTIONS are served at
once (503 beyond).  When bound to a loopback address, requests must name it in
their one Host header (so a web page elsewhere cannot reach it by DNS
rebinding), and a POST that says where it comes from (Origin) must come from
the page itself.  Every error -- the standard library's own (a malformed
request line, a URL or header too long) included -- is a JSON line; an error
inside an answer is a 500, and the server goes on; a client that goes away
mid-request is no error at all.
"""

import http
import http.server
import ipaddress
import re
import signal
import socket
import sys
import threading

from .api import body_limit, error_answer

__all__ = ["make_server", "serve", "TIMEOUT", "MAX_CONNECTIONS"]

TIMEOUT = 30
MAX_CONNECTIONS = 64


_DIGITS = re.compile("[0-9]{1,12}")


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
    request_queue_size = MAX_CONNECTIONS  # connections waiting to be accepted (the standard library's 5 resets a crowd)

    def __init__(self, address, app, verbose=False):
        family_v6 = ":" in address[0]
        if family_v6:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.app, self.verbose = app, verbose
        self.connections = threading.BoundedSemaphore(MAX_CONNECTIONS)
        host, port = self.server_address[:2]
        self.loopback = _loopback(host)  # the address bound, however --host spelled it
        shown = "[{}]".format(host) if family_v6 else host
        self.url = "http://{}:{}/".format(shown, port)
        names = {"localhost", "127.0.0.1", "[::1]", shown}
        self.hosts = {"{}:{}".format(name, port) for name in names}

    def process_request(self, request, client_address):
        if not self.connections.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.connections.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, socket.timeout)):
            return  # the client went away or stalled: nothing to tell anyone
        sys.stderr.write("purenn serve: error with a request from {}: {}: {}\n".format(
            client_address[0], type(error).__name__, error))


_BUSY_BODY = error_answer(503, "the server is serving as many connections as it takes; try again")[2]
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
         b"Content-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n\r\n" + _BUSY_BODY)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "purenn"
    sys_version = ""
    timeout = TIMEOUT
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write("purenn serve: {} {}\n".format(self.address_string(), format % args))

    def send_error(self, code, message=None, explain=None):
        """The standard library's own refusals (a bad request line, a URL or header too long, an
        unknown method) as a JSON line too."""
        self._send(*error_answer(code, message or http.HTTPStatus(code).phrase), close=True)

    def do_GET(self):
        if self.headers.get("Content-Length", "0").strip() not in ("", "0") or self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # its body is never read, so never taken for the next request
        self._answer("GET", b"")

    def do_POST(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            return self._send(*error_answer(411, "send the body with a Content-Length, not chunked"), close=True)
        if length is None or not _DIGITS.fullmatch(length.strip()) or len(self.headers.get_all("Content-Length")) > 1:
            return self._send(*error_answer(411, "a POST needs one Content-Length of digits"), close=True)
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
        hosts = self.headers.get_all("Host") or [""]
        if len(hosts) > 1 or hosts[0] not in self.server.hosts:
            return "the Host header {!r} is not this server's".format(", ".join(hosts)[:100])
        origin = self.headers.get("Origin")
        if method == "POST" and origin is not None and (
                not origin.startswith("http://") or origin[len("http://"):] not in self.server.hosts):
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

