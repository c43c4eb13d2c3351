"""``python -m workbook board | join | leave`` (stable names and options: a contract)."""

import argparse
import socket
import sys


def add_board_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    board = commands.add_parser("board", help="run the live workshop board (instructor) until Ctrl-C")
    board.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to let attendees on other machines in")
    board.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    board.add_argument("--code", help="the workshop code attendees join with (default: the last one, or new)")
    board.add_argument("--key", help="the instructor's key for the page (default: the last one, or new)")
    board.add_argument("--layer", choices=("memory", "redis"), default="memory")
    board.add_argument("--redis-url", help="an external Redis (default: one the workbook starts)")
    board.set_defaults(handler=command_board)

    join = commands.add_parser("join", help="join a workshop board: your checks appear on it")
    join.add_argument("url", help="the board's address, as the instructor shows it")
    join.add_argument("--code", required=True, help="the workshop code, e.g. KITE-4821")
    join.add_argument("--name", required=True, help="how the instructor sees you (1-40 characters)")
    join.set_defaults(handler=command_join)

    leave = commands.add_parser("leave", help="leave the workshop board: checks stop reporting")
    leave.set_defaults(handler=command_leave)


def _lan_address() -> str:
    """This machine's address on the local network (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing decides the source address
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def command_board(args: argparse.Namespace) -> int:
    from ..cli import one_line
    from ..processes import StopRequest, run_until_stopped
    from ..redis_server import RedisUnavailable
    from ..server import ServerStartError
    from .server import remember_code_and_key, remembered_code_and_key, start_board

    remembered_code, remembered_key = remembered_code_and_key()
    code = args.code or remembered_code
    key = args.key or (remembered_key if code == remembered_code else None)
    everywhere = args.host in ("0.0.0.0", "::", "")
    public_host = _lan_address() if everywhere else args.host
    stop = StopRequest()
    try:
        board = start_board(
            host=args.host,
            port=args.port,
            code=code,
            key=key,
            layer=args.layer,
            redis_url=args.redis_url,
            public_host=public_host,
            extra_hosts=(socket.gethostname(),) if everywhere else (),
        )
    except (ServerStartError, RedisUnavailable, OSError, ValueError) as error:
        print(f"workbook board: {one_line(str(error))}", file=sys.stderr)
        return 1
    remember_code_and_key(board.code, board.key)
    print(f"Workshop board {board.code} is running ({args.layer} layer).", flush=True)
    print(f"  instructor page (keep the key to yourself): {board.page_url}", flush=True)
    print(f"  attendees type: {board.join_command}", flush=True)
    print("Press Ctrl-C to stop; the board keeps its data for the next start.", flush=True)
    return run_until_stopped(board, "board", "Board", stop)


def command_join(args: argparse.Namespace) -> int:
    from .client import JoinError, join

    try:
        join(args.url, args.code, args.name)
    except JoinError as error:
        print(f"workbook join: {error}", file=sys.stderr)
        return 1
    return 0


def command_leave(args: argparse.Namespace) -> int:
    from .client import leave

    leave()
    return 0
