"""``python -m workbook bench --board`` runs end to end (tiny sizes: a smoke run, not figures)."""

import json
import subprocess
import sys

import pytest


@pytest.mark.timeout(180)
def test_quick_board_bench_counts_every_outcome_on_the_instructors_socket(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "workbook", "bench", "--board", "--quick", "--output", str(tmp_path / "results.json")],
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = json.loads((tmp_path / "board.json").read_text())["board"]
    assert [row["layout"] for row in rows] == ["memory, 1 process", "redis, 2 processes"]
    for row in rows:
        expected = row["attendees"] * row["outcomes_each"]
        assert row["sent"] == row["acknowledged"] == row["count"] == expected and row["lost"] == 0
        assert 0 < row["p50_ms"] <= row["p99_ms"]
    assert "| redis, 2 processes |" in result.stdout
