"""Every benchmark script still imports and parses its arguments (they are not run in CI: they take minutes);
the bare-engine comparison, which writes to the tables by hand for its floor, runs a few instances."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_DATABASE, postgres_url

SCRIPTS = sorted(path for path in (ROOT / "bench").glob("*.py") if path.name != "common.py")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_benchmark_script_starts(script: Path) -> None:
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage:" in result.stdout


def test_bare_engine_comparison_runs_its_floors_and_keeps_the_audit_chains_intact() -> None:
    url = postgres_url(f"{TEST_DATABASE}_bench")
    result = subprocess.run([sys.executable, "bench/bare_vs_service.py", "--instances", "2", "--database-url", url],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    for floor in ("floor, 2 round trips", "floor, 1 round trip"):
        assert any(line.startswith(floor) for line in lines), result.stdout
        assert any(line.startswith(f"submit: {floor} ") for line in lines), result.stdout
    [cpu] = [line for line in lines if line.startswith("submit: service CPU in this process ")]
    assert "x the whole budget" in cpu, result.stdout
    [costs] = [line for line in lines if line.startswith("one primary-key SELECT")]
    assert all(f"{name} " in costs for name in ("psycopg", "SQLAlchemy Core", "SQLAlchemy ORM")), costs
