"""The measurements behind ``python -m workbook bench``, each with its baseline."""

import asyncio
import contextlib
import gc
import http.client
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from ..paths import PROJECT_DIR, REPO_DIR, data_dir
from ..processes import GuardedProcess, new_tag, start_guarded
from ..server import DEFAULT_APPLICATION, LISTENING, server_environment, start_server


@contextlib.contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Keep Python's garbage collector out of the timings: this client process holds Django
    and hundreds of sockets, and one full collection would add tens of ms to a round."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def percentile(values: list, share: float) -> float:
    """The ``share`` (0-1) percentile, nearest rank: p50 of [1, 2, 3, 4] is 2."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def summary(values: list) -> dict:
    return {
        "p50_ms": round(percentile(values, 0.50), 3),
        "p99_ms": round(percentile(values, 0.99), 3),
        "count": len(values),
    }


# --- Start-up: the harness and `serve` vs a bare daphne ---------------------------------------
def http_answers(port: int) -> bool:
    """True once the server answers an HTTP request (any status)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/test-ws/")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


def wait_for_http(port: int, started: float, timeout: float = 30.0) -> float:
    while time.perf_counter() - started < timeout:
        if http_answers(port):
            return time.perf_counter() - started
        time.sleep(0.005)
    raise TimeoutError(f"nothing answered HTTP on port {port}")


def harness_start_seconds() -> float:
    """``start_server("echo")`` (it returns after its own handshake), until the first HTTP answer."""
    started = time.perf_counter()
    server = start_server("echo")
    try:
        return wait_for_http(server.port, started)
    finally:
        server.stop()


def serve_start_seconds(timeout: float = 30.0) -> float:
    """``python -m workbook serve --stage echo`` as a learner types it, until the first HTTP answer."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "workbook", "serve", "--stage", "echo", "--port", "0", "--quiet"],
        cwd=REPO_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None  # stdout=PIPE
    try:
        for line in process.stdout:
            match = re.search(r"websocket: ws://[\w.]+:(\d+)/", line)
            if match:
                return wait_for_http(int(match.group(1)), started, timeout)
        raise RuntimeError(f"serve did not start (exit code {process.wait()})")
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def bare_daphne_start_seconds(timeout: float = 30.0) -> float:
    """``daphne`` as a learner would start it, until its first HTTP answer."""
    with tempfile.NamedTemporaryFile(prefix="bare-daphne-", suffix=".log") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", DEFAULT_APPLICATION],
            cwd=PROJECT_DIR,
            env=server_environment("echo"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while time.perf_counter() - started < timeout:
                match = LISTENING.search(Path(log.name).read_text())
                if match:
                    return wait_for_http(int(match.group(1)), started, timeout)
                time.sleep(0.005)
            raise TimeoutError("bare daphne did not start listening")
        finally:
            process.terminate()
            process.wait(10)


def startup(rounds: int) -> dict:
    """Alternate the three, so drift in the machine's load hits them alike."""
    harness, serve, bare = [], [], []
    for _ in range(rounds):
        harness.append(harness_start_seconds())
        serve.append(serve_start_seconds())
        bare.append(bare_daphne_start_seconds())
    medians = {
        name: statistics.median(values) for name, values in (("harness", harness), ("serve", serve), ("bare", bare))
    }
    return {
        "harness_median_s": round(medians["harness"], 3),
        "serve_median_s": round(medians["serve"], 3),
        "bare_daphne_median_s": round(medians["bare"], 3),
        "ratio": round(medians["harness"] / medians["bare"], 2),
        "serve_ratio": round(medians["serve"] / medians["bare"], 2),
        "rounds": rounds,
        "measured_until": "first HTTP answer",
    }


# --- Echo round trips: the stage-1 consumer vs a raw websockets server ----------------------
def start_raw_echo_server() -> tuple:
    port_file = Path(tempfile.mkdtemp()) / "port"
    process, log_path = start_guarded(
        [sys.executable, "-m", "workbook.bench.raw_echo_server", str(port_file)],
        env=dict(os.environ),
        cwd=PROJECT_DIR,
        log_dir=data_dir() / "logs",
        log_prefix="raw-echo",
        tag=new_tag("raw-echo"),
    )
    server = GuardedProcess(process, log_path)
    deadline = time.monotonic() + 15
    while not (port_file.exists() and port_file.read_text()):
        if time.monotonic() > deadline or not server.running:
            server.stop()
            raise RuntimeError(f"the raw echo server did not start:\n{server.log_tail()}")
        time.sleep(0.02)
    return server, int(port_file.read_text())


async def round_trips(url: str, origin: str, count: int, warmup: int = 50) -> list:
    """Milliseconds for each of ``count`` sequential send→reply round trips on one socket."""
    timings = []
    async with connect(url, origin=Origin(origin)) as websocket:
        await websocket.recv()  # the greeting
        with no_gc_pauses():
            for number in range(warmup + count):
                started = time.perf_counter()
                await websocket.send(json.dumps({"message": f"ping {number}"}))
                reply = json.loads(await asyncio.wait_for(websocket.recv(), 5))
                if reply != {"message": f"You said: ping {number}"}:
                    raise RuntimeError(f"unexpected echo reply {reply}")
                if number >= warmup:
                    timings.append((time.perf_counter() - started) * 1000)
    return timings


ECHO_BASELINES = {  # under daphne, beside the stage-1 consumer
    "bare_asgi_daphne": "workbook.bench.echo_apps:bare_asgi_echo",
    "minimal_consumer_daphne": "workbook.bench.echo_apps:minimal_consumer_echo",
}


def echo(count: int, passes: int = 2) -> dict:
    """Round trips through the stage-1 consumer and three baselines: raw ``websockets``, a bare
    ASGI echo under daphne (what daphne costs) and a minimal Channels consumer under daphne
    (what Channels costs). Measured in ``passes`` interleaved passes, so load drift hits all."""
    raw_server, raw_port = start_raw_echo_server()
    # Thousands of back-to-back messages on one socket: the rate limit would drop them.
    no_limit = {"WORKBOOK_RATE_LIMIT_PER_SECOND": "0"}
    servers = {"daphne_echo_consumer": start_server("echo", env=no_limit)}
    try:
        for name, application in ECHO_BASELINES.items():
            servers[name] = start_server("echo", application=application)
        targets = {name: (server.ws_url, server.origin) for name, server in servers.items()}
        targets["raw_websockets"] = (f"ws://127.0.0.1:{raw_port}/", "http://127.0.0.1")
        timings: dict[str, list] = {name: [] for name in targets}
        for _ in range(passes):
            for name, (url, origin) in targets.items():
                timings[name] += asyncio.run(round_trips(url, origin, count // passes))
    finally:
        raw_server.stop()
        for server in servers.values():
            server.stop()
    figures = {name: summary(values) for name, values in timings.items()}
    consumer, raw, minimal = (
        figures[name] for name in ("daphne_echo_consumer", "raw_websockets", "minimal_consumer_daphne")
    )
    return {
        **figures,
        "ratio_p50": round(consumer["p50_ms"] / raw["p50_ms"], 2),
        "ratio_p99": round(consumer["p99_ms"] / raw["p99_ms"], 2),
        "ratio_p50_to_minimal_consumer": round(consumer["p50_ms"] / minimal["p50_ms"], 2),
    }


# --- Fan-out: one message to every client of a room -----------------------------------------
async def fanout_latencies(
    servers: list,
    clients: int,
    rounds: int,
    token: str,
    warmup: int = 5,
    quiet: float = 0.5,
    pause: float = 0.1,
) -> dict:
    """Milliseconds from one client's send to each client's receipt, over ``rounds`` messages.

    Clients are spread over ``servers`` in turn; the sender is on the first server. The
    first ``warmup`` messages are sent but not counted (first-use costs, not fan-out).
    The rounds start once the join notices have stopped arriving for ``quiet`` s, and
    ``pause`` s apart: 0.1 s keeps a long run under the 10 messages/s rate limit of a
    connection (a few rounds fit in its burst of 20 without any pause).
    """
    room = f"ws/chat/bench-{uuid.uuid4().hex[:8]}/?token={token}"
    sockets = [
        await connect(
            f"ws://127.0.0.1:{servers[n % len(servers)].port}/{room}",
            origin=servers[n % len(servers)].origin,
            max_queue=None,
        )
        for n in range(clients)
    ]
    arrivals: dict = {}
    waiting: dict = {}

    last_frame = [time.monotonic()]

    async def read(websocket: ClientConnection) -> None:
        async for frame in websocket:
            last_frame[0] = time.monotonic()
            message = json.loads(frame).get("message", "")
            arrivals.setdefault(message, []).append(time.perf_counter())
            if message in waiting and len(arrivals[message]) >= clients:
                waiting[message].set()

    readers = [asyncio.create_task(read(websocket)) for websocket in sockets]
    await until_quiet(last_frame, quiet)  # the join notices: 200 clients joining is 20 000 deliveries
    latencies, lost = [], 0
    cpu_before = server_cpu_seconds(servers)
    try:
        with no_gc_pauses():
            for number in range(-warmup, rounds):
                text = f"round {number}"
                waiting[f"bob: {text}"] = done = asyncio.Event()
                started = time.perf_counter()
                await sockets[0].send(json.dumps({"message": text}))
                with contextlib.suppress(TimeoutError):  # what did not arrive in 10 s is lost
                    await asyncio.wait_for(done.wait(), 10)
                receipts = arrivals.get(f"bob: {text}", [])
                lost += clients - len(receipts)
                if number >= 0:
                    latencies += [(moment - started) * 1000 for moment in receipts]
                if number == -1:
                    cpu_before = server_cpu_seconds(servers)
                await asyncio.sleep(pause)
            cpu = server_cpu_seconds(servers) - cpu_before
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(websocket.close() for websocket in sockets), return_exceptions=True)
    # CPU time is not stretched by a busy machine the way latency is: compare layouts with it.
    return {
        **summary(latencies),
        "lost": lost,
        "clients": clients,
        "rounds": rounds,
        "server_cpu_us_per_delivery": round(cpu / (clients * rounds) * 1e6, 1),
    }


async def until_quiet(last_frame: list, quiet: float = 0.5, longest: float = 60.0) -> None:
    """Wait until no frame arrived for ``quiet`` s (``last_frame[0]``, a monotonic time).

    A fixed pause is not enough on a busy machine: the servers may still be delivering the
    join notices when the measured rounds start, and their queues are full then."""
    deadline = time.monotonic() + longest
    await asyncio.sleep(quiet)
    while time.monotonic() - last_frame[0] < quiet and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


def server_cpu_seconds(servers: list) -> float:
    """CPU time (user + system) the servers' daphne processes have used so far; Linux (/proc)."""
    from ..processes import processes_tagged

    ticks = 0
    for server in servers:
        for pid in processes_tagged(server.tag):
            if pid == server.process.pid and len(processes_tagged(server.tag)) > 1:
                continue  # the guard: idle, and not the server
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


LAYOUTS = {
    "memory, 1 process": ("memory", 1),
    "redis core, 2 processes": ("redis", 2),
    "redis pub/sub, 2 processes": ("redis-pubsub", 2),
}


def fanout(client_counts: list, rounds: int, token: str) -> list:
    from ..redis_server import start_redis

    results = []
    with start_redis() as redis:
        for label, (layer, processes) in LAYOUTS.items():
            servers = [start_server("chat", layer=layer, redis_url=redis.url) for _ in range(processes)]
            try:
                for clients in client_counts:
                    figures = asyncio.run(fanout_latencies(servers, clients, rounds, token))
                    results.append({"layout": label, **figures})
            finally:
                for server in servers:
                    server.stop()
    return results
