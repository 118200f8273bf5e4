"""bench/gpu.py, the one-go GPU check: what it does on a machine without CUDA."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench import gpu

ROOT = Path(__file__).resolve().parent.parent


def test_without_cuda_it_stops_at_once_with_a_clear_message(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "gpu.md"
    assert gpu.main(["--out", str(out)]) == gpu.NO_CUDA
    err = capsys.readouterr().err
    assert "bench/gpu.py: expected a machine with CUDA, got none" in err
    assert "torch.cuda.is_available() is False" in err
    assert not out.exists()


def test_the_output_file_is_required(capsys):
    with pytest.raises(SystemExit):
        gpu.main([])
    assert "--out" in capsys.readouterr().err


@pytest.mark.slow
def test_the_script_exits_with_status_2_when_cuda_is_hidden(tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu.py"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert "expected a machine with CUDA, got none" in done.stderr


def test_the_table_shows_rates_ratios_and_failed_cells():
    rows = {
        ("mlp", "float32"): {
            "torch default": 1000.0,
            "torch plait": 1250.0,
            "plait": 1500.0,
            "plait jit": "failed: RuntimeError: boom",
        }
    }
    lines = gpu.table(rows)
    assert lines[2] == (
        "| mlp | float32 | 1,000 | 1,250 | 1,500 | 1.50x | 1.20x "
        "| failed: RuntimeError: boom | - |"
    )
