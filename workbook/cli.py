"""The ``python -m workbook`` commands.

Stable names (other tooling relies on them): ``serve``, ``check``, ``hint``,
``solution``, ``reset``, ``list``, and the workshop board's ``board``, ``join`` and
``leave`` (workbook/board/commands.py); plus ``lab``, ``test`` and ``setup``.
"""

import argparse
import io
import os
import signal
import subprocess
import sys
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .paths import NOTEBOOKS_DIR, REPO_DIR

if TYPE_CHECKING:
    from .exercises import Exercise


def command_setup(args: argparse.Namespace) -> int:
    """Migrate the database and create the demo users."""
    from .django_env import prepare_database

    print(prepare_database())
    return 0


def command_lab(args: argparse.Namespace) -> int:
    from .django_env import prepare_database

    print(prepare_database(), "Demo users: alice, bob and carol (README.md has their passwords).", flush=True)
    first = NOTEBOOKS_DIR.relative_to(REPO_DIR).as_posix()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={REPO_DIR}",
        f"--LabApp.default_url=/lab/tree/{first}",
        *args.extra,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in command:
        # Containers and cloud machines often run as root; Jupyter refuses that by default.
        print("Running as root: passing --allow-root to JupyterLab.", flush=True)
        command.append("--allow-root")
    os.execv(sys.executable, command)


def command_test(args: argparse.Namespace) -> int:
    return subprocess.call([sys.executable, "-m", "pytest", *args.extra], cwd=REPO_DIR)


def one_line(message: str) -> str:
    """The first line of an error, and its last (the cause) when it has a log tail."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if len(lines) == 1:
        return lines[0]
    return f"{lines[0].removesuffix('Its log ends with:').rstrip(' .')}: {lines[-1]}"


def _prepare_database_in_background() -> "Future[str]":
    """``prepare_database()`` in a thread; ``.result()`` waits for it (and raises its error)."""
    from concurrent.futures import ThreadPoolExecutor

    from .django_env import prepare_database

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare-database")
    future = pool.submit(prepare_database)
    pool.shutdown(wait=False)  # the thread ends when its one job is done
    return future


def command_serve(args: argparse.Namespace) -> int:
    # Only what starting daphne needs is imported before it starts: serve should be
    # ready about as soon as a bare `daphne` would be.
    from .processes import StopRequest, run_until_stopped
    from .redis_server import RedisUnavailable
    from .server import ServerStartError, launch_server, wait_until_ready

    stop = StopRequest()
    try:
        # No guard process: serve itself stays in charge (Ctrl-C, SIGTERM), and on Linux the
        # kernel stops daphne if serve dies any other way (processes.start_guarded).
        server = launch_server(
            args.stage, host=args.host, port=args.port, layer=args.layer, redis_url=args.redis_url, guard=False
        )
        # The token endpoints need users: set the database up while daphne starts.
        database = _prepare_database_in_background() if args.stage != "echo" else None
        wait_until_ready(server)
        if database is not None:
            database.result()  # raises if the database could not be set up
    except (ServerStartError, RedisUnavailable, OSError) as error:
        print(f"workbook serve: {one_line(str(error))}", file=sys.stderr)
        return 1
    print(f"Serving the {args.stage} stage ({args.layer} layer)", flush=True)
    print(f"  websocket: {server.ws_url}", flush=True)
    print(f"  test page: {server.url('/test-ws/')}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    shown = len(server.log())

    def echo_new_log_lines() -> None:
        nonlocal shown
        log = server.log()
        if not args.quiet and len(log) > shown:
            print(log[shown:], end="", flush=True)
        shown = len(log)

    return run_until_stopped(server, "serve", "Server", stop, on_tick=echo_new_log_lines)


def _exercise_or_exit(key: str) -> "Exercise":
    from .exercises import UnknownExercise, find_exercise

    try:
        return find_exercise(key)
    except UnknownExercise as error:
        sys.exit(f"workbook: {error}")


def command_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .django_env import prepare_database
    from .exercises import files_hash, load_exercises
    from .paths import EXERCISES_DIR, SOLUTIONS_DIR

    exercises = [_exercise_or_exit(key) for key in args.ids] or load_exercises()
    prepare_database(stdout=io.StringIO())  # the checks log the demo users in
    from .checker import check_exercise, keep_outcome

    root = SOLUTIONS_DIR if args.solutions else Path(args.root) if args.root else EXERCISES_DIR
    passed = 0
    for number, exercise in enumerate(exercises, start=1):
        checked_hash = files_hash(exercise, root)  # before the check: a save during it is not "passed"
        outcome = check_exercise(exercise, root)
        passed += outcome.passed
        if not args.solutions:
            keep_outcome(exercise, outcome, checked_hash)
        if args.json:
            print(outcome.to_json(), flush=True)
            continue
        print(
            f"[{number}/{len(exercises)}] {outcome} ".replace(
                f" — {outcome.summary}", f" — {outcome.summary} ({outcome.seconds:.1f} s)", 1
            ).rstrip(),
            flush=True,
        )
    if not args.json:
        print(f"{passed} of {len(exercises)} passed" + (" (solutions/)" if args.solutions else ""))
    return 0 if passed == len(exercises) else 1


def command_hint(args: argparse.Namespace) -> int:
    from .exercises import HintLevelError, hint

    try:
        print(hint(_exercise_or_exit(args.id), args.level))
    except HintLevelError as error:
        print(f"workbook hint: {error}", file=sys.stderr)
        return 2
    return 0


def command_solution(args: argparse.Namespace) -> int:
    from .exercises import solution_text

    print(solution_text(_exercise_or_exit(args.id)))
    return 0


def command_reset(args: argparse.Namespace) -> int:
    from .exercises import ResetImpossible, list_backups, reset, restore_commands

    exercise = _exercise_or_exit(args.id)
    if args.list_backups:
        backups = list_backups(exercise)
        if not backups:
            print(f"{exercise.id} has no backups yet (reset makes one before it changes anything)")
        for backup in backups:
            print(f"{backup.name}:  " + " && ".join(restore_commands(exercise, backup)))
        return 0
    try:
        result = reset(exercise)
    except ResetImpossible as error:
        print(f"workbook reset: {error}", file=sys.stderr)
        return 1
    for path in result.restored:
        print(f"restored {path.relative_to(REPO_DIR)} as shipped")
    if result.backup is not None:
        print(f"your version is kept in {result.backup}")
        print("to get it back: " + " && ".join(restore_commands(exercise, result.backup)))
        print(f"(all backups: python -m workbook reset {exercise.id} --list-backups)")
    if not result.restored:
        print(f"{exercise.id} is already as shipped")
    return 0


def command_progress(args: argparse.Namespace) -> int:
    from .progress import progress_text

    print(progress_text())
    return 0


def command_watch(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .paths import EXERCISES_DIR
    from .watch import watch

    if args.id:
        _exercise_or_exit(args.id)
    return watch(args.id, Path(args.root) if args.root else EXERCISES_DIR, poll=args.poll)


def command_list(args: argparse.Namespace) -> int:
    import json

    from .exercises import load_exercises, status_of

    rows: list[dict[str, Any]] = [
        {
            "id": exercise.id,
            "number": exercise.number,
            "title": exercise.title,
            "stage": exercise.stage,
            "exercise_files": [p.relative_to(REPO_DIR).as_posix() for p in exercise.exercise_paths()],
            "solution_files": [p.relative_to(REPO_DIR).as_posix() for p in exercise.solution_paths()],
            "status": status_of(exercise),
        }
        for exercise in load_exercises()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(
            f"{row['number']}. {row['id']:<15} {row['stage']:<5} {row['status']:<22} "
            f"{row['title']}  ({', '.join(row['exercise_files'])})"
        )
    return 0


def command_bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.board:
        from .bench.board import command_bench_board

        return command_bench_board(args)
    from .bench import report
    from .django_env import prepare_database

    prepare_database(stdout=io.StringIO())
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    token = str(AccessToken.for_user(get_user_model().objects.get(username="bob")))
    progress = lambda text: print(text, flush=True)  # noqa: E731
    if args.soak:  # kept apart from the main run: results.json keeps both
        results = report.run_soak(args.quick, token, progress)
    elif args.notebooks:
        results = report.run_notebooks(progress)
    else:
        results = report.run(args.quick, token, with_notebooks=not args.no_notebooks, progress=progress)
    output = Path(args.output)
    results = report.merged_with_previous(results, output)
    report.save(results, output)
    print(report.table(results))
    print(f"\nSaved {output}" + ("" if args.soak or args.notebooks else f" and {output.with_name('fanout.png')}"))
    if args.update_readme:
        report.update_readme(results)
        print("Updated the table in README.md")
    if args.soak:  # loss above the sustainable rate is expected; on Redis, loss nobody was told of is not
        # (the in-memory layer swallows ChannelFull in group_send: its loss is shown, not reported)
        return (
            1
            if any(row["silent_loss"] for row in results["soak"]["layouts"] if not row["layout"].startswith("memory"))
            else 0
        )
    if args.notebooks:
        return 1 if "failed" in results["notebook_seconds"].values() else 0
    lost = sum(row["lost"] for row in results["fanout"])
    return 0 if lost == 0 else 1


def command_book(args: argparse.Namespace) -> int:
    from .book import main as build_book

    return build_book(args.output)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbook",
        description="Channels Workbook: notebooks, servers and checks for learning WebSockets in Django.",
    )
    # No command at all shows the learner's progress (like rustlings).
    commands = parser.add_subparsers(dest="command", required=False, metavar="COMMAND")
    parser.set_defaults(handler=command_progress)

    lab = commands.add_parser("lab", help="open the workbook in JupyterLab (other options go to jupyter lab)")
    lab.set_defaults(handler=command_lab, passes_on="jupyter lab (e.g. --no-browser --port 8899)")

    test = commands.add_parser("test", help="run the whole test suite (other options go to pytest)")
    test.set_defaults(handler=command_test, passes_on="pytest (e.g. -k chat -x)")

    setup = commands.add_parser("setup", help="migrate the database and create the demo users")
    setup.set_defaults(handler=command_setup)

    serve = commands.add_parser("serve", help="run one stage's daphne server until Ctrl-C")
    serve.add_argument("--stage", choices=("echo", "jwt", "chat"), default="echo")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument("--layer", choices=("memory", "redis", "redis-pubsub"), default="memory")
    serve.add_argument("--redis-url", help="an external Redis (default: one the workbook starts)")
    serve.add_argument("--quiet", action="store_true", help="do not echo the server's log")
    serve.set_defaults(handler=command_serve)

    check = commands.add_parser("check", help="check exercises (all, or the ids given)")
    check.add_argument("ids", nargs="*", metavar="ID")
    check.add_argument("--solutions", action="store_true", help="check solutions/ instead")
    check.add_argument("--json", action="store_true", help="one JSON outcome per line")
    check.add_argument("--root", help=argparse.SUPPRESS)  # another exercises folder (tests, watch)
    check.set_defaults(handler=command_check)

    hint = commands.add_parser("hint", help="a hint for an exercise")
    hint.add_argument("id")
    hint.add_argument("--level", type=int, default=1, help="1 is gentle, higher says more (see the count it prints)")
    hint.set_defaults(handler=command_hint)

    solution = commands.add_parser("solution", help="show an exercise's solution")
    solution.add_argument("id")
    solution.set_defaults(handler=command_solution)

    reset = commands.add_parser("reset", help="put an exercise's files back as shipped")
    reset.add_argument("id")
    reset.add_argument(
        "--list-backups",
        action="store_true",
        help="list the copies earlier resets kept, with the command to restore each",
    )
    reset.set_defaults(handler=command_reset)

    progress = commands.add_parser(
        "progress",
        help="where you stand: passed exercises and the next one (also what plain `python -m workbook` shows)",
    )
    progress.set_defaults(handler=command_progress)

    watch = commands.add_parser("watch", help="re-check an exercise each time you save it, then move on")
    watch.add_argument("id", nargs="?", help="the exercise to start with (default: the next not passed)")
    watch.add_argument("--poll", action="store_true", help="poll the file instead of waiting for file events")
    watch.add_argument("--root", help=argparse.SUPPRESS)
    watch.set_defaults(handler=command_watch)

    bench = commands.add_parser("bench", help="measure start-up, echo and fan-out against baselines")
    bench.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, not figures")
    bench.add_argument("--no-notebooks", action="store_true", help="skip timing the notebooks")
    bench.add_argument("--notebooks", action="store_true", help="only time the notebooks, one after another")
    bench.add_argument("--output", default=str(REPO_DIR / "benchmarks" / "results.json"))
    bench.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    bench.add_argument("--board", action="store_true", help="only the workshop board: 100 attendees reporting")
    bench.add_argument(
        "--soak",
        action="store_true",
        help="only the soak: 200 clients in one room, paced sends, every delivery counted",
    )
    bench.set_defaults(handler=command_bench)

    book = commands.add_parser("book", help="build the static HTML book: every chapter executed, offline")
    book.add_argument("--output", help="the folder to build into (default: artifacts/book/)")
    book.set_defaults(handler=command_book)

    listing = commands.add_parser("list", help="the exercises, their files and status")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=command_list)

    from .board.commands import add_board_commands  # board, join, leave: the workshop board

    add_board_commands(commands)
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_on", None):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra  # lab and test pass these on unchanged
    # Ctrl-C must stop serve, board and watch even when this process was started with SIGINT
    # ignored (a shell's background job, a CI runner): Python then installs no handler of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from .processes import end_quickly

    end_quickly()  # check, list, hint…: each ends 0.2 s sooner
    return args.handler(args)
