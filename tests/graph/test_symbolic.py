"""SymbolicTensor: shape, dtype, name, the "symbolic" errors, and operators."""

import numpy as np
import pytest
import torch

import plait
from plait.graph import SymbolicTensor
from plait.layers import Input


def test_symbolic_input_attributes():
    x = Input(shape=(3, 4), dtype="int32", name="ids")
    assert isinstance(x, SymbolicTensor)
    assert x.shape == (None, 3, 4)
    assert x.dtype == torch.int32
    assert x.name == "ids"
    assert x.ndim == 3


def test_symbolic_batch_size_and_batch_shape():
    assert Input(shape=(2,), batch_size=5).shape == (5, 2)
    assert Input(batch_shape=(None, 7, None)).shape == (None, 7, None)


def test_symbolic_default_dtype_is_float32():
    assert Input(shape=(2,)).dtype == torch.float32


def test_symbolic_repr_shows_shape_and_dtype():
    x = Input(shape=(2,), name="rx")
    assert repr(x) == "<SymbolicTensor shape=(None, 2), dtype=float32, name=rx>"


def test_symbolic_layer_output_keeps_unknown_dims():
    x = Input(shape=(None, 4))
    assert plait.layers.Dense(3)(x).shape == (None, None, 3)


@pytest.mark.parametrize(
    "use",
    [bool, float, int, len, iter, np.asarray, lambda t: [1, 2][t]],
    ids=["bool", "float", "int", "len", "iter", "np.asarray", "index"],
)
def test_symbolic_value_use_raises_type_error(use):
    x = Input(shape=(2,), name="sym")
    with pytest.raises(
        TypeError, match=r"sym is a symbolic tensor of shape \(None, 2\)"
    ):
        use(x)


def test_symbolic_if_statement_raises():
    x = Input(shape=(2,))
    with pytest.raises(TypeError, match=r"symbolic tensor.*no truth value"):
        _ = "yes" if x else "no"


def test_symbolic_numpy_method_raises():
    with pytest.raises(TypeError, match="symbolic"):
        Input(shape=(2,)).numpy()


def _run(fn, *arrays, shapes=None):
    """Build `fn` on Inputs shaped like `arrays`, return (model output, symbolic out)."""
    inputs = [Input(shape=a.shape[1:]) for a in arrays]
    out = fn(*inputs)
    model = plait.Model(inputs if len(inputs) > 1 else inputs[0], out)
    pred = model.predict(list(arrays) if len(arrays) > 1 else arrays[0], verbose=0)
    return pred, out


A = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]], dtype=np.float32)
B = np.array([[2.0, 1.0, -1.0], [3.0, -0.5, 2.0]], dtype=np.float32)


@pytest.mark.parametrize(
    ("fn", "ref"),
    [
        (lambda x, y: x + y, lambda a, b: a + b),
        (lambda x, y: x - y, lambda a, b: a - b),
        (lambda x, y: x * y, lambda a, b: a * b),
        (lambda x, y: x / y, lambda a, b: a / b),
        (lambda x, y: x**2 + y, lambda a, b: a**2 + b),
    ],
    ids=["add", "sub", "mul", "div", "pow"],
)
def test_symbolic_binary_operators_compute_in_model(fn, ref):
    pred, out = _run(fn, A, B)
    assert out.shape == (None, 3)
    np.testing.assert_allclose(pred, ref(A, B), rtol=1e-6)


@pytest.mark.parametrize(
    ("fn", "ref"),
    [
        (lambda x: 2 * x, lambda a: 2 * a),
        (lambda x: 1 - x, lambda a: 1 - a),
        (lambda x: 6 / x, lambda a: 6 / a),
        (lambda x: 2**x, lambda a: 2**a),
        (lambda x: x + 0.5, lambda a: a + 0.5),
        (lambda x: -x, lambda a: -a),
        (lambda x: abs(x), np.abs),
        (lambda x: x[:, 1], lambda a: a[:, 1]),
        (lambda x: x[:, ::2], lambda a: a[:, ::2]),
        (lambda x: x[..., None], lambda a: a[..., None]),
        (lambda x: x + np.float32(1.5), lambda a: a + 1.5),
        (lambda x: x * torch.tensor([1.0, 2.0, 3.0]), lambda a: a * [1, 2, 3]),
    ],
    ids=[
        "rmul",
        "rsub",
        "rdiv",
        "rpow",
        "add_float",
        "neg",
        "abs",
        "getitem_int",
        "getitem_slice",
        "getitem_newaxis",
        "numpy_scalar",
        "tensor_constant",
    ],
)
def test_symbolic_unary_and_constant_operators_compute_in_model(fn, ref):
    pred, out = _run(fn, A)
    expected = ref(A)
    assert out.shape == (None, *expected.shape[1:])
    np.testing.assert_allclose(pred, expected, rtol=1e-6)


def test_symbolic_matmul_builds_node():
    x = Input(shape=(2, 3))
    y = Input(shape=(3, 4))
    out = x @ y
    assert out.shape == (None, 2, 4)
    a = np.random.rand(2, 2, 3).astype(np.float32)
    b = np.random.rand(2, 3, 4).astype(np.float32)
    pred = plait.Model([x, y], out).predict([a, b], verbose=0)
    np.testing.assert_allclose(pred, a @ b, rtol=1e-5)


def test_symbolic_operator_records_a_node():
    x = Input(shape=(3,))
    y = x + 1
    assert y.node is not None
    assert y.node.input_tensors == [x]


def test_symbolic_operator_rejects_unsupported_operand():
    x = Input(shape=(3,))
    with pytest.raises(TypeError, match="unsupported operand"):
        x + "a"


def test_symbolic_getitem_rejects_tensor_key():
    x = Input(shape=(3,))
    with pytest.raises(TypeError, match="indexing a symbolic tensor"):
        x[[0, 1]]


def test_symbolic_operator_bad_broadcast_names_layer():
    x, y = Input(shape=(3,)), Input(shape=(4,))
    with pytest.raises(
        (ValueError, RuntimeError), match=r"Operator layer .*\(None, 3\)"
    ):
        x + y
