"""The benchmark script runs end to end (a smoke run with tiny sizes: figures, not timing tests)."""
import json
import subprocess
import sys

import pytest

from workbook.bench.measure import percentile


def test_percentile_is_nearest_rank():
    values = [4, 1, 3, 2]
    assert percentile(values, 0.5) == 2
    assert percentile(values, 0.99) == 4
    assert percentile(list(range(1, 101)), 0.99) == 99


@pytest.mark.timeout(240)
def test_quick_bench_writes_results_and_plot(tmp_path):
    output = tmp_path / "results.json"
    result = subprocess.run([sys.executable, "-m", "workbook", "bench", "--quick", "--no-notebooks",
                             "--output", str(output)], capture_output=True, text=True, timeout=200)
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads(output.read_text())
    assert results["startup"]["ratio"] > 0 and results["echo"]["ratio_p50"] > 0
    assert {row["layout"] for row in results["fanout"]} == {
        "memory, 1 process", "redis core, 2 processes", "redis pub/sub, 2 processes"}
    assert all(row["lost"] == 0 and row["count"] == row["clients"] * row["rounds"] for row in results["fanout"])
    assert (tmp_path / "fanout.png").stat().st_size > 10_000
    assert "| echo round trip p50 |" in result.stdout
