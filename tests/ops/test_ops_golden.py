"""plait's ops against Keras 3's results on the same inputs (`golden/ops.*`).

`make_ops_golden.py` ran every case of `ops_cases.py` on Keras (torch
backend); here each runs on plait and must give the same values (within the
case's tolerance) and the same result dtypes. Cases where Keras itself raised
on the torch backend are not compared (plait may do more), nor those in
`ops_cases.DIFFERS`, where plait departs from Keras's torch backend on purpose
(and the test checks that it still does). Every op plait
provides must have a case or be listed in `ops_cases.EXCLUDED` with a reason.
"""

import importlib
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.ops.ops_cases import CASES, DIFFERS, EXCLUDED, NAMESPACES, leaves, run

GOLDEN = Path(__file__).with_name("golden")
TABLE = json.loads((GOLDEN / "ops.json").read_text())["cases"]
MODULES = {ns: importlib.import_module(f"plait.{ns}") for ns in NAMESPACES}
API = json.loads(Path(__file__).with_name("keras_ops_api.json").read_text())
COMPARED = [
    c for c in CASES if "error" not in TABLE.get(c.key, {}) and c.key not in DIFFERS
]


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN / "ops.npz") as data:
        yield {key: data[key] for key in data.files}


@pytest.mark.parametrize("case", COMPARED, ids=[c.key for c in COMPARED])
def test_op_matches_keras(case, golden):
    expected = TABLE[case.key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = leaves(run(MODULES[case.namespace], case))
    assert [dtype for _, dtype in got] == expected["dtypes"]
    for i, (value, _) in enumerate(got):
        want = golden.get(f"{case.key}:{i}")
        if want is None:
            assert value is None
            continue
        assert value.shape == want.shape, i
        np.testing.assert_allclose(
            value, want, rtol=case.rtol, atol=case.atol, equal_nan=True, err_msg=i
        )


@pytest.mark.parametrize("key", sorted(DIFFERS))
def test_listed_differences_still_differ(key, golden):
    case = next(c for c in CASES if c.key == key)
    got = leaves(run(MODULES[case.namespace], case))
    want = TABLE[key]
    shapes = [None if v is None else list(v.shape) for v, _ in got]
    if [d for _, d in got] == want["dtypes"] and shapes == want["shapes"]:
        values = [golden.get(f"{key}:{i}") for i in range(len(got))]
        assert not all(
            np.allclose(v, w, rtol=case.rtol, atol=case.atol, equal_nan=True)
            for (v, _), w in zip(got, values)
            if v is not None
        )


def _same(a, b):
    return a is b or (callable(a) and getattr(a, "__wrapped__", a) is b)


def test_every_provided_op_is_golden_checked_or_excluded():
    checked = [getattr(MODULES[c.namespace], c.op) for c in CASES]
    unlisted = []
    for namespace in NAMESPACES:
        module = MODULES[namespace]
        for name in API[namespace]:
            if name in getattr(module, "NOT_PROVIDED", {}):
                continue
            if f"{namespace}.{name}" in EXCLUDED:
                continue
            op = getattr(module, name)
            if not any(_same(op, other) for other in checked):
                unlisted.append(f"{namespace}.{name}")
    assert not unlisted


def test_exclusions_name_provided_ops_and_give_reasons():
    for key, reason in EXCLUDED.items():
        namespace, name = key.rsplit(".", 1)
        assert name in API[namespace], key
        assert len(reason) > 10, key


def test_golden_table_has_every_case():
    assert sorted(TABLE) == sorted(c.key for c in CASES)
    assert math.isclose(len(COMPARED) / len(CASES), 1, abs_tol=0.1)
