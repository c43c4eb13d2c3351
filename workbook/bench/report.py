"""Running the whole benchmark, and showing its results: a table, a plot, the README block."""

import datetime
import json
import os
import platform
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..paths import NOTEBOOKS_DIR, REPO_DIR
from . import measure

README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = models[0] if models else cpu
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def run_notebooks(progress: Callable[[str], object] = print) -> dict:
    """The notebook times, and when and how busy the machine was (also ``bench --notebooks``)."""
    progress("notebooks, headless, one after another as a learner runs them …")
    load_before = load_average()
    seconds = notebook_seconds()
    return {
        "notebook_seconds": seconds,
        "notebook_run": {
            "date": datetime.date.today().isoformat(),
            "load_average": {"before": load_before, "after": load_average()},
        },
    }


def notebook_seconds() -> dict:
    from nbclient.exceptions import CellExecutionError

    from ..notebook_runner import error_cells, run_notebook

    timings: dict[str, float | str] = {}
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        try:  # a notebook that fails is reported as such; the other figures are kept
            notebook, seconds, _ = run_notebook(path)
        except CellExecutionError:
            timings[path.name] = "failed"
            continue
        timings[path.name] = round(seconds, 1) if not error_cells(notebook) else "failed"
    return timings


def load_average() -> list:
    """The 1, 5 and 15 minute load averages: figures from a busy machine are not comparable."""
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else []


def run(quick: bool, token: str, with_notebooks: bool = True, progress: Callable[[str], object] = print) -> dict:
    sizes = [5] if quick else [10, 50, 200]
    load_before = load_average()
    progress("start-up: harness and serve vs bare daphne …")
    startup = measure.startup(rounds=1 if quick else 9)
    progress("echo round trips: the stage-1 consumer vs a minimal Channels consumer, bare ASGI, raw websockets …")
    echo = measure.echo(count=50 if quick else 2000)
    progress(f"fan-out to {sizes} clients: memory, redis core, redis pub/sub …")
    fanout = measure.fanout(sizes, rounds=3 if quick else 40, token=token)
    notebooks = run_notebooks(progress) if with_notebooks else {"notebook_seconds": {}}
    return {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "quick": quick,
        "load_average": {"before": load_before, "after": load_average()},
        "startup": startup,
        "echo": echo,
        "fanout": fanout,
        **notebooks,
    }


def _ms(figures: dict | None, key: str) -> str:
    return f"{figures[key]:.2f} ms" if figures else "–"


def startup_and_echo_rows(startup: dict, echo: dict) -> list:
    until = startup.get("measured_until", "first handshake")
    rows = [
        f"| start → {until} (median of {startup['rounds']}) | harness {startup['harness_median_s']:.2f} s "
        f"| bare daphne {startup['bare_daphne_median_s']:.2f} s | {startup['ratio']:.2f} |"
    ]
    if "serve_median_s" in startup:
        rows.append(
            f"| start → {until} (median of {startup['rounds']}) | `python -m workbook serve` "
            f"{startup['serve_median_s']:.2f} s | bare daphne {startup['bare_daphne_median_s']:.2f} s "
            f"| {startup['serve_ratio']:.2f} |"
        )
    consumer, raw = echo["daphne_echo_consumer"], echo["raw_websockets"]
    minimal, bare = echo.get("minimal_consumer_daphne"), echo.get("bare_asgi_daphne")
    for key in ("p50_ms", "p99_ms"):
        label = key.split("_")[0]
        if minimal:
            rows.append(
                f"| echo round trip {label} | daphne + EchoConsumer {consumer[key]:.2f} ms "
                f"| minimal Channels consumer {_ms(minimal, key)} | {consumer[key] / minimal[key]:.2f} |"
            )
        rows.append(
            f"| echo round trip {label} | daphne + EchoConsumer {consumer[key]:.2f} ms "
            f"| raw websockets {raw[key]:.2f} ms | {consumer[key] / raw[key]:.2f} |"
        )
    if minimal and bare:
        rows.append(
            f"| echo baselines p50 | minimal Channels consumer {_ms(minimal, 'p50_ms')} "
            f"| bare ASGI echo under daphne {_ms(bare, 'p50_ms')} "
            f"| {minimal['p50_ms'] / bare['p50_ms']:.2f} |"
        )
    return rows


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def soak_rows(soak: list) -> list:
    lines = [
        "",
        "| soak: one room, paced sends (`bench --soak`) | clients "
        "| highest rate kept up with (nothing lost, last delivery ≤ 1 s after its send) "
        "| first rate that lost | deliveries lost there (messages incomplete / senders told) "
        "| out of order | server RSS after warm-up → after that highest rate |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in soak:
        rss = ", ".join(
            f"{warm:.0f} → {end:.0f} MB"
            for warm, end in zip(
                row["rss_mb_after_warm_up"],
                row.get("rss_mb_after_highest_kept_up", row["rss_mb_after_run"]),
                strict=True,
            )
        )
        lossy = f"{row['first_lossy_rate']} msg/s" if row["first_lossy_rate"] else "none"
        lines.append(
            f"| {row['layout']} | {row['clients']} "
            f"| {row.get('highest_rate_kept_up', row['highest_rate_nothing_lost'])} msg/s "
            f"= {_thousands(row['deliveries_per_second'])} deliveries/s | {lossy} "
            f"| {_thousands(row['lost_at_first_lossy_rate'])} "
            f"({row.get('incomplete_messages_at_first_lossy_rate', '?')} / "
            f"{row['told_at_first_lossy_rate']}) | {row['out_of_order']} | {rss} |"
        )
    return lines


def table(results: dict) -> str:
    if "startup" not in results:  # a soak or the notebooks on their own, into a new results file
        parts = soak_rows(results["soak"]["layouts"]) if results.get("soak") else []
        return "\n".join(parts + notebook_rows(results)).strip()
    startup, echo = results["startup"], results["echo"]
    load = results.get("load_average", {}).get("before")
    lines = [
        f"Measured {results['date']} on {results['machine']['cpu']} ({results['machine']['cores']} cores), "
        f"Python {results['machine']['python']}, {results['machine']['system']}"
        + (f"; load average {load[0]:.2f} at the start." if load else "."),
        "",
        "| measurement | workbook | baseline | ratio |",
        "|---|---|---|---|",
        *startup_and_echo_rows(startup, echo),
        "",
        "| fan-out (send → each receipt) | clients | p50 | p99 | ratio p99 to memory | lost |",
        "|---|---|---|---|---|---|",
    ]
    memory_p99 = {row["clients"]: row["p99_ms"] for row in results["fanout"] if row["layout"].startswith("memory")}
    for row in results["fanout"]:
        ratio = row["p99_ms"] / memory_p99[row["clients"]] if memory_p99.get(row["clients"]) else float("nan")
        lines.append(
            f"| {row['layout']} | {row['clients']} | {row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms "
            f"| {ratio:.2f} | {row['lost']} |"
        )
    if results.get("soak"):
        lines += soak_rows(results["soak"]["layouts"])
    return "\n".join(lines + notebook_rows(results))


def notebook_rows(results: dict) -> list:
    seconds = results.get("notebook_seconds")
    if not seconds:
        return []
    measured_on = results.get("notebook_run", {}).get("date", results.get("date"))
    measured = [value for value in seconds.values() if isinstance(value, (int, float))]
    return [
        "",
        f"| notebook (headless, kernel start included; {measured_on}) | seconds |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in seconds.items()),
        f"| **all {len(measured)}, one after another** | **{sum(measured):.1f}** |",
    ]


def plot(results: dict, path: Path) -> None:
    """Grouped bars: fan-out p50 and p99 per layout, for each number of clients."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = fanout_figure(plt, results["fanout"])
    figure.savefig(path, dpi=110)
    plt.close(figure)


def fanout_figure(plt: Any, rows: list) -> Any:
    layouts = list(dict.fromkeys(row["layout"] for row in rows))
    sizes = sorted({row["clients"] for row in rows})
    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(layouts)
    for index, layout in enumerate(layouts):
        by_size = {row["clients"]: row for row in rows if row["layout"] == layout}
        positions = [size_index + index * width for size_index in range(len(sizes))]
        p99 = [by_size[size]["p99_ms"] for size in sizes]
        p50 = [by_size[size]["p50_ms"] for size in sizes]
        bars = axes.bar(positions, p99, width, alpha=0.45, label=f"{layout}: p99")
        axes.bar(positions, p50, width * 0.5, color=bars.patches[0].get_facecolor(), alpha=1.0, label=f"{layout}: p50")
    axes.set_xticks([size_index + width * (len(layouts) - 1) / 2 for size_index in range(len(sizes))])
    axes.set_xticklabels([f"{size} clients" for size in sizes])
    axes.set_ylabel("milliseconds, send → receipt")
    axes.set_title("Fan-out latency by channel layer")
    axes.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    return figure


def update_readme(results: dict, readme: Path = REPO_DIR / "README.md") -> None:
    text = readme.read_text()
    block = f"{README_START}\n{table(results)}\n\n![fan-out latency](benchmarks/fanout.png)\n{README_END}"
    if README_START in text:
        text = re.sub(re.escape(README_START) + ".*?" + re.escape(README_END), lambda _: block, text, flags=re.S)
    else:
        text += f"\n## Benchmarks\n\n`python -m workbook bench` measured:\n\n{block}\n"
    readme.write_text(text)
    from .prose import update_files  # the figures quoted in prose, here and in notebooks/README.md

    update_files(results)


#: Parts of the results measured by runs of their own (``bench --soak``, ``bench --notebooks``).
SEPARATE_PARTS = ("soak", "notebook_seconds", "notebook_run")


def merged_with_previous(results: dict, output: Path) -> dict:
    """A run updates only what it measured: the main run keeps the soak (and the notebook
    times when it skipped them), a ``--soak`` or ``--notebooks`` run keeps everything else."""
    if not output.exists():
        return results
    previous = json.loads(output.read_text())
    if set(results) <= set(SEPARATE_PARTS):
        return {**previous, **results}
    kept = {part: previous[part] for part in SEPARATE_PARTS if previous.get(part) and not results.get(part)}
    return {**results, **kept}


def save(results: dict, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    if results.get("fanout"):
        plot(results, output.with_name("fanout.png"))


def run_soak(quick: bool, token: str, progress: Callable[[str], object] = print) -> dict:
    from .soak import soak

    load_before = load_average()
    layouts = soak(token, quick=quick, progress=progress)
    return {
        "soak": {
            "date": datetime.date.today().isoformat(),
            "quick": quick,
            "load_average": {"before": load_before, "after": load_average()},
            "layouts": layouts,
        }
    }
