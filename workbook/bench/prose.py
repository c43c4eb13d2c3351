"""Figures quoted in prose (README.md, notebooks/README.md), filled in from their source.

A figure in a Markdown file is written ``<!-- figure:NAME -->value<!-- /figure -->``; the
value between the markers is generated, never typed: from ``benchmarks/results.json``
(timings, rounds) or from ``protocol.py`` (limits). ``python -m workbook bench
--update-readme`` refreshes them, and tests/test_teaching.py checks they match.
"""

import re
from pathlib import Path

from ..paths import NOTEBOOKS_DIR, REPO_DIR

FILES = [REPO_DIR / "README.md", NOTEBOOKS_DIR / "README.md"]
FIGURE = re.compile(r"<!-- figure:(?P<name>[\w.:-]+) -->(?P<value>.*?)<!-- /figure -->", re.S)


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def figures(results: dict) -> dict[str, str]:
    """Every figure the prose may quote, as text."""
    import sys

    from ..paths import PROJECT_DIR

    if str(PROJECT_DIR) not in sys.path:  # protocol.py is plain Python: no Django set-up needed
        sys.path.append(str(PROJECT_DIR))
    from websocket_app.protocol import MAX_FRAME_CHARS, MAX_MESSAGE_CHARS

    values = {
        "max_frame_chars": _thousands(MAX_FRAME_CHARS),
        "max_message_chars": _thousands(MAX_MESSAGE_CHARS),
        "bench_date": results["date"],
        "fanout_rounds": str(results["fanout"][0]["rounds"]),
        "fanout_max_clients": str(max(row["clients"] for row in results["fanout"])),
        "startup_rounds": str(results["startup"]["rounds"]),
    }
    seconds = {
        name: value for name, value in results.get("notebook_seconds", {}).items() if isinstance(value, (int, float))
    }
    for name, value in seconds.items():
        values[f"notebook_seconds:{name.split('_')[0]}"] = f"{value:.1f} s"
    if seconds:
        values["notebooks_total_seconds"] = f"{sum(seconds.values()):.0f} s"
    return values


def fill(text: str, results: dict) -> str:
    """``text`` with every figure's value replaced by the generated one."""
    values = figures(results)

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in values:
            raise KeyError(f"no generated figure called {name!r} (known: {', '.join(sorted(values))})")
        return f"<!-- figure:{name} -->{values[name]}<!-- /figure -->"

    return FIGURE.sub(replace, text)


def quoted(text: str) -> dict[str, list[str]]:
    """The figures ``text`` quotes now: name -> values (a name may be quoted twice)."""
    found: dict[str, list[str]] = {}
    for match in FIGURE.finditer(text):
        found.setdefault(match.group("name"), []).append(match.group("value"))
    return found


def update_files(results: dict, files: list[Path] = FILES) -> None:
    for path in files:
        text = path.read_text()
        filled = fill(text, results)
        if filled != text:
            path.write_text(filled)
