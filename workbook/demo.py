"""Notebook 04's demos: chat servers side by side, Alice and Bob across them, a small
live fan-out, and the full benchmark's results read from ``benchmarks/results.json``.

The notebook stays about channel layers; the plumbing lives here.
"""

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from IPython.display import HTML, Image

from .client import Client, Transcript
from .notebook import _replace_server, table
from .paths import REPO_DIR
from .server import Server, start_server

RESULTS = REPO_DIR / "benchmarks" / "results.json"


def chat_servers(count: int, layer: str = "memory", redis_url: str | None = None) -> list[Server]:
    """``count`` chat-stage servers on ``layer``, started side by side (each start mostly
    waits for Django to import); running the cell again replaces them."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        starting = [pool.submit(start_server, "chat", layer=layer, redis_url=redis_url) for _ in range(count)]
        started = [future.result() for future in starting]
    servers = [
        _replace_server(f"chat {layer} #{number}", _already_started(server))
        for number, server in enumerate(started, start=1)
    ]
    for server in servers:
        print(f"Started: {server}")
    return servers


def _already_started(server: Server) -> Callable[[], Server]:
    """A ``start`` for ``_replace_server`` that hands over a server started earlier."""
    return lambda: server


async def alice_and_bob(
    server_a: Server, server_b: Server, tokens: dict[str, str], transcript: Transcript, room: str = "lobby"
) -> tuple[Client, Client, list[Any]]:
    """Alice on server A, Bob on server B, same room; Alice says hi. What does Bob hear?

    Returns ``(alice, bob, heard)``: both clients stay open for the next cells.
    """
    path = f"ws/chat/{room}/"
    alice = await Client.connect(server_a, "alice", token=tokens["alice"], path=path, transcript=transcript)
    bob = await Client.connect(server_b, "bob", token=tokens["bob"], path=path, transcript=transcript)
    await asyncio.gather(alice.receive_all(), bob.receive_all())  # the join notices, whoever hears them
    await alice.send(f"hi from port {server_a.port}")
    heard: list[Any] = (await asyncio.gather(bob.receive_all(), alice.receive_all()))[0]  # Alice's copy too
    return alice, bob, heard


async def small_fanout(
    layouts: dict[str, list[Server]], token: str, clients: int = 5, rounds: int = 3
) -> list[dict[str, Any]]:
    """A live fan-out of a few messages to ``clients`` sockets per layout (a second or so each)."""
    from .bench.measure import fanout_latencies

    rows = []
    for label, servers in layouts.items():
        figures = await fanout_latencies(servers, clients, rounds=rounds, token=token, warmup=1, quiet=0.2, pause=0)
        rows.append({"layout": label, **figures})
    return rows


def fanout_table(rows: list[dict[str, Any]]) -> HTML:
    return table(
        [
            (row["layout"], row["clients"], f"{row['p50_ms']:.1f} ms", f"{row['p99_ms']:.1f} ms", row["lost"])
            for row in rows
        ],
        ["layout", "clients", "p50", "p99", "lost"],
    )


def compare(rows: list[dict[str, Any]]) -> str:
    """One sentence per number of clients, computed from ``rows``: which layout had the
    lowest median, and by how much. Words about measurements come from the measurements."""
    sentences = []
    for clients in sorted({row["clients"] for row in rows}):
        same = sorted((row for row in rows if row["clients"] == clients), key=lambda row: row["p50_ms"])
        best, worst = same[0], same[-1]
        sentences.append(
            f"{clients} clients: lowest median {best['layout']} ({best['p50_ms']:.1f} ms), "
            f"highest {worst['layout']} ({worst['p50_ms']:.1f} ms, {worst['p50_ms'] / best['p50_ms']:.1f}×)."
        )
    return "\n".join(sentences)


def benchmark_results() -> dict[str, Any]:
    """The last full ``python -m workbook bench`` run (``benchmarks/results.json``)."""
    results: dict[str, Any] = json.loads(RESULTS.read_text())
    return results


def benchmark_figure() -> Image:
    """The benchmark's fan-out rows as grouped bars (p50 solid, p99 light): the chart
    ``python -m workbook bench`` drew from these same results (``benchmarks/fanout.png``)."""
    return Image(filename=str(RESULTS.with_name("fanout.png")))


def soak_table(results: dict[str, Any]) -> HTML:
    """The soak of ``python -m workbook bench --soak`` (one room, 200 clients, a rate that climbs):
    per layout, the highest rate with every delivery in, and what the next step lost and told."""
    rows = []
    for layout in results["soak"]["layouts"]:
        lossy = layout["first_lossy_rate"]
        if lossy is None:
            above = "nothing lost at any rate tried"
        else:
            told = layout["told_at_first_lossy_rate"]
            incomplete = layout["incomplete_messages_at_first_lossy_rate"]
            above = (
                f"{lossy} msg/s: {layout['lost_at_first_lossy_rate']:,} deliveries lost in {incomplete} messages; "
                + (
                    "every sender told (room_overloaded)"
                    if told >= incomplete
                    else "nobody told: silent"
                    if told == 0
                    else f"{told} told, the rest silent"
                )
            )
        rows.append(
            (
                layout["layout"],
                f"{layout['highest_rate_kept_up']} msg/s = {layout['deliveries_per_second']:,} deliveries/s",
                above,
                ", ".join(f"{growth:+.1f} %" for growth in layout["rss_growth_pct"]),
            )
        )
    return table(rows, ["layout", "keeps up with (nothing lost)", "one step above", "server memory"])
