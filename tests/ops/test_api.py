"""plait.ops / plait.random against Keras 3's API (tests/ops/keras_ops_api.json).

Every Keras name is either provided, with Keras's parameter names and defaults
in Keras's order, or listed in NOT_PROVIDED with a reason, and asking for it
raises an AttributeError naming it.
"""

import inspect
import json
from pathlib import Path

import pytest

import plait.ops
import plait.random

API = json.loads(Path(__file__).with_name("keras_ops_api.json").read_text())
MODULES = {
    "ops": plait.ops,
    "ops.nn": plait.ops.nn,
    "ops.image": plait.ops.image,
    "ops.linalg": plait.ops.linalg,
    "random": plait.random,
}
CASES = [(ns, name) for ns in MODULES for name in API[ns]]


def _params(fn):
    return [
        [p.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
        for p in inspect.signature(fn).parameters.values()
    ]


@pytest.mark.parametrize(
    ("namespace", "name"), CASES, ids=[f"{a}.{b}" for a, b in CASES]
)
def test_api_name_provided_with_keras_signature_or_listed(namespace, name):
    module = MODULES[namespace]
    missing = getattr(module, "NOT_PROVIDED", {})
    if name in missing:
        with pytest.raises(
            AttributeError, match=rf"plait\.{namespace}\.{name} is not provided: "
        ):
            getattr(module, name)
        return
    fn = getattr(module, name)
    if name == "SeedGenerator":
        fn = fn.__init__
        assert _params(fn)[1:] == API[namespace][name]
        return
    assert _params(fn) == API[namespace][name]


def test_api_coverage():
    provided = sum(
        name not in getattr(MODULES[ns], "NOT_PROVIDED", {}) for ns, name in CASES
    )
    assert provided / len(CASES) > 0.9


def test_api_unknown_name_is_a_plain_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_op'"):
        plait.ops.no_such_op  # noqa: B018
