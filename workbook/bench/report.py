"""Running the whole benchmark, and showing its results: a table, a plot, the README block."""
import datetime
import json
import os
import platform
import re
from pathlib import Path

from ..paths import NOTEBOOKS_DIR, REPO_DIR
from . import measure

README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def notebook_seconds() -> dict:
    from ..notebook_runner import error_cells, run_notebook

    timings = {}
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        notebook, seconds, _ = run_notebook(path)
        timings[path.name] = round(seconds, 1) if not error_cells(notebook) else "failed"
    return timings


def run(quick: bool, token: str, with_notebooks: bool = True, progress=print) -> dict:
    sizes = [5] if quick else [10, 50, 200]
    progress("start-up: harness vs bare daphne …")
    startup = measure.startup(rounds=1 if quick else 7)
    progress("echo round trips: daphne consumer vs raw websockets …")
    echo = measure.echo(count=50 if quick else 2000)
    progress(f"fan-out to {sizes} clients: memory, redis core, redis pub/sub …")
    fanout = measure.fanout(sizes, rounds=3 if quick else 40, token=token)
    notebooks = {}
    if with_notebooks:
        progress("notebooks, headless …")
        notebooks = notebook_seconds()
    return {"date": datetime.date.today().isoformat(), "machine": machine(), "quick": quick,
            "startup": startup, "echo": echo, "fanout": fanout, "notebook_seconds": notebooks}


def table(results: dict) -> str:
    startup, echo = results["startup"], results["echo"]
    lines = [
        f"Measured {results['date']} on {results['machine']['cpu']} ({results['machine']['cores']} cores), "
        f"Python {results['machine']['python']}, {results['machine']['system']}.",
        "",
        "| measurement | workbook | baseline | ratio |",
        "|---|---|---|---|",
        f"| start → first handshake (median of {startup['rounds']}) | harness {startup['harness_median_s']:.2f} s "
        f"| bare daphne {startup['bare_daphne_median_s']:.2f} s | {startup['ratio']:.2f} |",
        f"| echo round trip p50 | daphne + EchoConsumer {echo['daphne_echo_consumer']['p50_ms']:.2f} ms "
        f"| raw websockets {echo['raw_websockets']['p50_ms']:.2f} ms | {echo['ratio_p50']:.2f} |",
        f"| echo round trip p99 | {echo['daphne_echo_consumer']['p99_ms']:.2f} ms "
        f"| {echo['raw_websockets']['p99_ms']:.2f} ms | {echo['ratio_p99']:.2f} |",
        "",
        "| fan-out (send → each receipt) | clients | p50 | p99 | ratio p99 to memory | lost |",
        "|---|---|---|---|---|---|",
    ]
    memory_p99 = {row["clients"]: row["p99_ms"] for row in results["fanout"] if row["layout"].startswith("memory")}
    for row in results["fanout"]:
        ratio = row["p99_ms"] / memory_p99[row["clients"]] if memory_p99.get(row["clients"]) else float("nan")
        lines.append(f"| {row['layout']} | {row['clients']} | {row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms "
                     f"| {ratio:.2f} | {row['lost']} |")
    if results["notebook_seconds"]:
        lines += ["", "| notebook (headless, kernel start included) | seconds |", "|---|---|"]
        lines += [f"| {name} | {seconds} |" for name, seconds in results["notebook_seconds"].items()]
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    """Grouped bars: fan-out p50 and p99 per layout, for each number of clients."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = fanout_figure(plt, results["fanout"])
    figure.savefig(path, dpi=110)
    plt.close(figure)


def fanout_figure(plt, rows: list):
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
        axes.bar(positions, p50, width * 0.5, color=bars.patches[0].get_facecolor(), alpha=1.0,
                 label=f"{layout}: p50")
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


def save(results: dict, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    plot(results, output.with_name("fanout.png"))
