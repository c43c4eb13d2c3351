"""The measurements behind ``python -m workbook bench``, each with its baseline."""
import asyncio
import contextlib
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.sync.client import connect as sync_connect

from ..paths import PROJECT_DIR, data_dir
from ..processes import GuardedProcess, new_tag, start_guarded
from ..server import DEFAULT_APPLICATION, LISTENING, server_environment, start_server


@contextlib.contextmanager
def no_gc_pauses():
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
    return {"p50_ms": round(percentile(values, 0.50), 3), "p99_ms": round(percentile(values, 0.99), 3),
            "count": len(values)}


# --- Start-up: the harness vs a bare daphne ----------------------------------------------
def harness_start_seconds() -> float:
    started = time.perf_counter()
    server = start_server("echo")
    elapsed = time.perf_counter() - started
    server.stop()
    return elapsed


def bare_daphne_start_seconds(timeout: float = 30.0) -> float:
    """``daphne`` as a learner would start it, timed until its first websocket handshake."""
    log = tempfile.NamedTemporaryFile(prefix="bare-daphne-", suffix=".log", delete=False)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", DEFAULT_APPLICATION],
        cwd=PROJECT_DIR, env=server_environment("echo"), stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        while time.perf_counter() - started < timeout:
            if port is None:
                match = LISTENING.search(Path(log.name).read_text())
                port = match and int(match.group(1))
            else:
                try:
                    with sync_connect(f"ws://127.0.0.1:{port}/ws/chat/",
                                      origin=f"http://127.0.0.1:{port}", open_timeout=2):
                        return time.perf_counter() - started
                except OSError:
                    pass
            time.sleep(0.005)
        raise TimeoutError("bare daphne did not accept a handshake")
    finally:
        process.terminate()
        process.wait(10)
        os.unlink(log.name)


def startup(rounds: int) -> dict:
    """Alternate the two, so drift in the machine's load hits both alike."""
    harness, bare = [], []
    for _ in range(rounds):
        harness.append(harness_start_seconds())
        bare.append(bare_daphne_start_seconds())
    harness_median, bare_median = statistics.median(harness), statistics.median(bare)
    return {"harness_median_s": round(harness_median, 3), "bare_daphne_median_s": round(bare_median, 3),
            "ratio": round(harness_median / bare_median, 2), "rounds": rounds}


# --- Echo round trips: the stage-1 consumer vs a raw websockets server ----------------------
def start_raw_echo_server() -> tuple:
    port_file = Path(tempfile.mkdtemp()) / "port"
    process, log_path = start_guarded(
        [sys.executable, "-m", "workbook.bench.raw_echo_server", str(port_file)],
        env=dict(os.environ), cwd=PROJECT_DIR, log_dir=data_dir() / "logs",
        log_prefix="raw-echo", tag=new_tag("raw-echo"))
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
    async with connect(url, origin=origin) as websocket:
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


def echo(count: int) -> dict:
    raw_server, raw_port = start_raw_echo_server()
    try:
        # Thousands of back-to-back messages on one socket: the rate limit would drop them.
        with start_server("echo", env={"WORKBOOK_RATE_LIMIT_PER_SECOND": "0"}) as daphne_server:
            daphne_times = asyncio.run(round_trips(daphne_server.ws_url, daphne_server.origin, count))
            raw_times = asyncio.run(round_trips(f"ws://127.0.0.1:{raw_port}/", "http://127.0.0.1", count))
    finally:
        raw_server.stop()
    daphne, raw = summary(daphne_times), summary(raw_times)
    return {"daphne_echo_consumer": daphne, "raw_websockets": raw,
            "ratio_p50": round(daphne["p50_ms"] / raw["p50_ms"], 2),
            "ratio_p99": round(daphne["p99_ms"] / raw["p99_ms"], 2)}


# --- Fan-out: one message to every client of a room -----------------------------------------
async def fanout_latencies(servers: list, clients: int, rounds: int, token: str, warmup: int = 5) -> dict:
    """Milliseconds from one client's send to each client's receipt, over ``rounds`` messages.

    Clients are spread over ``servers`` in turn; the sender is on the first server. The
    first ``warmup`` messages are sent but not counted (first-use costs, not fan-out).
    """
    room = f"ws/chat/bench-{uuid.uuid4().hex[:8]}/?token={token}"
    sockets = [await connect(f"ws://127.0.0.1:{servers[n % len(servers)].port}/{room}",
                             origin=servers[n % len(servers)].origin, max_queue=None)
               for n in range(clients)]
    arrivals: dict = {}
    waiting: dict = {}

    async def read(websocket):
        async for frame in websocket:
            message = json.loads(frame).get("message", "")
            arrivals.setdefault(message, []).append(time.perf_counter())
            if message in waiting and len(arrivals[message]) >= clients:
                waiting[message].set()

    readers = [asyncio.create_task(read(websocket)) for websocket in sockets]
    await asyncio.sleep(0.5 + clients * 0.01)  # let the join notices pass
    latencies, lost = [], 0
    try:
        with no_gc_pauses():
            for number in range(-warmup, rounds):
                text = f"round {number}"
                waiting[f"bob: {text}"] = done = asyncio.Event()
                started = time.perf_counter()
                await sockets[0].send(json.dumps({"message": text}))
                try:
                    await asyncio.wait_for(done.wait(), 10)
                except TimeoutError:
                    pass
                receipts = arrivals.get(f"bob: {text}", [])
                lost += clients - len(receipts)
                if number >= 0:
                    latencies += [(moment - started) * 1000 for moment in receipts]
                await asyncio.sleep(0.1)  # under the 10 messages/s rate limit of a connection
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(websocket.close() for websocket in sockets), return_exceptions=True)
    return {**summary(latencies), "lost": lost, "clients": clients, "rounds": rounds}


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
