"""Write what Keras's VGG/ResNet/Inception/Xception modules expose, for test_api_a.py.

Run with a Keras 3 install on the torch backend (not needed at test time):

    KERAS_BACKEND=torch python tests/applications/make_api_a.py [--out DIR]

`golden/api_a.json` keeps, per Keras module (`keras.applications.resnet`, ...):
its public names; the signature of each function (parameter names, kinds,
defaults); for each application and `include_top`, the weight file Keras asks
`get_file` for with `weights="imagenet"` (file name, URL, hash: caught before
any download); and `preprocess_input` of a fixed batch.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
from keras.src.utils import file_utils

HERE = pathlib.Path(__file__).resolve().parent
MODULES = (
    "vgg16",
    "vgg19",
    "resnet",
    "resnet50",
    "resnet_v2",
    "inception_v3",
    "inception_resnet_v2",
    "xception",
)


class _Asked(Exception):
    pass


def signature(fn) -> list[list]:
    return [
        [p.name, p.kind.name, repr(p.default)]
        for p in inspect.signature(fn).parameters.values()
    ]


def weight_file(fn, include_top: bool) -> list[str]:
    """(fname, origin, file_hash) Keras fetches for `fn(weights="imagenet")`."""
    asked = []

    def get_file(fname=None, origin=None, file_hash=None, **kwargs):
        asked.append([fname, origin, file_hash])
        raise _Asked

    before = file_utils.get_file
    file_utils.get_file = get_file
    try:
        keras.backend.clear_session()
        fn(weights="imagenet", include_top=include_top)
    except _Asked:
        pass
    finally:
        file_utils.get_file = before
    (entry,) = asked
    return entry


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(HERE / "golden"))
    out = pathlib.Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(2).uniform(0, 255, (2, 3, 4, 3)).astype("float32")
    api = {}
    for name in MODULES:
        module = getattr(keras.applications, name)
        public = sorted(n for n in dir(module) if not n.startswith("_"))
        entry = {"names": public, "signatures": {}, "files": {}}
        for fn_name in public:
            fn = getattr(module, fn_name)
            entry["signatures"][fn_name] = signature(fn)
            if fn_name[0].isupper() and fn_name not in api.get("resnet", {}).get(
                "files", {}
            ):
                entry["files"][fn_name] = {
                    str(top): weight_file(fn, top) for top in (True, False)
                }
        entry["preprocessed"] = module.preprocess_input(x.copy()).tolist()
        api[name] = entry
        print(name, public)
    api["x"] = x.tolist()
    api["keras"] = keras.__version__
    (out / "api_a.json").write_text(json.dumps(api, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
