"""What the learner reads is true: shown code is what the text names, no outside references,
a quiet server log, and figures in prose that come from their source."""

import ast
import json
import re

import httpx
import nbformat
import pytest
from helpers import REPO
from test_browser import join, open_page, say, sign_in

from workbook.bench import prose
from workbook.notebook import defined_names, show_source
from workbook.paths import PROJECT_DIR
from workbook.server import start_server

STAGED_NOTEBOOKS = sorted((REPO / "notebooks").glob("0[0-5]_*.ipynb"))
IDENTIFIER = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\(\))?$")


def show_source_calls(code: str) -> list[tuple[tuple, dict]]:
    """The literal arguments of every ``show_source(...)`` call in a cell."""
    calls = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_source":
            calls.append(
                (
                    tuple(ast.literal_eval(arg) for arg in node.args),
                    {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords},
                )
            )
    return calls


def backticked_names(markdown: str) -> set[str]:
    """Identifiers the text names in backticks (``a.b`` gives ``a`` and ``b``)."""
    names = set()
    for quoted in re.findall(r"`([^`\n]+)`", markdown):
        if IDENTIFIER.match(quoted):
            names.update(quoted.removesuffix("()").split("."))
    return names


def groups(notebook) -> list[tuple[str, list]]:
    """(the markdown cells just before, the show_source calls of the code cells after them)."""
    found, markdown, calls, after_code = [], "", [], False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            if calls:
                found.append((markdown, calls))
                calls = []
            if after_code:
                markdown = ""
            markdown += cell.source + "\n"
            after_code = False
        else:
            calls += show_source_calls(cell.source)
            after_code = True
    if calls:
        found.append((markdown, calls))
    return found


@pytest.mark.parametrize("path", STAGED_NOTEBOOKS, ids=lambda path: path.name)
def test_show_source_shows_what_the_text_names(path):
    notebook = nbformat.read(path, as_version=4)
    for markdown, calls in groups(notebook):
        words = set(re.findall(r"\w+", markdown))
        shown, files = "", set()
        for args, options in calls:
            code = show_source(*args, **options).data
            assert code.strip(), f"{path.name}: show_source{args} shows nothing"
            for name in args[1:]:
                assert name.split(".")[-1] in words, (
                    f"{path.name}: shows {name} but the text before it never names it:\n{markdown}"
                )
            shown += code
            files.add(args[0])
        defined = {name.split(".")[-1] for file in files for name in defined_names((PROJECT_DIR / file).read_text())}
        promised = backticked_names(markdown) & defined
        missing = sorted(name for name in promised if not re.search(rf"\b{re.escape(name)}\b", shown))
        assert not missing, f"{path.name}: the text names {missing}, which the code shown never shows:\n{markdown}"


def test_the_check_above_can_fail():
    """The text of 05 once promised the limits and showed only a 3-line wrapper."""
    defined = {name.split(".")[-1] for name in defined_names((PROJECT_DIR / "websocket_app/protocol.py").read_text())}
    promised = backticked_names("the limits: `MAX_FRAME_CHARS` and `decode_frame`") & defined
    shown = show_source("websocket_app/protocol.py", "parse_message").data
    assert promised == {"MAX_FRAME_CHARS", "decode_frame"}
    assert not re.search(r"\bMAX_FRAME_CHARS\b", shown)


def test_show_source_selects_a_method_or_a_branch():
    connect = show_source("websocket_app/consumers/chat.py", "ChatConsumer.connect").data
    assert connect.startswith("class ChatConsumer(TokenAuthConsumer):\n    ...\n\n    async def connect(self):")
    assert "group_add" in connect and "chat_message" not in connect
    redis = show_source("websocket_project/settings.py", "CHANNEL_LAYERS", match="hosts").data
    assert "socket_timeout" in redis and "InMemoryChannelLayer" not in redis
    with pytest.raises(LookupError, match="2 times"):
        show_source("websocket_project/settings.py", "CHANNEL_LAYERS")


LEARNER_FACING = ["README.md", "notebooks", "exercises", "solutions", "tutorial_project"]
TEXT_SUFFIXES = {".md", ".ipynb", ".py", ".html", ".txt", ".toml"}


def test_no_learner_facing_file_mentions_the_seed():
    """Learners never had that document: files say what is meant instead."""
    mentions = []
    for entry in LEARNER_FACING:
        root = REPO / entry
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file() and path.suffix in TEXT_SUFFIXES and ".ipynb_checkpoints" not in path.parts:
                for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
                    if re.search(r"\bseed", line, re.IGNORECASE):
                        mentions.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert not mentions, "\n".join(mentions)


def _message(line: str) -> str:
    """A log line without daphne's timestamp and level, to compare with Django's own print."""
    return re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ +[A-Z]+ +", "", line).strip()


def test_served_stage_log_has_no_duplicate_lines_or_404_during_the_page_test(browser, demo_passwords):  # noqa: F811
    with start_server("chat") as server:
        httpx.post(server.url("/api/token/"), data={"username": "alice", "password": "wrong"}, timeout=10)
        page = open_page(browser, server)
        sign_in(page, "alice", demo_passwords["alice"])
        join(page, "quiet-log")
        say(page, "is the log quiet?")
        page.get_by_text("alice: is the log quiet?").wait_for()
        page.wait_for_timeout(300)  # let the favicon request and the last log lines land
        page.context.close()
        log = server.log().splitlines()
    assert any('"GET /test-ws/" 200' in line for line in log), "\n".join(log)
    assert any("Unauthorized: /api/token/" in line for line in log), "the wrong password left no line"
    assert not [line for line in log if " 404 " in line or "Not Found" in line], "\n".join(log)
    repeated = [line for before, line in zip(log, log[1:], strict=False) if _message(before) == _message(line)]
    assert not repeated, "printed twice:\n" + "\n".join(repeated)


@pytest.mark.parametrize(
    "markdown, required",
    [
        ("README.md", {"fanout_rounds", "fanout_max_clients", "bench_date"}),
        ("notebooks/README.md", {"notebook_seconds:04", "notebooks_total_seconds", "max_frame_chars"}),
    ],
)
def test_prose_figures_match_their_source(markdown, required):
    results = json.loads((REPO / "benchmarks" / "results.json").read_text())
    expected = prose.figures(results)
    quoted = prose.quoted((REPO / markdown).read_text())
    assert required <= set(quoted), f"{markdown} no longer quotes {sorted(required - set(quoted))}"
    wrong = {name: values for name, values in quoted.items() if set(values) != {expected[name]}}
    assert not wrong, f"{markdown}: {wrong} differ from { ({name: expected[name] for name in wrong}) }"


def test_prose_fill_replaces_a_stale_figure():
    results = json.loads((REPO / "benchmarks" / "results.json").read_text())
    stale = "a limit of <!-- figure:max_frame_chars -->64 000<!-- /figure --> characters"
    assert prose.quoted(prose.fill(stale, results)) == {"max_frame_chars": ["65 536"]}
    with pytest.raises(KeyError, match="no generated figure"):
        prose.fill("<!-- figure:typed_by_hand -->3<!-- /figure -->", results)
