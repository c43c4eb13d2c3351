"""The benchmark script runs end to end (a smoke run with tiny sizes: figures, not timing tests)."""

import json
import subprocess
import sys

import pytest

from workbook.bench.measure import percentile
from workbook.bench.soak import QUICK


def test_percentile_is_nearest_rank():
    values = [4, 1, 3, 2]
    assert percentile(values, 0.5) == 2
    assert percentile(values, 0.99) == 4
    assert percentile(list(range(1, 101)), 0.99) == 99


@pytest.mark.timeout(240)
def test_quick_bench_writes_results_and_plot(tmp_path):
    output = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "-m", "workbook", "bench", "--quick", "--no-notebooks", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads(output.read_text())
    assert results["startup"]["ratio"] > 0 and results["startup"]["serve_ratio"] > 0
    assert results["echo"]["ratio_p50"] > 0
    for baseline in ("raw_websockets", "bare_asgi_daphne", "minimal_consumer_daphne"):
        assert results["echo"][baseline]["count"] > 0, baseline
    assert {row["layout"] for row in results["fanout"]} == {
        "memory, 1 process",
        "redis core, 2 processes",
        "redis pub/sub, 2 processes",
    }
    assert all(row["lost"] == 0 and row["count"] == row["clients"] * row["rounds"] for row in results["fanout"])
    assert (tmp_path / "fanout.png").stat().st_size > 10_000
    assert "| echo round trip p50 |" in result.stdout
    assert "| minimal Channels consumer" in result.stdout


@pytest.mark.timeout(240)
def test_quick_soak_counts_every_delivery(tmp_path):
    output = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "-m", "workbook", "bench", "--soak", "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    layouts = json.loads(output.read_text())["soak"]["layouts"]
    assert [row["layout"] for row in layouts] == [
        "memory, 1 process",
        "redis core, 2 processes",
        "redis pub/sub, 2 processes",
    ]
    for row in layouts:
        # tiny rates: everything arrives, in order, and each step counted every delivery
        assert row["steps"] and all(step["delivered"] == step["expected"] > 0 for step in row["steps"])
        assert row["out_of_order"] == 0 and not row["silent_loss"]
        assert row["highest_rate_nothing_lost"] == row["steps"][-1]["rate"] == max(QUICK["rates"])
        assert all(rss > 10 for rss in row["rss_mb_after_run"])  # the daphne process, not the guard
    assert "| soak: one room" in result.stdout


def test_each_run_updates_only_what_it_measured(tmp_path):
    from workbook.bench.report import merged_with_previous

    output = tmp_path / "results.json"
    main = {"startup": {"s": 1}, "echo": {}, "fanout": [], "notebook_seconds": {"00.ipynb": 4.0, "01.ipynb": 2.5}}
    output.write_text(json.dumps({**main, "soak": {"layouts": ["old soak"]}}))
    assert merged_with_previous({"soak": {"layouts": ["new"]}}, output) == {**main, "soak": {"layouts": ["new"]}}
    notebooks_only = merged_with_previous(
        {"notebook_seconds": {"00.ipynb": 3.0}, "notebook_run": {"date": "d"}}, output
    )
    assert notebooks_only["notebook_seconds"] == {"00.ipynb": 3.0} and notebooks_only["startup"] == {"s": 1}
    assert notebooks_only["notebook_run"] == {"date": "d"}
    assert notebooks_only["soak"] == {"layouts": ["old soak"]}
    skipped = merged_with_previous({**main, "startup": {"s": 2}, "notebook_seconds": {}}, output)
    assert skipped["startup"] == {"s": 2} and skipped["notebook_seconds"] == main["notebook_seconds"]
    assert skipped["soak"] == {"layouts": ["old soak"]}


def test_the_notebook_times_alone_make_a_table():
    """``bench --notebooks`` into a new results file: nothing else to show, no error."""
    from workbook.bench.report import table

    shown = table({"notebook_seconds": {"00.ipynb": 3.0, "01.ipynb": "failed", "02.ipynb": 2.5}})
    assert shown.splitlines()[-1] == "| **all 2, one after another** | **5.5** |"
    assert "| 01.ipynb | failed |" in shown
