"""Write keras_ops_api.json: every keras.ops / keras.random name with its parameters.

Run with Keras 3 installed (any backend): `KERAS_BACKEND=torch python
tests/ops/make_ops_api.py`. The default test run reads the JSON and never
needs Keras.
"""

import inspect
import json
import types
from pathlib import Path

import keras


def _parameters(fn):
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return [
        [p.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
        for p in signature.parameters.values()
    ]


def main():
    namespaces = {
        "ops": keras.ops,
        "ops.nn": keras.ops.nn,
        "ops.image": keras.ops.image,
        "ops.linalg": keras.ops.linalg,
        "random": keras.random,
    }
    api = {"keras_version": keras.__version__}
    for prefix, module in namespaces.items():
        api[prefix] = {
            name: _parameters(getattr(module, name))
            for name in sorted(dir(module))
            if not name.startswith("_")
            and not isinstance(getattr(module, name), types.ModuleType)
        }
    out = Path(__file__).with_name("keras_ops_api.json")
    # One line per op keeps diffs readable.
    lines = [json.dumps({"keras_version": api.pop("keras_version")})[:-1] + ","]
    for i, (prefix, names) in enumerate(api.items()):
        entries = [f"  {json.dumps(n)}: {json.dumps(p)}" for n, p in names.items()]
        close = "}" if i == len(api) - 1 else "},"
        lines += [f" {json.dumps(prefix)}: {{", ",\n".join(entries), f" {close}"]
    out.write_text("\n".join([*lines, "}"]) + "\n")


if __name__ == "__main__":
    main()
