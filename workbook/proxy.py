"""A tiny reverse proxy for notebook 07: what nginx does with a bare ``proxy_pass``.

nginx does not forward the hop-by-hop headers ``Upgrade`` and ``Connection`` unless
told to (and talks HTTP/1.0 to the upstream by default). A websocket handshake *is*
those headers, so behind such a proxy it reaches daphne as a plain GET, and Django
answers 404.

    proxy = ReverseProxy(server.port)                     # like a bare proxy_pass
    proxy = ReverseProxy(server.port, pass_upgrade=True)  # like the three nginx lines
    proxy.http_url  # put this where the server's URL was
    proxy.stop()

Threads, not processes: it lives and dies with the notebook's kernel.
"""

import contextlib
import socket
import threading
from types import TracebackType

#: Headers that describe one connection, not the request; a proxy drops them.
HOP_BY_HOP = {"connection", "upgrade", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding"}
HEAD_LIMIT = 64 * 1024

#: The mistake: a bare proxy_pass, as for any other page.
NGINX_BARE = """\
location /ws/ {
    proxy_pass http://127.0.0.1:8000;
}"""

#: What fixes it in nginx (shown by the notebook; ``pass_upgrade=True`` does the same).
NGINX_FIX = """\
location /ws/ {
    proxy_pass http://127.0.0.1:8000;
    proxy_http_version 1.1;                   # websockets need HTTP/1.1
    proxy_set_header Upgrade $http_upgrade;   # pass the hop-by-hop headers on
    proxy_set_header Connection "upgrade";
    proxy_set_header Host $host;              # the Origin check compares with this
    proxy_read_timeout 1h;                    # idle sockets are closed after 60 s otherwise
}"""


def rewrite_head(head: bytes, pass_upgrade: bool) -> bytes:
    """The request head as the proxy forwards it."""
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    if pass_upgrade:
        return head
    kept = [line for line in header_lines if line and line.split(":", 1)[0].strip().lower() not in HOP_BY_HOP]
    # (nginx would also downgrade to HTTP/1.0 here and answer the client in HTTP/1.1
    # itself; this proxy passes the answer through, so it keeps HTTP/1.1.)
    lines = [request_line, *kept, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class ReverseProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", *, pass_upgrade: bool = False) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.pass_upgrade = pass_upgrade
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"proxy-{self.port}", daemon=True)
        self._acceptor.start()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __str__(self) -> str:
        kind = "passes Upgrade/Connection" if self.pass_upgrade else "drops Upgrade/Connection"
        return f"proxy {self.http_url} -> {self.upstream[0]}:{self.upstream[1]} ({kind})"

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _accept_loop(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:  # the listener was closed: stop
                return
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            head, rest = self._read_head(client)
            upstream = socket.create_connection(self.upstream, timeout=5)
            upstream.settimeout(None)
            self._track(upstream)
            upstream.sendall(rewrite_head(head, self.pass_upgrade) + rest)
            back = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
            back.start()
            self._pipe(client, upstream)
            back.join(10)
        except OSError:
            pass
        finally:
            client.close()

    @staticmethod
    def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(4096)
            if not chunk or len(data) > HEAD_LIMIT:
                raise OSError("no complete request head")
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        return head + b"\r\n\r\n", rest

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        """Copy bytes until ``source`` closes, then tell ``target`` nothing more comes."""
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                target.sendall(chunk)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):  # a bare close() does not wake a thread blocked in accept(); shutdown() does
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._acceptor.join(5)
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
            self._sockets.clear()

    def __enter__(self) -> "ReverseProxy":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
