"""plait benchmarks: `python -m bench` runs the suite (bench/run.py)."""
