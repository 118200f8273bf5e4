"""plait.ops numerics against NumPy/torch references, Keras's dtype rules, errors."""

import numpy as np
import pytest
import torch

import plait
from plait import ops
from plait.ops._tensor import missing

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3)).astype("float32")
Y = RNG.standard_normal((2, 3)).astype("float32")
P = RNG.random((2, 3)).astype("float32") + 0.1
M = RNG.standard_normal((3, 4)).astype("float32")
IDX = np.array([[2, 0, 1], [1, 1, 0]], dtype="int32")
SPD = (M @ M.T + 3 * np.eye(3)).astype("float32")


def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# (op name, args, kwargs, reference)
CASES = [
    ("abs", (X,), {}, np.abs(X)),
    ("add", (X, Y), {}, X + Y),
    ("subtract", (X, 2.0), {}, X - 2.0),
    ("multiply", (X, Y), {}, X * Y),
    ("divide", (X, P), {}, X / P),
    ("power", (P, 2), {}, P**2),
    ("square", (X,), {}, X**2),
    ("sqrt", (P,), {}, np.sqrt(P)),
    ("exp", (X,), {}, np.exp(X)),
    ("log", (P,), {}, np.log(P)),
    ("log1p", (P,), {}, np.log1p(P)),
    ("tanh", (X,), {}, np.tanh(X)),
    ("sign", (X,), {}, np.sign(X)),
    ("maximum", (X, Y), {}, np.maximum(X, Y)),
    ("minimum", (X, 0.0), {}, np.minimum(X, 0.0)),
    ("clip", (X, -0.5, 0.5), {}, np.clip(X, -0.5, 0.5)),
    ("sum", (X,), {"axis": 1}, X.sum(1)),
    ("sum", (X,), {}, X.sum()),
    ("mean", (X,), {"axis": 0, "keepdims": True}, X.mean(0, keepdims=True)),
    ("max", (X,), {"axis": -1}, X.max(-1)),
    ("min", (X,), {}, X.min()),
    ("prod", (P,), {"axis": (0, 1)}, P.prod()),
    ("std", (X,), {"axis": 1}, X.std(1)),
    ("var", (X,), {}, X.var()),
    ("argmax", (X,), {"axis": 1}, X.argmax(1)),
    ("argmin", (X,), {}, X.argmin()),
    ("cumsum", (X,), {"axis": 1}, X.cumsum(1)),
    ("cumprod", (P,), {}, P.cumprod()),
    ("logsumexp", (X,), {"axis": 1}, np.log(np.exp(X).sum(1))),
    ("median", (X,), {"axis": 1}, np.median(X, 1)),
    ("quantile", (X, 0.25), {"axis": 1}, np.quantile(X, 0.25, axis=1)),
    ("matmul", (X, M), {}, X @ M),
    ("dot", (X, M), {}, X @ M),
    ("tensordot", (X, M), {"axes": 1}, np.tensordot(X, M, 1)),
    ("einsum", ("ij,jk->ik", X, M), {}, X @ M),
    ("outer", (X[0], Y[0]), {}, np.outer(X[0], Y[0])),
    ("transpose", (X,), {}, X.T),
    ("reshape", (X, (3, -1)), {}, X.reshape(3, 2)),
    ("expand_dims", (X, 1), {}, X[:, None]),
    ("squeeze", (X[:, :1],), {"axis": 1}, X[:, 0]),
    ("concatenate", ([X, Y],), {"axis": 1}, np.concatenate([X, Y], 1)),
    ("stack", ([X, Y],), {"axis": 1}, np.stack([X, Y], 1)),
    ("tile", (X, (2, 1)), {}, np.tile(X, (2, 1))),
    ("repeat", (X, 2), {"axis": 0}, np.repeat(X, 2, axis=0)),
    ("flip", (X,), {"axis": 1}, X[:, ::-1]),
    ("roll", (X, 1), {"axis": 1}, np.roll(X, 1, axis=1)),
    ("where", (X > 0, X, Y), {}, np.where(X > 0, X, Y)),
    ("take", (X, [2, 0]), {"axis": 1}, np.take(X, [2, 0], axis=1)),
    (
        "take_along_axis",
        (X, IDX.astype("int64")),
        {"axis": 1},
        np.take_along_axis(X, IDX.astype("int64"), 1),
    ),
    ("sort", (X,), {}, np.sort(X)),
    ("argsort", (X,), {"axis": 1}, np.argsort(X, axis=1, kind="stable")),
    ("pad", (X, ((1, 0), (0, 2))), {}, np.pad(X, ((1, 0), (0, 2)))),
    ("tril", (SPD,), {}, np.tril(SPD)),
    ("trace", (SPD,), {}, np.trace(SPD)),
    ("diagonal", (SPD,), {}, np.diagonal(SPD)),
    ("arange", (1, 7, 2), {}, np.arange(1, 7, 2)),
    ("linspace", (0.0, 1.0, 5), {}, np.linspace(0, 1, 5)),
    ("eye", (3, 4), {"k": 1}, np.eye(3, 4, 1)),
    ("full", ((2, 2), 3.0), {}, np.full((2, 2), 3.0)),
    (
        "one_hot",
        (np.array([0, 2, -1]), 3),
        {},
        np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0]]),
    ),
    ("softmax", (X,), {}, _softmax(X)),
    ("log_softmax", (X,), {"axis": 0}, np.log(_softmax(X, 0))),
    ("relu", (X,), {}, np.maximum(X, 0)),
    ("sigmoid", (X,), {}, 1 / (1 + np.exp(-X))),
    ("leaky_relu", (X,), {}, np.where(X > 0, X, 0.2 * X)),
    ("silu", (X,), {}, X / (1 + np.exp(-X))),
    ("softplus", (X,), {}, np.log1p(np.exp(X))),
    (
        "binary_crossentropy",
        (np.round(P), P),
        {},
        -(np.round(P) * np.log(P) + (1 - np.round(P)) * np.log(1 - P)),
    ),
    (
        "categorical_crossentropy",
        (np.eye(3, dtype="float32")[[0, 2]], _softmax(X)),
        {},
        -np.log(_softmax(X)[[0, 1], [0, 2]]),
    ),
    (
        "sparse_categorical_crossentropy",
        (np.array([0, 2]), X),
        {"from_logits": True},
        -np.log(_softmax(X)[[0, 1], [0, 2]]),
    ),
    (
        "segment_sum",
        (X, np.array([1, 1])),
        {"num_segments": 3},
        np.stack([np.zeros(3), X.sum(0), np.zeros(3)]),
    ),
    ("segment_max", (X, np.array([0, 0])), {}, X.max(0, keepdims=True)),
    ("norm", (X,), {}, np.linalg.norm(X)),
    ("norm", (X,), {"axis": 1}, np.linalg.norm(X, axis=1)),
    ("inv", (SPD,), {}, np.linalg.inv(SPD)),
    ("det", (SPD,), {}, np.linalg.det(SPD)),
    ("solve", (SPD, M), {}, np.linalg.solve(SPD, M)),
    ("cholesky", (SPD,), {}, np.linalg.cholesky(SPD)),
    ("slice", (M, (1, 1), (2, 2)), {}, M[1:3, 1:3]),
    ("stop_gradient", (X,), {}, X),
    ("cast", (X, "int32"), {}, X.astype("int32")),
    ("nan_to_num", (np.array([np.nan, 1.0], "float32"),), {}, np.array([0.0, 1.0])),
    ("isclose", (X, X + 1e-9), {}, np.ones_like(X, bool)),
    ("erf", (X,), {}, torch.erf(torch.from_numpy(X)).numpy()),
    ("moveaxis", (X[None], 0, -1), {}, np.moveaxis(X[None], 0, -1)),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_ops_numerics_match_reference(name, args, kwargs, expected):
    out = getattr(ops, name)(*args, **kwargs)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(
        ops.convert_to_numpy(out), expected, rtol=1e-5, atol=1e-5
    )


def test_ops_split_unstack_top_k_return_lists():
    _, b = ops.split(X, [1], axis=1)
    np.testing.assert_allclose(b.numpy(), X[:, 1:])
    assert len(ops.unstack(X)) == 2
    values, indices = ops.top_k(X, 2)
    np.testing.assert_allclose(values.numpy(), -np.sort(-X, 1)[:, :2])
    assert indices.dtype == torch.int32


def test_ops_torch_tensor_input_keeps_gradient():
    x = torch.tensor(X, requires_grad=True)
    ops.sum(ops.square(x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * X, rtol=1e-6)


# (op, args, expected dtype): Keras's rules, which differ from torch's defaults.
DTYPES = [
    ("convert_to_tensor", (1,), torch.int32),
    ("convert_to_tensor", (1.5,), torch.float32),
    ("convert_to_tensor", (np.array([1.0]),), torch.float64),
    ("arange", (5,), torch.int32),
    ("arange", (0.0, 1.0, 0.5), torch.float32),
    ("zeros", ((2,),), torch.float32),
    ("sqrt", (np.array([4], "int32"),), torch.float32),
    ("mean", (np.array([1, 2], "int32"),), torch.float32),
    ("divide", (np.array([1], "int32"), np.array([2], "int32")), torch.float32),
    ("sum", (np.array([True, False]),), torch.int32),
    ("add", (np.array([1], "int32"), 1.5), torch.float32),
    ("add", (np.array([1], "int8"), 1), torch.int8),
    ("add", (np.array([1], "int8"), np.array([1], "uint8")), torch.int16),
    ("add", (np.array([1], "float16"), 2.0), torch.float16),
    ("add", (np.array([1], "int32"), np.array([1.0], "float32")), torch.float32),
    ("matmul", (np.ones((2, 2), "float32"), np.ones((2, 2), "float64")), torch.float64),
    ("argmax", (X,), torch.int32),
    ("one_hot", (np.array([1]), 2), torch.float32),
    ("equal", (X, Y), torch.bool),
]


@pytest.mark.parametrize(
    ("name", "args", "dtype"), DTYPES, ids=[f"{d[0]}-{d[2]}" for d in DTYPES]
)
def test_ops_dtype_rules(name, args, dtype):
    assert getattr(ops, name)(*args).dtype == dtype


def test_ops_split_uneven_raises():
    with pytest.raises(
        ValueError,
        match=r"ops\.split: expected axis 1 of size 3 to divide into 2 equal parts",
    ):
        ops.split(X, 2, axis=1)


def test_ops_not_provided_names_the_op():
    # Every keras.ops name is provided now; the mechanism stays for new ones.
    getattr_ = missing("plait.ops.image", {"warp_3d": "not implemented in plait yet"})
    with pytest.raises(
        AttributeError, match=r"plait\.ops\.image\.warp_3d is not provided: not impl"
    ):
        getattr_("warp_3d")
    with pytest.raises(AttributeError, match="has no attribute 'other'"):
        getattr_("other")


def test_ops_control_flow_eager():
    assert ops.cond(True, lambda: 1, lambda: 2) == 1
    assert ops.fori_loop(0, 4, lambda i, v: v + i, 0) == 6
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), 0.0, torch.arange(4.0))
    assert float(carry) == 6.0
    np.testing.assert_allclose(ys.numpy(), [0.0, 0.0, 2.0, 9.0])
    assert ops.while_loop(lambda i: i < 5, lambda i: i + 2, 0) == 6
    np.testing.assert_allclose(
        ops.map(lambda r: r.sum(), torch.tensor(X)).numpy(), X.sum(1), rtol=1e-6
    )


def test_ops_conv_matches_torch_channels_last():
    x = RNG.standard_normal((2, 5, 5, 3)).astype("float32")
    k = RNG.standard_normal((3, 3, 3, 4)).astype("float32")
    out = ops.conv(x, k, padding="same")
    ref = torch.nn.functional.conv2d(
        torch.from_numpy(x).permute(0, 3, 1, 2),
        torch.from_numpy(k).permute(3, 2, 0, 1),
        padding=1,
    ).permute(0, 2, 3, 1)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-5)
    assert ops.conv(x, k, strides=2, padding="same").shape == (2, 3, 3, 4)
    assert ops.max_pool(x, 2, padding="same").shape == (2, 3, 3, 3)
    assert ops.conv_transpose(
        x, k[..., :3].transpose(0, 1, 3, 2), strides=2, padding="same"
    ).shape == (2, 10, 10, 3)
    np.testing.assert_allclose(
        ops.average_pool(x, 5).numpy()[:, 0, 0], x.mean((1, 2)), atol=1e-6
    )


def test_ops_dot_product_attention_matches_torch():
    q, k, v = (
        torch.from_numpy(RNG.standard_normal((2, 4, 2, 8)).astype("float32"))
        for _ in range(3)
    )
    out = ops.dot_product_attention(q, k, v, is_causal=True)
    ref = torch.nn.functional.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
    ).transpose(1, 2)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-5)


def _sparsemax(rows):
    out = []
    for v in rows:
        z = np.sort(v)[::-1]
        k = np.arange(1, len(v) + 1)
        support = 1 + k * z > np.cumsum(z)
        tau = (np.cumsum(z)[support.sum() - 1] - 1) / support.sum()
        out.append(np.maximum(v - tau, 0))
    return np.array(out)


def test_ops_sparsemax_is_the_simplex_projection():
    # Keras 3.15's torch backend disagrees (rows not summing to 1), hence here.
    out = ops.sparsemax(X).numpy()
    np.testing.assert_allclose(out, _sparsemax(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        ops.sparsemax(X, axis=0).numpy(), _sparsemax(X.T).T, rtol=1e-5, atol=1e-6
    )


def test_ops_argpartition_partitions_around_kth():
    x = np.array([[3.0, 1.0, 4.0, 1.5, 5.0, 9.0], [2.0, 7.0, 1.0, 8.0, 2.5, 0.5]])
    idx = ops.argpartition(x, 2, axis=1).numpy()
    assert idx.dtype == np.int32
    parted = np.take_along_axis(x, idx, axis=1)
    kth = np.sort(x, axis=1)[:, 2:3]
    np.testing.assert_array_equal(parted[:, 2:3], kth)
    assert (parted[:, :2] <= kth).all()
    assert (parted[:, 3:] >= kth).all()


def test_ops_unique_eager_extras_and_symbolic_error():
    values, index, inverse, counts = ops.unique(
        [3, 1, 3, 2], return_index=True, return_inverse=True, return_counts=True
    )
    assert values.tolist() == [1, 2, 3]
    assert index.tolist() == [1, 3, 0]
    assert inverse.tolist() == [2, 0, 2, 1]
    assert counts.tolist() == [1, 1, 2]
    assert ops.unique([2, 2], size=3, fill_value=-1).tolist() == [2, -1, -1]
    x = plait.Input(shape=(3,))
    with pytest.raises(ValueError, match=r"ops\.unique: expected a tensor with values"):
        ops.unique(x)


def test_ops_stft_istft_round_trip_and_window_errors():
    signal = torch.randn(2, 32)
    spectrum = ops.stft(signal, 8, 2, 8)
    np.testing.assert_allclose(
        ops.istft(spectrum, 8, 2, 8, length=32).numpy(), signal.numpy(), atol=1e-5
    )
    with pytest.raises(ValueError, match=r"ops\.stft: expected window 'hann'"):
        ops.stft(signal, 8, 2, 8, window="kaiser")
    with pytest.raises(ValueError, match=r"expected a window of shape \(8,\)"):
        ops.stft(signal, 8, 2, 8, window=np.ones(4, "float32"))
    with pytest.raises(TypeError, match=r"ops\.stft: expected a float32 or float64"):
        ops.stft(torch.ones(8, dtype=torch.int32), 4, 2, 4)


def test_ops_ctc_decode_rejects_unknown_strategy():
    with pytest.raises(ValueError, match=r"ops\.ctc_decode: expected strategy in"):
        ops.nn.ctc_decode(np.zeros((1, 2, 3), "float32"), [2], strategy="best")


def test_ops_custom_gradient_takes_either_grad_style():
    @ops.custom_gradient
    def product(x, y):
        return x * y, lambda upstream: (2 * upstream * y, 3 * upstream * x)

    x, y = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 4.0])
    y.requires_grad_()
    product(x, y).sum().backward()
    assert x.grad.tolist() == [6.0, 8.0]
    assert y.grad.tolist() == [3.0, 6.0]


def test_ops_vectorize_passes_excluded_arguments_through():
    blocks = torch.arange(12.0).reshape(2, 2, 3)
    total = ops.vectorize(lambda a, k: a.sum() * k, signature="(n)->()", excluded={1})(
        blocks, 2.0
    )
    np.testing.assert_allclose(total.numpy(), blocks.sum(-1).numpy() * 2)
    with pytest.raises(ValueError, match=r"ops\.vectorize: expected 1 vectorized"):
        ops.vectorize(lambda a, b: a, signature="(n)->()")(blocks, blocks)


def test_ops_image_warps_reject_unknown_modes():
    img = np.zeros((4, 4, 1), "float32")
    with pytest.raises(ValueError, match=r"affine_transform: expected fill_mode in"):
        ops.image.affine_transform(img, [1, 0, 0, 0, 1, 0, 0, 0], fill_mode="edge")
    with pytest.raises(ValueError, match=r"affine_transform: expected interpolation"):
        ops.image.affine_transform(img, [1, 0, 0, 0, 1, 0, 0, 0], interpolation="cubic")
    with pytest.raises(ValueError, match=r"map_coordinates: expected order 0"):
        ops.image.map_coordinates(img[..., 0], [[0.5], [0.5]], 3)
    with pytest.raises(ValueError, match=r"expected one coordinate array per axis"):
        ops.image.map_coordinates(img, [[0.5], [0.5]], 1)
    with pytest.raises(TypeError, match=r"rgb_to_hsv: expected float images"):
        ops.image.rgb_to_hsv(np.zeros((2, 2, 3), "int32"))


def test_ops_rearrange_errors_name_the_pattern():
    x = np.zeros((2, 6), "float32")
    with pytest.raises(ValueError, match=r"ops\.rearrange: expected the same names"):
        ops.rearrange(x, "a b -> a c")
    with pytest.raises(ValueError, match=r"expected the sizes of all but one"):
        ops.rearrange(x, "a (b c) -> a b c")
    with pytest.raises(ValueError, match=r"expected a pattern of names"):
        ops.rearrange(x, "a (b c -> a b c", b=2)


def test_ops_elastic_transform_seed_reproduces_and_alpha_zero_is_identity():
    img = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    a = ops.image.elastic_transform(img, alpha=3.0, sigma=1.0, seed=7)
    b = ops.image.elastic_transform(img, alpha=3.0, sigma=1.0, seed=7)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), img)
    same = ops.image.elastic_transform(img, alpha=0.0, sigma=1.0, seed=7)
    np.testing.assert_allclose(same.numpy(), img, atol=1e-6)


def test_ops_scale_and_translate_rejects_unknown_method():
    with pytest.raises(ValueError, match=r"scale_and_translate: expected method in"):
        ops.image.scale_and_translate(
            np.zeros((4, 4), "float32"), (2, 2), [0.5, 0.5], [0, 0], (0, 1), "area"
        )


def test_arange_of_integer_tensors_is_int32_as_keras():
    three = ops.convert_to_tensor(3)
    assert ops.arange(three).dtype == torch.int32
    assert ops.arange(0, three, 1).dtype == torch.int32
    assert ops.arange(ops.convert_to_tensor(3.0)).dtype == torch.float32


def test_image_resize_nearest_and_integer_images_as_keras():
    # Keras 3.15's values: half-pixel nearest; integer images stay integer.
    x = np.arange(8, dtype="float32").reshape(1, 1, 8, 1)
    out = ops.image.resize(x, (1, 3), interpolation="nearest")
    assert ops.convert_to_numpy(out).ravel().tolist() == [1.0, 4.0, 6.0]
    u = (np.arange(16) * 15).astype("uint8").reshape(1, 4, 4, 1)
    out = ops.image.resize(u, (3, 3))
    assert out.dtype == torch.uint8
    assert ops.convert_to_numpy(out).ravel().tolist() == [
        13, 32, 52, 92, 112, 132, 172, 193, 213
    ]  # fmt: skip
    out = ops.image.resize(np.arange(16, dtype="int32").reshape(1, 4, 4, 1), (3, 3))
    assert out.dtype == torch.int32
    assert ops.convert_to_numpy(out).ravel().tolist() == [1, 2, 4, 6, 8, 9, 12, 13, 14]


def test_image_resize_to_aspect_ratio_as_keras():
    x = np.arange(24, dtype="float32").reshape(1, 4, 6, 1)
    crop = ops.image.resize(x, (2, 2), crop_to_aspect_ratio=True)
    pad = ops.image.resize(x, (2, 2), pad_to_aspect_ratio=True, fill_value=-1.0)
    # Keras 3.15's values
    assert ops.convert_to_numpy(crop).ravel().tolist() == [4.5, 6.5, 16.5, 18.5]
    assert ops.convert_to_numpy(pad).ravel().tolist() == [1.0, 4.0, 19.0, 22.0]
    with pytest.raises(ValueError, match="at most one of crop_to_aspect_ratio"):
        ops.image.resize(x, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
