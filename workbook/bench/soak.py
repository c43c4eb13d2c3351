"""``python -m workbook bench --soak``: one busy room, paced sends, every delivery counted.

200 real clients in one room, spread over two chat servers sharing Redis (and, as the
baseline, one server with the in-memory layer). Four of them send, in turn, at a fixed
total rate; the rate climbs step by step until something is lost. Every receipt is
counted per client and per sender, and checked for order. Reported per layout:

- the highest rate the servers keep up with: nothing lost, and the last message delivered
  within a second of being sent (messages/s, and deliveries/s = rate x clients);
- at the first rate that lost something: how many deliveries, in how many messages, and
  whether each such message's sender was told (``room_overloaded``) or the loss was silent;
- each server's resident memory (RSS) after warm-up and after the highest rate kept up with
  (and after the whole run, overload included).

The rate limit of a connection is lifted (``WORKBOOK_RATE_LIMIT_PER_SECOND=0``), as
a busy room of many people would exceed one person's limit.
"""

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from ..processes import GuardedProcess, processes_tagged
from .measure import no_gc_pauses, until_quiet

LAYOUTS = {
    "memory, 1 process": ("memory", 1),
    "redis core, 2 processes": ("redis", 2),
    "redis pub/sub, 2 processes": ("redis-pubsub", 2),
}
FULL = {"clients": 200, "senders": 4, "rates": [10, 20, 30, 40, 50, 60, 80, 100], "seconds": 10.0}
QUICK = {"clients": 10, "senders": 2, "rates": [5, 10], "seconds": 1.0}
NO_RATE_LIMIT = {"WORKBOOK_RATE_LIMIT_PER_SECOND": "0"}


def rss_megabytes(server: GuardedProcess) -> float:
    """Resident memory of the server's daphne process (not its guard), from /proc."""
    pids = [pid for pid in processes_tagged(server.tag) if pid != server.process.pid]
    total_kb = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return round(total_kb / 1024, 1)


class Room:
    """The clients of one soak room and everything they received."""

    def __init__(self, sockets: list, senders: int):
        self.sockets = sockets
        self.senders = sockets[:senders]
        self.received: list[dict[str, int]] = [{} for _ in sockets]  # per client: sender -> count
        self.last_seen: list[dict[str, int]] = [{} for _ in sockets]  # per client: sender -> last number
        self.out_of_order = 0
        self.overload_notices = 0  # room_overloaded error frames the senders got
        self.other_errors: dict[str, int] = {}
        self.total = 0
        self.receipts: dict[str, int] = {}  # message text -> how many clients got it
        self.last_frame = [time.monotonic()]
        self.readers = [asyncio.create_task(self.read(index, websocket)) for index, websocket in enumerate(sockets)]

    async def read(self, index: int, websocket: ClientConnection) -> None:
        received, last_seen = self.received[index], self.last_seen[index]
        async for frame in websocket:
            self.last_frame[0] = time.monotonic()
            data = json.loads(frame)
            if "error" in data:
                if data["error"] == "room_overloaded":
                    self.overload_notices += 1
                else:
                    self.other_errors[data["error"]] = self.other_errors.get(data["error"], 0) + 1
                continue
            text = data.get("message", "")
            if not text.startswith("bob: soak "):
                continue  # join notices
            _, _, sender, number = text.split(" ")
            number = int(number)
            received[sender] = received.get(sender, 0) + 1
            self.receipts[text] = self.receipts.get(text, 0) + 1
            if number <= last_seen.get(sender, -1):
                self.out_of_order += 1
            last_seen[sender] = number
            self.total += 1

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(websocket.close() for websocket in self.sockets), return_exceptions=True)


async def open_room(servers: list, clients: int, senders: int, token: str) -> Room:
    room = f"ws/chat/soak-{uuid.uuid4().hex[:8]}/?token={token}"
    sockets = []
    for number in range(clients):
        server = servers[number % len(servers)]
        sockets.append(await connect(f"ws://127.0.0.1:{server.port}/{room}", origin=server.origin, max_queue=None))
    result = Room(sockets, senders)
    await until_quiet(result.last_frame)  # let the join notices pass
    return result


async def paced_step(room: Room, rate: float, seconds: float, step: int) -> dict:
    """Send ``rate`` messages/s for ``seconds``, the senders in turn; then wait for the stragglers."""
    count = max(1, round(rate * seconds))
    before_total, before_notices = room.total, room.overload_notices
    sent = []
    started = time.perf_counter()
    for number in range(count):
        delay = started + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sender = room.senders[number % len(room.senders)]
        text = f"soak s{number % len(room.senders)}-{step} {number}"
        sent.append(f"bob: {text}")
        await sender.send(json.dumps({"message": text}))
    sending_seconds = time.perf_counter() - started
    expected = count * len(room.sockets)
    # Drain: until everything arrived, or nothing more arrived for 3 s (bounded: 60 s).
    deadline, last_total, quiet_since = time.monotonic() + 60, -1, time.monotonic()
    while room.total - before_total < expected and time.monotonic() < deadline:
        if room.total != last_total:
            last_total, quiet_since = room.total, time.monotonic()
        elif time.monotonic() - quiet_since > 3:
            break
        await asyncio.sleep(0.05)
    delivered = room.total - before_total
    # A message that missed anyone must have cost its sender a room_overloaded frame.
    incomplete = sum(room.receipts.get(text, 0) < len(room.sockets) for text in sent)
    told = room.overload_notices - before_notices
    return {
        "rate": rate,
        "messages": count,
        "expected": expected,
        "delivered": delivered,
        "lost": expected - delivered,
        "told": told,
        "incomplete_messages": incomplete,
        "silent": max(0, incomplete - told),
        "achieved_rate": round((count - 1) / sending_seconds, 1) if count > 1 else rate,
        "drain_seconds": round(time.perf_counter() - started - sending_seconds, 2),
    }


async def soak_layout(servers: list, sizes: dict, token: str, progress: Callable[[str], object]) -> dict:
    """Climb the rates until the servers no longer keep up; then one step at twice that rate."""
    room = await open_room(servers, sizes["clients"], sizes["senders"], token)
    try:
        with no_gc_pauses():
            warm = await paced_step(room, sizes["rates"][0], min(2.0, sizes["seconds"]), step=0)
            rss_warm = [rss_megabytes(server) for server in servers]
            steps = []
            for step, rate in enumerate(sizes["rates"], start=1):
                steps.append(await measured_step(room, servers, rate, sizes["seconds"], step, progress))
                if not steps[-1]["kept_up"]:
                    break
            if not steps[-1]["kept_up"] and not steps[-1]["lost"]:
                # Fell behind without losing anything yet: show what twice the rate does.
                steps.append(
                    await measured_step(
                        room, servers, 2 * steps[-1]["rate"], sizes["seconds"], len(steps) + 1, progress
                    )
                )
    finally:
        await room.close()
    kept_up = [step for step in steps if step["kept_up"]]
    best = max(kept_up, key=lambda step: step["rate"]) if kept_up else None
    first_loss = next((step for step in steps if step["lost"]), None)
    return {
        "clients": sizes["clients"],
        "senders": sizes["senders"],
        "seconds_per_step": sizes["seconds"],
        "warm_up_lost": warm["lost"],
        "steps": steps,
        "highest_rate_kept_up": best["rate"] if best else 0,
        "deliveries_per_second": best["rate"] * sizes["clients"] if best else 0,
        "highest_rate_nothing_lost": max((step["rate"] for step in steps if not step["lost"]), default=0),
        "first_lossy_rate": first_loss and first_loss["rate"],
        "lost_at_first_lossy_rate": first_loss["lost"] if first_loss else 0,
        "incomplete_messages_at_first_lossy_rate": first_loss["incomplete_messages"] if first_loss else 0,
        "told_at_first_lossy_rate": first_loss["told"] if first_loss else 0,
        "silent_loss": any(step["silent"] for step in steps),
        "out_of_order": room.out_of_order,
        "other_errors": room.other_errors,
        "rss_mb_after_warm_up": rss_warm,
        "rss_mb_after_highest_kept_up": best["rss_mb"] if best else rss_warm,
        "rss_mb_after_run": steps[-1]["rss_mb"],
        "rss_growth_pct": [
            round((end / start - 1) * 100, 1) if start else None
            for start, end in zip(rss_warm, best["rss_mb"] if best else rss_warm, strict=True)
        ],
    }


#: A step is kept up with when nothing was lost and the last message had reached everyone
#: this soon after it was sent (a backlog that keeps growing is not a sustainable rate).
KEPT_UP_SECONDS = 1.0


async def measured_step(
    room: Room, servers: list, rate: float, seconds: float, step: int, progress: Callable[[str], object]
) -> dict:
    result = await paced_step(room, rate, seconds, step)
    result["kept_up"] = result["lost"] == 0 and result["drain_seconds"] <= KEPT_UP_SECONDS
    result["rss_mb"] = [rss_megabytes(server) for server in servers]
    progress(
        f"    {rate:>4} msg/s: {result['delivered']} of {result['expected']} delivered "
        f"({result['drain_seconds']:.1f} s after the last send), {result['incomplete_messages']} "
        f"messages incomplete, {result['told']} overload notices"
    )
    return result


def soak(token: str, quick: bool = False, progress: Callable[[str], object] = print) -> list:
    from ..redis_server import start_redis
    from ..server import start_server

    sizes = QUICK if quick else FULL
    results = []
    with start_redis() as redis:
        for label, (layer, processes) in LAYOUTS.items():
            progress(f"  {label}, {sizes['clients']} clients:")
            servers = [
                start_server("chat", layer=layer, redis_url=redis.url, env=NO_RATE_LIMIT) for _ in range(processes)
            ]
            try:
                figures = asyncio.run(soak_layout(servers, sizes, token, progress))
                logs = "".join(server.log() for server in servers)
                figures["layer_over_capacity_log_lines"] = logs.count("channels over capacity in group")
                figures["room_overloaded_log_lines"] = logs.count("room_overloaded")
            finally:
                for server in servers:
                    server.stop()
            results.append({"layout": label, **figures})
    return results
