"""Tests for plait.losses.losses: Keras 3 numerics, reductions, registry."""

import json

import numpy as np
import pytest
import torch

from plait.losses import losses as L

# Inputs shared with the Keras reference run (Keras 3.15.1, torch backend).
YR = [[0.2, -1.0, 3.0], [1.5, 0.0, -0.5]]
PR = [[0.5, -0.7, 2.0], [1.0, 0.3, 0.4]]
YPOS = [[0.2, 1.0, 3.0], [1.5, 0.0, 0.5]]
PPOS = [[0.5, 0.7, 2.0], [1.0, 0.3, 0.4]]
YB = [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]
PB = [[0.1, 0.8, 0.6], [0.3, 0.2, 0.99999999]]
ZB = [[-2.0, 1.5, 0.3], [0.7, -1.2, 12.0]]
YC = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
PC = [[0.2, 0.7, 0.1], [0.5, 0.4, 0.1]]
ZC = [[1.0, 2.0, -1.0], [0.5, 0.2, -3.0]]
YS = [1, 2]
YH = [[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]]
PH = [[0.3, -0.8, 1.5], [0.2, 0.4, -2.0]]
YKL = [[0.2, 0.5, 0.3], [0.0, 0.6, 0.4]]
SW = [0.3, 1.2]
ZSEQ = [
    [
        [0.1257302165031433, -0.13210485875606537, 0.6404226422309875, 0.1049001142],
        [-0.5356693863868713, 0.3615950644016266, 1.3040000200271606, 0.9470809698],
        [-0.7037352323532104, -1.2654215097427368, -0.6232744455337524, 0.0413259789],
    ],
    [
        [-2.32503080368042, -0.218791663646698, -1.2459110021591187, -0.7322673797],
        [-0.5442590117454529, -0.3163001537322998, 0.4116305410861969, 1.0425133705],
        [-0.12853465974330902, 1.3664634227752686, -0.6651946902275085, 0.3515100777],
    ],
]
YSEQ = [[0, 3, 1], [2, 2, 0]]

FUNCTION_CASES = [
    ("mse", L.mean_squared_error, (YR, PR), {}, [0.39333335, 0.38333333]),
    ("mae", L.mean_absolute_error, (YR, PR), {}, [0.53333336, 0.56666666]),
    ("mape", L.mean_absolute_percentage_error, (YR, PR), {}, [71.111107, 1.0000007e8]),
    ("msle", L.mean_squared_logarithmic_error, (YPOS, PPOS), {}, [0.0529888, 0.0411293]),
    ("huber", L.huber, (YR, PR), {}, [0.19666667, 0.19166666]),
    ("huber_05", L.huber, (YR, PR), {"delta": 0.5}, [0.155, 0.165]),
    ("log_cosh", L.log_cosh, (YR, PR), {}, [0.17415412, 0.17476185]),
    ("hinge_pm1", L.hinge, (YH, PH), {}, [1.0333333, 0.73333335]),
    ("hinge_01", L.hinge, (YB, PH), {}, [1.0333333, 0.73333335]),
    ("squared_hinge", L.squared_hinge, (YB, PH), {}, [1.6433331, 0.8666666]),
    ("categorical_hinge", L.categorical_hinge, (YC, PH), {}, [3.3, 3.4000001]),
    ("kld", L.kl_divergence, (YKL, PC), {}, [0.1613476, 0.79779530]),
    ("poisson", L.poisson, (YPOS, PPOS), {}, [0.53862089, 0.71938163]),
    ("cosine", L.cosine_similarity, (YR, PR), {}, [-0.98571849, -0.73539102]),
    ("cosine_axis0", L.cosine_similarity, (YR, PR), {"axis": 0}, [-0.9456866, -0.919145, -0.9349976]),
    ("bce", L.binary_crossentropy, (YB, PB), {}, [0.27977654, 5.7898335]),
    ("bce_logits", L.binary_crossentropy, (YB, ZB), {"from_logits": True}, [0.29423219, 4.222158]),
    ("bce_ls", L.binary_crossentropy, (YB, PB), {"label_smoothing": 0.1}, [0.3462596, 5.5331101]),
    ("bce_logits_ls", L.binary_crossentropy, (YB, ZB), {"from_logits": True, "label_smoothing": 0.1}, [0.35756555, 4.0538249]),
    ("bce_axis0", L.binary_crossentropy, (YB, PB), {"axis": 0}, [0.65466666, 0.22314355, 8.2266054]),
    ("cce", L.categorical_crossentropy, (YC, PC), {}, [0.35667497, 2.3025851]),
    ("cce_logits", L.categorical_crossentropy, (YC, ZC), {"from_logits": True}, [0.34901217, 4.0715532]),
    ("cce_ls", L.categorical_crossentropy, (YC, PC), {"label_smoothing": 0.2}, [0.56991982, 2.1028695]),
    ("cce_logits_ls", L.categorical_crossentropy, (YC, ZC), {"from_logits": True, "label_smoothing": 0.2}, [0.61567885, 3.6248868]),
    ("cce_axis0", L.categorical_crossentropy, (np.array(YC).T, np.array(PC).T), {"axis": 0}, [0.35667497, 2.3025851]),
    ("scce", L.sparse_categorical_crossentropy, (YS, PC), {}, [0.35667497, 2.3025851]),
    ("scce_logits", L.sparse_categorical_crossentropy, (YS, ZC), {"from_logits": True}, [0.34901217, 4.0715532]),
    ("scce_column", L.sparse_categorical_crossentropy, ([[1], [2]], PC), {}, [0.35667497, 2.3025851]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "expected"),
    [case[1:] for case in FUNCTION_CASES],
    ids=[case[0] for case in FUNCTION_CASES],
)
def test_loss_function_matches_keras(fn, args, kwargs, expected):
    got = fn(*args, **kwargs)
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize(
    ("reduction", "bce", "mse"),
    [
        ("sum_over_batch_size", 3.5158668, 0.289),
        ("mean", 3.5158668, 0.289),
        ("sum", 7.0317335, 0.578),
        ("mean_with_sample_weight", 4.6878223, 0.38533333),
        ("none", [0.08393297, 6.9478006], [0.118, 0.46]),
        (None, [0.08393297, 6.9478006], [0.118, 0.46]),
    ],
)
def test_loss_reductions_with_sample_weight_match_keras(reduction, bce, mse):
    got_bce = L.BinaryCrossentropy(reduction=reduction)(YB, PB, sample_weight=SW)
    got_mse = L.MeanSquaredError(reduction=reduction)(YR, PR, sample_weight=SW)
    np.testing.assert_allclose(got_bce.numpy(), bce, rtol=2e-6)
    np.testing.assert_allclose(got_mse.numpy(), mse, rtol=2e-6)


def test_loss_sum_over_batch_size_divides_by_count_not_weights():
    values = L.MeanSquaredError(reduction="none")(YR, PR)
    got = L.MeanSquaredError()(YR, PR, sample_weight=torch.tensor([2.0, 0.0]))
    torch.testing.assert_close(got, values[0] * 2.0 / 2)
    assert L.BinaryCrossentropy()(YB, PB).item() == pytest.approx(3.034805, rel=1e-6)


def test_loss_scalar_and_full_shape_sample_weights():
    mse = L.MeanSquaredError()
    torch.testing.assert_close(mse(YR, PR, sample_weight=2.0), 2.0 * mse(YR, PR))
    scce = L.SparseCategoricalCrossentropy(from_logits=True)
    weights = [[1.0, 0.0, 2.0], [0.5, 0.5, 1.0]]
    got = scce(YSEQ, ZSEQ, sample_weight=weights)
    assert got.item() == pytest.approx(1.5512012, rel=1e-6)
    assert scce(YSEQ, ZSEQ).item() == pytest.approx(1.6486677, rel=1e-6)
    # (batch,) weights on a (batch, timesteps) loss weigh every step.
    per_step = scce.call(torch.tensor(YSEQ), torch.tensor(ZSEQ))
    got = scce(YSEQ, ZSEQ, sample_weight=[1.0, 3.0])
    torch.testing.assert_close(got, (per_step * torch.tensor([[1.0], [3.0]])).mean())


def test_loss_matches_ranks_like_keras():
    y_true, y_pred = [1.0, 0.0], [[0.8], [0.3]]
    assert L.BinaryCrossentropy()(y_true, y_pred).item() == pytest.approx(0.28990924)
    assert L.MeanSquaredError()(y_true, y_pred).item() == pytest.approx(0.065)


def test_sparse_categorical_crossentropy_ignore_class_matches_keras():
    y_true = [1, -1, 0]
    y_pred = [[0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.6, 0.3, 0.1]]
    per_sample = L.sparse_categorical_crossentropy(y_true, y_pred, ignore_class=-1)
    np.testing.assert_allclose(per_sample.numpy(), [0.35667497, 0.0, 0.51082557])
    loss = L.SparseCategoricalCrossentropy(ignore_class=-1)
    assert loss(y_true, y_pred).item() == pytest.approx(0.43375027)  # mean of 2
    summed = L.SparseCategoricalCrossentropy(ignore_class=-1, reduction="sum")
    assert summed(y_true, y_pred).item() == pytest.approx(0.86750054)
    seq = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    assert seq(YSEQ, ZSEQ).item() == pytest.approx(1.7031378, rel=1e-6)


def test_loss_mask_excludes_entries_from_sum_and_divisor():
    scce = L.SparseCategoricalCrossentropy(from_logits=True)
    mask = torch.tensor([[True, True, False], [True, False, False]])
    per_step = scce.call(torch.tensor(YSEQ), torch.tensor(ZSEQ))
    torch.testing.assert_close(scce(YSEQ, ZSEQ, mask=mask), per_step[mask].mean())
    summed = L.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    weights = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    got = summed(YSEQ, ZSEQ, sample_weight=weights, mask=mask)
    torch.testing.assert_close(got, (per_step * weights)[mask].sum())
    nothing = torch.zeros(2, 3, dtype=torch.bool)
    assert scce(YSEQ, ZSEQ, mask=nothing).item() == 0.0


def test_loss_dtype_handling():
    half = torch.tensor(PB, dtype=torch.float16)
    assert L.BinaryCrossentropy()(YB, half).dtype == torch.float32
    double = torch.tensor(PB, dtype=torch.float64)
    assert L.BinaryCrossentropy()(YB, double).dtype == torch.float64
    assert L.BinaryCrossentropy(dtype="float64")(YB, PB).dtype == torch.float64
    assert L.MeanSquaredError()(np.array(YR), np.array(PR)).dtype == torch.float32
    # Integer targets with float predictions, integer predictions promoted.
    assert L.MeanSquaredError()([[1, 2]], [[1, 2]]).item() == 0.0


def test_loss_empty_batch_gives_zero():
    got = L.MeanSquaredError()(torch.zeros(0, 3), torch.zeros(0, 3))
    assert got.item() == 0.0


def test_crossentropy_on_logits_is_stable_and_differentiable():
    logits = torch.tensor([[200.0, -200.0]], requires_grad=True)
    loss = L.CategoricalCrossentropy(from_logits=True)([[0.0, 1.0]], logits)
    assert loss.item() == pytest.approx(400.0)
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    bce = L.BinaryCrossentropy(from_logits=True)([[1.0]], torch.tensor([[-500.0]]))
    assert bce.item() == pytest.approx(500.0)


def test_hinge_keeps_non_binary_labels():
    got = L.hinge([[0.5, 2.0]], [[1.0, 1.0]])
    torch.testing.assert_close(got, torch.tensor([0.25]))


def _softmax(z, axis=-1):
    return torch.softmax(z, dim=axis)


@pytest.mark.parametrize(
    ("loss", "y_true", "logits", "activation"),
    [
        (L.BinaryCrossentropy(), YB[:1], ZB[:1], torch.sigmoid),
        (L.BinaryCrossentropy(label_smoothing=0.2), YB[:1], ZB[:1], torch.sigmoid),
        (L.CategoricalCrossentropy(), YC, ZC, _softmax),
        (L.CategoricalCrossentropy(label_smoothing=0.1), YC, ZC, _softmax),
        (
            L.CategoricalCrossentropy(axis=0, reduction="sum"),
            np.array(YC).T,
            np.array(ZC).T,
            lambda z: _softmax(z, axis=0),
        ),
        (L.SparseCategoricalCrossentropy(), YS, ZC, _softmax),
        (L.SparseCategoricalCrossentropy(ignore_class=2), YSEQ, ZSEQ, _softmax),
        (L.LossFunctionWrapper(L.categorical_crossentropy), YC, ZC, _softmax),
    ],
    ids=["bce", "bce_ls", "cce", "cce_ls", "cce_axis0", "scce", "scce_ign", "fn"],
)
def test_from_logits_variant_matches_probabilities(loss, y_true, logits, activation):
    variant = L.from_logits_variant(loss)
    assert variant is not None
    assert variant.from_logits
    assert variant.reduction == loss.reduction
    assert variant.name == loss.name
    for dtype in (torch.float32, torch.float64):
        z = torch.tensor(logits, dtype=dtype)
        got, want = loss(y_true, activation(z)), variant(y_true, z)
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)


def test_from_logits_variant_is_more_accurate_near_saturation():
    loss = L.BinaryCrossentropy()
    variant = L.from_logits_variant(loss)
    z = torch.tensor(ZB)
    exact = loss(YB, torch.sigmoid(z.double()))
    # float32 probabilities lose 1 - sigmoid(12) to rounding; logits do not.
    assert abs(variant(YB, z).item() - exact.item()) < 1e-6
    assert abs(loss(YB, torch.sigmoid(z)).item() - exact.item()) > 1e-4


def test_from_logits_variant_none_for_other_losses():
    assert L.from_logits_variant(L.MeanSquaredError()) is None
    assert L.from_logits_variant(L.BinaryCrossentropy(from_logits=True)) is None
    assert L.from_logits_variant("binary_crossentropy") is None
    assert L.from_logits_variant(L.LossFunctionWrapper(L.huber)) is None

    class MyBCE(L.BinaryCrossentropy):
        pass

    assert L.from_logits_variant(MyBCE()) is None


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("binary_crossentropy", L.BinaryCrossentropy),
        ("BinaryCrossentropy", L.BinaryCrossentropy),
        ("bce", L.BinaryCrossentropy),
        ("categorical_crossentropy", L.CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", L.SparseCategoricalCrossentropy),
        ("mse", L.MeanSquaredError),
        ("MSE", L.MeanSquaredError),
        ("mean_squared_error", L.MeanSquaredError),
        ("mae", L.MeanAbsoluteError),
        ("mape", L.MeanAbsolutePercentageError),
        ("msle", L.MeanSquaredLogarithmicError),
        ("kld", L.KLDivergence),
        ("kullback_leibler_divergence", L.KLDivergence),
        ("kl_divergence", L.KLDivergence),
        ("logcosh", L.LogCosh),
        ("log_cosh", L.LogCosh),
        ("huber", L.Huber),
        ("hinge", L.Hinge),
        ("squared_hinge", L.SquaredHinge),
        ("categorical_hinge", L.CategoricalHinge),
        ("poisson", L.Poisson),
        ("cosine_similarity", L.CosineSimilarity),
    ],
)
def test_get_resolves_names(name, cls):
    assert type(L.get(name)) is cls


def test_get_other_identifiers():
    loss = L.Huber(delta=2.0)
    assert L.get(loss) is loss
    assert L.get(None) is None
    assert type(L.get(L.Poisson)) is L.Poisson
    assert type(L.get(L.binary_crossentropy)) is L.BinaryCrossentropy

    def my_loss(y_true, y_pred):
        return (y_true - y_pred).abs().sum(dim=-1)

    wrapped = L.get(my_loss)
    assert isinstance(wrapped, L.LossFunctionWrapper)
    assert wrapped.name == "my_loss"
    assert wrapped([[1.0, 2.0]], [[0.0, 0.0]]).item() == 3.0
    restored = L.get({"class_name": "Huber", "config": {"delta": 3.0}})
    assert restored.delta == 3.0


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(
        ValueError, match=r"Unknown loss 'msee'; expected one of \[.*'mse'"
    ):
        L.get("msee")
    with pytest.raises(TypeError, match=r"Expected a loss name.*got int 3"):
        L.get(3)


ALL_LOSSES = [
    L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, axis=-1, name="b"),
    L.CategoricalCrossentropy(label_smoothing=0.2, reduction="sum"),
    L.SparseCategoricalCrossentropy(ignore_class=0, axis=1, dtype="float64"),
    L.MeanSquaredError(reduction=None),
    L.MeanAbsoluteError(),
    L.MeanAbsolutePercentageError(),
    L.MeanSquaredLogarithmicError(),
    L.Huber(delta=0.5),
    L.LogCosh(),
    L.Hinge(),
    L.SquaredHinge(),
    L.CategoricalHinge(),
    L.KLDivergence(),
    L.Poisson(),
    L.CosineSimilarity(axis=0),
    L.LossFunctionWrapper(L.huber, delta=2.0, name="h"),
]


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda loss: type(loss).__name__)
def test_loss_config_round_trip(loss):
    config = loss.get_config()
    clone = type(loss).from_config(config)
    assert clone.get_config() == config
    data = json.loads(json.dumps(L.serialize(loss)))
    restored = L.deserialize(data)
    assert type(restored) is type(loss)
    assert restored.get_config() == config


def test_loss_default_names_and_repr():
    assert L.Huber().name == "huber_loss"
    assert L.BinaryCrossentropy().name == "binary_crossentropy"
    assert L.LogCosh().name == "log_cosh"
    assert repr(L.MeanSquaredError()) == "<MeanSquaredError name='mean_squared_error'>"
    assert "LossFunctionWrapper(huber" in repr(L.LossFunctionWrapper(L.huber))

    class MyLoss(L.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred).square().mean(dim=-1)

    assert MyLoss().name == "my_loss"
    assert MyLoss()([[1.0]], [[3.0]]).item() == 4.0


def test_serialize_functions_and_custom_objects():
    def custom(y_true, y_pred):
        return (y_true - y_pred).mean(dim=-1)

    assert L.serialize(L.huber) == "huber"
    assert L.serialize(None) is None
    assert L.deserialize("huber").delta == 1.0
    wrapper = L.LossFunctionWrapper(custom)
    restored = L.deserialize(L.serialize(wrapper), custom_objects={"custom": custom})
    assert restored.fn is custom
    assert type(L.deserialize("custom", custom_objects={"custom": custom})) is (
        L.LossFunctionWrapper
    )

    class MyLoss(L.Loss):
        def call(self, y_true, y_pred):
            return y_pred.mean(dim=-1)

    data = L.serialize(MyLoss(name="mine"))
    assert type(L.deserialize(data, custom_objects={"MyLoss": MyLoss})) is MyLoss


def test_loss_error_messages():
    with pytest.raises(
        ValueError, match=r"expected `reduction` to be one of .*got reduction='avg'"
    ):
        L.MeanSquaredError(reduction="avg")
    with pytest.raises(
        ValueError, match=r"expected `dtype` to be a floating dtype.*got dtype='int32'"
    ):
        L.MeanSquaredError(dtype="int32")
    with pytest.raises(
        ValueError,
        match=r"expected `label_smoothing` in \[0, 1\], got label_smoothing=1.5",
    ):
        L.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(TypeError, match=r"Expected `axis` to be an int, got axis=True"):
        L.CategoricalCrossentropy(axis=True)
    with pytest.raises(
        ValueError,
        match=r"binary_crossentropy: expected y_true and y_pred of the same shape, got y_true.shape=\(2, 2\) and y_pred.shape=\(2, 3\)",
    ):
        L.binary_crossentropy([[0.0, 1.0], [1.0, 0.0]], PB)
    with pytest.raises(
        ValueError,
        match=r"categorical_crossentropy: expected y_true and y_pred of the same shape",
    ):
        L.categorical_crossentropy([[0.0, 1.0]], PC)
    with pytest.raises(
        ValueError,
        match=r"sparse_categorical_crossentropy: expected y_true of shape \(2,\).*got y_true.shape=\(3,\)",
    ):
        L.sparse_categorical_crossentropy([1, 2, 0], PC)
    with pytest.raises(
        ValueError,
        match=r"expected sample_weight broadcastable to the per-sample loss of shape \(2,\), got sample_weight.shape=\(3,\)",
    ):
        L.MeanSquaredError()(YR, PR, sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"expected `fn` to be callable, got fn='mse'"):
        L.LossFunctionWrapper("mse")
    with pytest.raises(ValueError, match=r"unknown loss function 'nope'"):
        L.LossFunctionWrapper.from_config({"fn": "nope"})
    with pytest.raises(ValueError, match=r"Unknown loss class 'Nope'"):
        L.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(
        TypeError, match=r"deserialize: expected a name or a class_name/config dict"
    ):
        L.deserialize([1])
    with pytest.raises(
        TypeError, match=r"serialize: expected a Loss or a function, got int"
    ):
        L.serialize(3)
    with pytest.raises(
        NotImplementedError, match=r"Loss: subclasses of Loss must implement call"
    ):
        L.Loss()([[1.0]], [[1.0]])
    with pytest.warns(UserWarning, match=r"num_classes > 1.*use 'binary_crossentropy'"):
        L.categorical_crossentropy([[1.0]], [[0.5]])
