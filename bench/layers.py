"""Layer benchmarks in one run: Conv2D, LSTM, GRU and TimeDistributed(Dense) vs torch.

Run: `python bench/layers.py [--threads 1]`. Prints the convolution table
(`bench/layers_conv.py`) and the recurrent/wrapper table (`bench/layers_rnn.py`),
each timing plait and the same computation written directly with torch
(`nn.Conv2d` on NCHW input, `nn.LSTM`, `nn.GRU`, `nn.Linear`), forward+backward,
interleaved after warm-up, as plait/torch time ratios.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import layers_conv
import layers_rnn


def main() -> None:
    """Run both layer benchmarks with the same thread count."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for module in (layers_conv, layers_rnn):
        sys.argv = [module.__file__ or module.__name__, "--threads", str(args.threads)]
        module.main()


if __name__ == "__main__":
    main()
