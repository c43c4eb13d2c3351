"""``python -m workbook bench --board``: a class of attendees reporting to the workshop board.

100 simulated attendees join over HTTP, each opens a real websocket to the board and
reports 10 outcomes as fast as a class can: back to back, one per check, and a check
takes about a second (0.5-1.5 s here), everyone at once. One instructor socket (the
one the page listens on) counts every outcome it is shown. Measured: report → page latency
(p50, p99) and anything lost, on one process with the in-memory layer and on two processes
sharing Redis.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from ..board.server import Board, start_board
from .measure import no_gc_pauses, summary

LAYOUTS = {"memory, 1 process": ("memory", 1), "redis, 2 processes": ("redis", 2)}
CHECK_SECONDS = (0.5, 1.5)  # how long one check takes: an attendee's reports are this far apart


async def _join(http: httpx.AsyncClient, board: Board, name: str) -> str:
    answer = await http.post(board.http_url + "board/api/join/", json={"code": board.code, "name": name}, timeout=30)
    return answer.json()["token"]


async def _attendee(board: Board, token: str, outcomes: int, sent: dict[str, float], exercise_ids: list[str]) -> int:
    acknowledged = 0
    async with connect(
        board.http_url.replace("http", "ws", 1) + "board/ws/report/",
        origin=Origin(board.http_url.rstrip("/")),
        additional_headers={"Authorization": f"Bearer {token}"},
    ) as websocket:
        await asyncio.sleep(random.uniform(0, CHECK_SECONDS[1]))  # not all in the same instant
        for number in range(outcomes):
            if number:
                await asyncio.sleep(random.uniform(*CHECK_SECONDS))
            report_id = uuid.uuid4().hex
            sent[report_id] = time.perf_counter()
            await websocket.send(
                json.dumps(
                    {
                        "type": "outcome",
                        "id": report_id,
                        "exercise": exercise_ids[number % len(exercise_ids)],
                        "outcome": random.choice(["passed", "failed", "error"]),
                        "seconds": 1.0,
                        "message": "bench",
                    }
                )
            )
            reply = json.loads(await asyncio.wait_for(websocket.recv(), 30))
            acknowledged += reply.get("event") == "recorded"
    return acknowledged


async def class_reports(boards: list[Board], attendees: int, outcomes: int) -> dict[str, Any]:
    """Every attendee on ``boards`` in turn; the instructor's socket on the first board."""
    first = boards[0]
    sent: dict[str, float] = {}  # report id -> when it was sent
    shown: dict[str, float] = {}  # report id -> when the page's socket had it
    async with connect(
        first.http_url.replace("http", "ws", 1) + f"board/ws/live/?key={first.key}",
        origin=Origin(first.http_url.rstrip("/")),
        max_queue=None,
    ) as live:
        state = json.loads(await asyncio.wait_for(live.recv(), 10))
        exercise_ids = state["exercise_ids"]

        async def watch() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for frame in live:
                    event = json.loads(frame)
                    if event.get("event") == "outcome":
                        shown.setdefault(event["report"], time.perf_counter())

        watcher = asyncio.create_task(watch())
        async with httpx.AsyncClient() as http:  # the class joins first, as in a real workshop
            tokens = [await _join(http, boards[n % len(boards)], f"attendee {n}") for n in range(attendees)]
        with no_gc_pauses():
            acknowledged = await asyncio.gather(
                *(_attendee(boards[n % len(boards)], tokens[n], outcomes, sent, exercise_ids) for n in range(attendees))
            )
            deadline = time.monotonic() + 10
            while len(shown.keys() & sent.keys()) < len(sent) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        watcher.cancel()
    latencies = [(shown[report] - moment) * 1000 for report, moment in sent.items() if report in shown]
    return {
        **summary(latencies),
        "attendees": attendees,
        "outcomes_each": outcomes,
        "sent": len(sent),
        "acknowledged": sum(acknowledged),
        "lost": len(sent) - len(latencies),
    }


def board_bench(attendees: int = 100, outcomes: int = 10) -> list:
    from ..redis_server import start_redis

    results = []
    with tempfile.TemporaryDirectory(prefix="board-bench-") as folder, start_redis() as redis:
        for label, (layer, processes) in LAYOUTS.items():
            database = Path(folder) / f"{layer}.sqlite3"
            code, key = f"BENCH-{random.randint(1000, 9999)}", uuid.uuid4().hex
            boards = []
            try:
                for _ in range(processes):  # one at a time: the first creates the database
                    boards.append(start_board(code=code, key=key, layer=layer, redis_url=redis.url, database=database))
                load_before = os.getloadavg()[0]
                figures = asyncio.run(class_reports(boards, attendees, outcomes))
            finally:
                for board in boards:
                    board.stop()
            # Two cores shared with other work stretch the tail: say how busy the machine was.
            results.append({"layout": label, **figures, "load_average": round(max(load_before, os.getloadavg()[0]), 1)})
    return results


def table(rows: list) -> str:
    lines = [
        "| board: report → instructor's page | attendees × outcomes | p50 | p99 | lost | load average |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {row['layout']} | {row['attendees']} × {row['outcomes_each']} | {row['p50_ms']:.1f} ms "
        f"| {row['p99_ms']:.1f} ms | {row['lost']} | {row['load_average']} |"
        for row in rows
    ]
    return "\n".join(lines)


def command_bench_board(args: argparse.Namespace) -> int:
    from .report import machine

    attendees, outcomes = (10, 3) if args.quick else (100, 10)
    print(
        f"workshop board: {attendees} attendees × {outcomes} outcomes, memory (1 process) and redis (2 processes) …",
        flush=True,
    )
    rows = board_bench(attendees, outcomes)
    output = Path(args.output)
    if output.name == "results.json":  # the default belongs to the main benchmark
        output = output.with_name("board.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "quick": args.quick, "board": rows}, indent=2
        )
        + "\n"
    )
    print(table(rows))
    print(f"\nSaved {output}")
    return 0 if all(row["lost"] == 0 for row in rows) else 1
