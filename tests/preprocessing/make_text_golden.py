"""Write Keras 3's results of its legacy (Keras 2) text and sequence preprocessing.

Run with a Keras 3 install on the torch backend (not needed at test time):

    KERAS_BACKEND=torch python tests/preprocessing/make_text_golden.py [--out DIR]

Keras 3 keeps these functions, undocumented, in `keras.src.legacy.preprocessing.text`
and `.sequence` (the public `keras.preprocessing.sequence` has `pad_sequences` only,
also `keras.utils.pad_sequences`). `cases.run_all` runs every case of `cases.py` on
them; the results go to `golden/preprocessing.json` with the Keras version, and
`test_parity.py` replays the cases on plait. `one_hot` (Python's salted `hash`) has no
golden; `hashing_trick(hash_function="md5")` has. The script reruns itself with
`PYTHONHASHSEED=0` so that the file it writes is the same on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    # Set-ordered fields of the Tokenizer JSON (word_docs) follow str hashing.
    os.execve(
        sys.executable,
        [sys.executable, *sys.argv],
        {**os.environ, "PYTHONHASHSEED": "0"},
    )
os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
from keras.src.legacy.preprocessing import sequence, text

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.preprocessing.cases import make_api, run_all

GOLDEN = pathlib.Path(__file__).parent / "golden"

KERAS_API = make_api(sequence, text, keras.utils.pad_sequences)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=GOLDEN)
    out_dir = parser.parse_args().out
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {"keras": keras.__version__, **run_all(KERAS_API)}
    path = out_dir / "preprocessing.json"
    path.write_text(json.dumps(results) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
