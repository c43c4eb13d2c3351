"""``python -m workbook book``: the static book, built once per test session and read in Chromium.

The build is the real command (executing the chapters, or reusing their cached executions);
every page is then opened in headless Chromium from a plain local HTTP server, with every
request recorded and any to another host refused.
"""

import contextlib
import functools
import http.server
import os
import re
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest
from helpers import REPO

from workbook.book import LIVE_PAGE_NOTE, chapters
from workbook.exercises import load_exercises

pytestmark = pytest.mark.timeout(900)  # the first test pays for the build
JWT = re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")
WAIT_MS = 20_000


# For the rebuild: every proxy-aware client (Python's, npm's) is pointed at a closed local port.
NO_NETWORK = {name: "http://127.0.0.1:9" for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
NO_NETWORK.update(no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost", npm_config_offline="true")


def run_book(output: Path, env: dict | None = None) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "workbook", "book", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=800,
        env={**os.environ, **(env or {})},
    )
    return result, time.monotonic() - started


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    output = tmp_path_factory.mktemp("book") / "html"
    first, first_seconds = run_book(output)
    # Nothing changed in between: all from the caches, and no network needed.
    again, again_seconds = run_book(output, env=NO_NETWORK)
    return {"output": output, "first": first, "again": again, "again_seconds": again_seconds}


@pytest.fixture(scope="module")
def book(built):
    if not (built["output"] / "index.html").exists():
        pytest.fail(f"no book was built:\n{built['first'].stdout[-3000:]}\n{built['first'].stderr[-3000:]}")
    return built["output"]


@pytest.fixture(scope="module")
def site(book):
    """The book on a plain static HTTP server (port 0), as a reader or a CI job would serve it."""
    handler = functools.partial(QuietHandler, directory=str(book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def html_pages(book: Path) -> list[Path]:
    """The book's pages (the theme's _static/ also holds an .html template: not a page)."""
    return sorted(p for p in book.rglob("*.html") if not {".doctrees", "_static"} & set(p.parts))


def chapter_page(book: Path, notebook: Path) -> Path:
    return book / f"{notebook.stem}.html"


# --- the build -----------------------------------------------------------------------------


def test_build_executes_every_chapter_and_says_where_the_book_is(built):
    first = built["first"]
    assert first.returncode == 0, f"{first.stdout[-4000:]}\n{first.stderr[-4000:]}"
    index = built["output"] / "index.html"
    assert "Book built in " in first.stdout and str(index) in first.stdout
    for number, notebook in enumerate(chapters(), start=1):
        assert re.search(
            rf"^\[{number}/{len(chapters())}\] {re.escape(notebook.name)}: (executed in|cached)",
            first.stdout,
            flags=re.M,
        ), f"no progress line for {notebook.name}"


def test_a_rebuild_with_nothing_changed_reuses_every_execution_within_15_s(built):
    again = built["again"]
    hashes = [re.search(r"^Project code (\w+)", run.stdout, flags=re.M).group(1) for run in (built["first"], again)]
    if hashes[0] != hashes[1] and not os.environ.get("CI"):
        # Someone edited the project's code between the two builds (shared checkout):
        # executing again is then right. In CI nothing else edits, so this never skips there.
        pytest.skip("the project's code changed between the two builds")
    assert again.returncode == 0, f"{again.stdout[-4000:]}\n{again.stderr[-4000:]}"
    for notebook in chapters():
        assert f"{notebook.name}: cached" in again.stdout, again.stdout
    assert "executed in" not in again.stdout
    assert built["again_seconds"] <= 15, f"the rebuild took {built['again_seconds']:.1f} s"


def test_pages_are_in_book_order(book):
    """Front page, chapters 00-NN as found in notebooks/, the exercises, the guide: prev/next."""
    expected = (
        ["index.html"]
        + [f"{n.stem}.html" for n in chapters()]
        + ["exercises/index.html"]
        + [f"exercises/{e.id}.html" for e in load_exercises()]
        + ["instructors_guide.html"]
    )
    order, page = [], "index.html"
    while page and len(order) <= len(expected):
        order.append(page)
        text = (book / page).read_text()
        found = re.search(r'<a class=[\'"]right-next[\'"][^>]*href="([^"#]+)"', text)
        page = urljoin(page, found.group(1)) if found else None
    assert order == expected


def test_front_page_is_the_readme_introduction(book):
    readme = (REPO / "README.md").read_text()
    first_paragraph = readme.split("\n\n")[1].split("\n")[0]  # the line after the title
    text = visible_text((book / "index.html").read_text())
    assert " ".join(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", first_paragraph).split()[:6]) in text


def test_exercise_pages_fold_hints_and_solution(book):
    for exercise in load_exercises():
        page = (book / "exercises" / f"{exercise.id}.html").read_text()
        folds = re.findall(r"<details class=\"exercise-fold\"><summary>(.*?)</summary>", page)
        assert [f for f in folds if f.startswith("Hint")] == [f"Hint {n}" for n in range(1, len(exercise.hints) + 1)]
        assert any(f.startswith("Show solution") for f in folds), exercise.id
        solution = (REPO / "solutions" / exercise.files[0]).read_text()
        last_line = [line for line in solution.splitlines() if line.strip()][-1].strip()
        fold = page.split("Show solution", 1)[1].split("</details>", 1)[0]
        assert last_line.split()[0] in visible_text(fold), exercise.id


def test_no_token_appears_anywhere(book):
    for page in html_pages(book):
        assert not JWT.search(page.read_text()), f"a JWT in {page.relative_to(book)}"


def test_every_internal_link_resolves(book):
    ids_by_page = {}
    broken = []
    for page in html_pages(book):
        for href in links(page.read_text()):
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("//", "mailto:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(book)} -> {href}")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = ids_by_page.setdefault(target, set(re.findall(r'\bid="([^"]+)"', target.read_text())))
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(book)} -> {href} (no such anchor)")
    assert broken == []


# --- in Chromium ------------------------------------------------------------------------------


@contextlib.contextmanager
def recording_page(browser):  # noqa: F811
    """A page that records requests, console errors and page errors; outside requests fail."""
    context = browser.new_context()
    seen = {"requests": [], "outside": [], "errors": []}

    def route(route):
        url = route.request.url
        seen["requests"].append(url)
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname != "127.0.0.1":
            seen["outside"].append(url)
            return route.abort()
        return route.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(f"console: {m.text}"))
    page.on("pageerror", lambda e: seen["errors"].append(f"page error: {e}"))
    try:
        yield page, seen
    finally:
        context.close()


def test_every_page_loads_offline_without_errors(browser, book, site):  # noqa: F811
    problems = []
    with recording_page(browser) as (page, seen):
        for path in html_pages(book):
            relative = path.relative_to(book).as_posix()
            seen["errors"].clear()
            page.goto(site + relative, wait_until="load")
            if page.locator("pre.mermaid").count():
                page.wait_for_function("document.documentElement.dataset.mermaid === 'rendered'")
            page.wait_for_timeout(100)  # late console errors (fonts, scripts)
            problems += [f"{relative}: {error}" for error in seen["errors"]]
        assert seen["outside"] == [], f"requests that left the machine: {seen['outside']}"
        assert len(seen["requests"]) >= len(html_pages(book))
    assert problems == []


def test_each_chapter_shows_executed_output_and_rendered_diagrams(browser, book, site):  # noqa: F811
    with recording_page(browser) as (page, seen):
        for notebook in chapters():
            page.goto(site + chapter_page(book, notebook).name)
            outputs = page.locator(".cell_output")
            assert outputs.count() >= 1, f"{notebook.name}: no executed output"
            assert "Traceback" not in outputs.first.inner_text()
            expected = mermaid_blocks(notebook)
            diagrams = page.locator("pre.mermaid")
            assert diagrams.count() == expected, notebook.name
            if expected:
                page.wait_for_function("document.documentElement.dataset.mermaid === 'rendered'")
                assert page.locator("pre.mermaid svg").count() == expected, notebook.name
                assert (
                    "flowchart" not in diagrams.first.inner_text()
                    and "sequenceDiagram" not in diagrams.first.inner_text()
                )
        assert seen["errors"] == [] and seen["outside"] == []


def test_code_is_highlighted_and_live_pages_are_replaced_by_a_note(book):
    chapter = chapter_page(book, chapters()[1]).read_text()
    assert re.search(r'<div class="highlight"><pre>.*<span class="k[a-z]?">', chapter, flags=re.S)
    for path in html_pages(book):
        assert "<iframe" not in path.read_text(), path.name
    notes = [n for n in chapters() if "test_page(" in n.read_text()]
    for notebook in notes:
        assert LIVE_PAGE_NOTE.strip("*")[:40] in chapter_page(book, notebook).read_text(), notebook.name


def test_a_solution_shows_only_when_asked(browser, book, site):  # noqa: F811
    exercise = load_exercises()[0]
    with recording_page(browser) as (page, seen):
        page.goto(site + f"exercises/{exercise.id}.html")
        fold = page.locator("details.exercise-fold", has_text="Show solution").first
        code = fold.locator("div.highlight")
        assert not code.is_visible()
        fold.locator("summary").click()
        code.wait_for(state="visible")
        assert seen["errors"] == [] and seen["outside"] == []


@pytest.mark.parametrize("via", ["http", "file"])
def test_search_finds_group_send(browser, book, site, via):  # noqa: F811
    base = site if via == "http" else (book.as_uri() + "/")
    with recording_page(browser) as (page, seen):
        page.goto(base + "search.html?q=group_send")
        results = page.locator("#search-results ul.search li a")
        results.first.wait_for()
        assert results.count() >= 1
        first = urljoin(page.url, results.first.get_attribute("href")).split("#")[0].split("?")[0]
        target = book / first.removeprefix(base).removeprefix("/")
        assert "group_send" in visible_text(target.read_text())
        assert seen["errors"] == [] and seen["outside"] == []


# --- helpers ------------------------------------------------------------------------------------


def mermaid_blocks(notebook: Path) -> int:
    cells = nbformat.read(notebook, as_version=4).cells
    return sum(cell.source.count("```mermaid") for cell in cells if cell.cell_type == "markdown")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name) and not (tag == "a" and name == "src"):
                self.hrefs.append(attrs[name])


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def visible_text(html: str) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    import html as html_module

    return " ".join(html_module.unescape(text).split())


def test_a_failing_cell_is_named_with_its_error_and_the_run_goes_on(tmp_path):
    """What the build prints when a chapter breaks: the cell, its first lines, the error."""
    from workbook.book import execute_chapter

    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# 99 — broken"),
            nbformat.v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),  # on purpose
            nbformat.v4.new_code_cell("answer = 41\nanswer + missing_name"),
            nbformat.v4.new_code_cell("print('never runs')"),
        ]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(notebook, path)
    executed, failure = execute_chapter(path, tmp_path / "data")
    assert failure.startswith(
        f"99_broken.ipynb: cell 3 (id {notebook.cells[2].id}) failed — NameError: name 'missing_name' is not defined"
    )
    assert "answer + missing_name" in failure
    assert executed.cells[1].outputs[0].ename == "ZeroDivisionError"  # the tagged error is kept
    assert executed.cells[3].outputs == []


def test_an_executed_chapter_is_found_again_in_the_cache(tmp_path):
    """The cache key is the notebook's code: executing must not change what is hashed."""
    from jupyter_cache import get_cache

    from workbook.book import cache_bundle, cached_outputs, execute_chapter

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "98_tiny.ipynb"
    nbformat.write(notebook, path)
    executed, failure = execute_chapter(path, tmp_path / "data")
    assert failure is None
    cache = get_cache(tmp_path / "cache")
    assert cached_outputs(cache, nbformat.read(path, as_version=4)) is None
    cache.cache_notebook_bundle(cache_bundle(executed, path), check_validity=False, overwrite=True)
    merged = cached_outputs(cache, nbformat.read(path, as_version=4))
    assert merged.cells[0].outputs[0].text == "42\n"
    notebook.cells[0].source = "print(6 * 8)"  # changed code: not found
    assert cached_outputs(cache, notebook) is None
