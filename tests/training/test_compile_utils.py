"""Tests for plait.training.compile_utils: the per-output rules and fast paths."""

import numpy as np
import pytest
import torch

import plait
from plait import activations
from plait.layers import Dense
from plait.losses import losses as L
from plait.metrics import metrics as M
from plait.training import compile_utils as cu

NAMES = ["main_output", "aux_output"]


# ---------------------------------------------------------------- loss rules


def test_expand_losses_single_loss_broadcasts_to_every_output():
    out = cu.expand_losses("binary_crossentropy", NAMES)
    assert [type(o) for o in out] == [L.BinaryCrossentropy] * 2
    assert out[0] is not out[1]


def test_expand_losses_list_maps_by_position():
    out = cu.expand_losses(["mse", "mae"], NAMES)
    assert [type(o) for o in out] == [L.MeanSquaredError, L.MeanAbsoluteError]


def test_expand_losses_list_of_wrong_length_is_an_error():
    with pytest.raises(
        ValueError, match=r"expected a list of 2 losses, one per output"
    ):
        cu.expand_losses(["mse"], NAMES)


def test_expand_losses_dict_maps_by_name_and_warns_for_missing_outputs():
    with pytest.warns(UserWarning, match=r"\['aux_output'\] have no loss"):
        out = cu.expand_losses({"main_output": "mse"}, NAMES)
    assert isinstance(out[0], L.MeanSquaredError)
    assert out[1] is None


def test_expand_losses_dict_unknown_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError,
        match=r"unknown output name\(s\) \['main'\].*"
        r"\['main_output', 'aux_output'\]",
    ):
        cu.expand_losses({"main": "mse", "aux_output": "mse"}, NAMES)


def test_expand_losses_unknown_loss_name_is_an_error():
    with pytest.raises(ValueError, match="Unknown loss 'binary_crossentropi'"):
        cu.expand_losses("binary_crossentropi", NAMES)


def test_expand_losses_accepts_callables_and_classes():
    def my_loss(y_true, y_pred):
        return (y_true - y_pred).abs().mean(-1)

    out = cu.expand_losses([my_loss, L.Huber], NAMES)
    assert isinstance(out[0], L.LossFunctionWrapper)
    assert isinstance(out[1], L.Huber)


# ---------------------------------------------------------------- weight rules


def test_expand_loss_weights_none_list_dict():
    assert cu.expand_loss_weights(None, NAMES) == [1.0, 1.0]
    assert cu.expand_loss_weights([1.0, 0.2], NAMES) == [1.0, 0.2]
    assert cu.expand_loss_weights({"aux_output": 0.2}, NAMES) == [1.0, 0.2]


def test_expand_loss_weights_list_of_wrong_length_is_an_error():
    with pytest.raises(ValueError, match=r"expected a list of 2 weights"):
        cu.expand_loss_weights([1.0, 0.2, 3.0], NAMES)


def test_expand_loss_weights_unknown_name_is_an_error():
    with pytest.raises(ValueError, match=r"loss_weights=.*unknown output name"):
        cu.expand_loss_weights({"aux": 0.2}, NAMES)


def test_expand_loss_weights_rejects_other_types():
    with pytest.raises(TypeError, match="expected None, a list or a dict"):
        cu.expand_loss_weights("heavy", NAMES)


# ---------------------------------------------------------------- metric rules


def test_expand_metrics_flat_list_applies_to_every_output():
    assert cu.expand_metrics(["accuracy", "mse"], NAMES, "metrics") == [
        ["accuracy", "mse"],
        ["accuracy", "mse"],
    ]


def test_expand_metrics_list_of_lists_and_dict():
    assert cu.expand_metrics([["accuracy"], []], NAMES, "metrics") == [["accuracy"], []]
    assert cu.expand_metrics({"aux_output": "mae"}, NAMES, "metrics") == [[], ["mae"]]


def test_expand_metrics_errors():
    with pytest.raises(ValueError, match=r"expected 2 lists of metrics"):
        cu.expand_metrics([["a"], ["b"], ["c"]], NAMES, "metrics")
    with pytest.raises(ValueError, match="got a mix"):
        cu.expand_metrics(["mse", ["mae"]], NAMES, "metrics")
    with pytest.raises(ValueError, match=r"metrics=.*unknown output name"):
        cu.expand_metrics({"nope": ["mse"]}, NAMES, "metrics")
    with pytest.raises(TypeError, match="expected a list of metrics"):
        cu.expand_metrics("mse", NAMES, "metrics")


def test_check_metric_names_rejects_unknown_names():
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'"):
        cu.check_metric_names([["acuracy"]])
    cu.check_metric_names([["accuracy", "acc", "mse", M.AUC()]])


# ---------------------------------------------------------------- targets


def test_check_target_shape_categorical_with_integer_labels_says_what_to_do():
    loss = L.get("categorical_crossentropy")
    with pytest.raises(
        ValueError,
        match=r"Output 'out' \(loss 'categorical_crossentropy'\): expected one-hot "
        r"targets of shape \(None, 10\), got integer labels of shape \(32,\)\. Use "
        r"loss='sparse_categorical_crossentropy'.*to_categorical\(y, 10\)",
    ):
        cu.check_target_shape("out", loss, (32,), (None, 10))


def test_check_target_shape_sparse_with_one_hot_suggests_categorical():
    loss = L.get("sparse_categorical_crossentropy")
    with pytest.raises(
        ValueError, match=r"integer class ids of shape.*categorical_crossentropy"
    ):
        cu.check_target_shape("out", loss, (32, 10), (None, 10))
    cu.check_target_shape("out", loss, (32,), (None, 10))
    cu.check_target_shape("out", loss, (32, 1), (None, 10))


def test_check_target_shape_elementwise_losses():
    loss = L.get("binary_crossentropy")
    cu.check_target_shape("out", loss, (32, 1), (None, 1))
    cu.check_target_shape("out", loss, (32,), (None, 1))
    with pytest.raises(
        ValueError, match=r"expected targets of shape \(None, 1\), got \(32, 3\)"
    ):
        cu.check_target_shape("out", loss, (32, 3), (None, 1))


def test_check_target_shape_skips_custom_losses():
    def custom(y_true, y_pred):
        return y_pred.mean(-1)

    cu.check_target_shape("out", L.get(custom), (5, 7, 9), (None, 1))


# ---------------------------------------------------------------- losses


def _pairs():
    torch.manual_seed(0)
    z = torch.randn(6, 4)
    onehot = torch.eye(4)[torch.tensor([0, 1, 3, 2, 1, 0])]
    ids = torch.tensor([0, 1, 3, 2, 1, 0])
    binary = torch.randint(0, 2, (6, 1)).float()
    return z, onehot, ids, binary


@pytest.mark.parametrize(
    ("loss", "target", "pred"),
    [
        (L.CategoricalCrossentropy(from_logits=True), "onehot", "z"),
        (L.SparseCategoricalCrossentropy(from_logits=True), "ids", "z"),
        (L.BinaryCrossentropy(from_logits=True), "binary", "z1"),
        (L.MeanSquaredError(), "onehot", "z"),
        (L.MeanAbsoluteError(), "onehot", "z"),
    ],
    ids=["cce", "scce", "bce", "mse", "mae"],
)
def test_output_loss_fast_path_equals_the_general_loss(loss, target, pred):
    z, onehot, ids, binary = _pairs()
    y = {"onehot": onehot, "ids": ids, "binary": binary}[target]
    p = z[:, :1] if pred == "z1" else z
    out = cu.OutputLoss("o", 0, loss, 1.0)
    assert out._fast is not None
    torch.testing.assert_close(out(y, p), loss(y, p), atol=1e-6, rtol=1e-6)
    weighted = cu.OutputLoss("o", 0, loss, 0.5)  # the total applies the weight
    torch.testing.assert_close(weighted(y, p), loss(y, p), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("dtype", [torch.int32, torch.uint8, torch.int16])
def test_sparse_fast_path_takes_any_integer_targets(dtype):
    # Keras's image/text datasets give int32 labels; F.cross_entropy wants int64.
    z, _, ids, _ = _pairs()
    loss = L.SparseCategoricalCrossentropy(from_logits=True)
    out = cu.OutputLoss("o", 0, loss, 1.0)
    for y in (ids.to(dtype), ids.to(dtype)[:, None]):
        torch.testing.assert_close(out(y, z), loss(ids, z), atol=1e-6, rtol=1e-6)


def test_output_loss_uses_the_logits_variant_for_matching_activations():
    z, onehot, _, _ = _pairs()
    loss = L.CategoricalCrossentropy()
    out = cu.OutputLoss("o", 0, loss, 1.0, activations.softmax)
    assert out.loss.from_logits
    assert out.activation is activations.softmax
    torch.testing.assert_close(out(onehot, z), loss(onehot, torch.softmax(z, -1)))
    torch.testing.assert_close(out.probabilities(z), torch.softmax(z, -1))


def test_output_loss_with_sample_weight_uses_the_general_path():
    z, onehot, _, _ = _pairs()
    sw = torch.arange(6.0)
    loss = L.CategoricalCrossentropy(from_logits=True)
    out = cu.OutputLoss("o", 0, loss, 2.0)
    per_sample = -(onehot * torch.log_softmax(z, -1)).sum(-1)
    torch.testing.assert_close(out(onehot, z, sw), (per_sample * sw).sum() / 6)


def test_logits_activation_matches_loss_and_activation():
    soft = Dense(3, activation="softmax")
    sig = Dense(1, activation="sigmoid")
    relu = Dense(1, activation="relu")
    cce, bce = L.get("categorical_crossentropy"), L.get("binary_crossentropy")
    assert cu.logits_activation(cce, soft) is activations.softmax
    assert cu.logits_activation(L.get("sparse_categorical_crossentropy"), soft)
    assert cu.logits_activation(bce, sig) is activations.sigmoid
    assert cu.logits_activation(bce, soft) is None
    assert cu.logits_activation(cce, relu) is None
    assert cu.logits_activation(L.get("mse"), sig) is None
    assert cu.logits_activation(L.BinaryCrossentropy(from_logits=True), sig) is None
    assert cu.logits_activation(cce, None) is None


# ---------------------------------------------------------------- metrics


def test_mean_tracker_weights_by_batch_size():
    t = cu.MeanTracker("loss")
    assert float(t.result()) == 0.0
    t.update(torch.tensor(1.0), 32)
    t.update(torch.tensor(4.0), 8)
    assert float(t.result()) == pytest.approx((32 + 32) / 40)
    t.reset()
    assert t.count == 0


def _compiled(items, losses, pred_shapes, y_shapes, names=("out",)):
    per = [list(items) for _ in names]
    return cu.CompiledMetrics(
        per, [[] for _ in names], list(names), losses, pred_shapes, y_shapes
    )


def test_compiled_metrics_resolve_accuracy_and_name_per_output():
    bce = cu.OutputLoss("a", 0, L.get("binary_crossentropy"), 1.0)
    cce = cu.OutputLoss("b", 1, L.get("categorical_crossentropy"), 1.0)
    cm = _compiled(
        ["accuracy"],
        [bce, cce],
        [(None, 1), (None, 3)],
        [(4, 1), (4, 3)],
        names=("a", "b"),
    )
    kinds = [type(m) for m in cm.metrics]
    assert kinds == [M.BinaryAccuracy, M.CategoricalAccuracy]
    assert [m.name for m in cm.metrics] == ["a_accuracy", "b_accuracy"]


def test_compiled_metrics_fast_updates_match_numpy():
    rng = np.random.default_rng(0)
    p = torch.tensor(rng.random((10, 4)), dtype=torch.float32)
    ids = torch.tensor(rng.integers(0, 4, 10))
    onehot = torch.eye(4)[ids]
    cat = _compiled(
        ["accuracy"],
        [cu.OutputLoss("o", 0, L.get("categorical_crossentropy"), 1.0)],
        [(None, 4)],
        [(10, 4)],
    )
    sparse = _compiled(
        ["acc"],
        [cu.OutputLoss("o", 0, L.get("sparse_categorical_crossentropy"), 1.0)],
        [(None, 4)],
        [(10,)],
    )
    for _ in range(2):
        cat.update([onehot], [p], [None])
        sparse.update([ids], [p], [None])
    expected = float(np.mean(p.numpy().argmax(-1) == ids.numpy()))
    assert float(cat.results()["accuracy"]) == pytest.approx(expected)
    assert float(sparse.results()["acc"]) == pytest.approx(expected)
    cat.reset()
    assert float(cat.results()["accuracy"]) == 0.0


def test_compiled_metrics_binary_fast_update_matches_numpy():
    p = torch.tensor([[0.2], [0.7], [0.51], [0.4]])
    y = torch.tensor([[0.0], [1.0], [0.0], [0.0]])
    cm = _compiled(
        ["accuracy"],
        [cu.OutputLoss("o", 0, L.get("binary_crossentropy"), 1.0)],
        [(None, 1)],
        [(4, 1)],
    )
    cm.update([y], [p], [None])
    assert float(cm.results()["accuracy"]) == pytest.approx(0.75)


def test_compiled_metrics_weighted_metrics_get_sample_weights_and_a_prefix():
    loss = cu.OutputLoss("o", 0, L.get("mse"), 1.0)
    cm = cu.CompiledMetrics([["mae"]], [["mae"]], ["o"], [loss], [(None, 1)], [(2, 1)])
    assert [m.name for m in cm.metrics] == ["mae", "weighted_mae"]
    y, p, sw = (
        torch.tensor([[0.0], [0.0]]),
        torch.tensor([[1.0], [3.0]]),
        torch.tensor([3.0, 1.0]),
    )
    cm.update([y], [p], [sw])
    res = cm.results()
    assert float(res["mae"]) == pytest.approx(2.0)
    assert float(res["weighted_mae"]) == pytest.approx((3 * 1 + 1 * 3) / 4)


def test_compiled_metrics_copies_a_metric_instance_per_output():
    auc = M.AUC()
    cm = _compiled(
        [auc], [None, None], [(None, 1), (None, 1)], [(2, 1), (2, 1)], names=("a", "b")
    )
    assert cm.metrics[0] is not cm.metrics[1]
    assert [m.name for m in cm.metrics] == ["a_auc", "b_auc"]


def test_loss_subclass_with_its_own_call_trains():
    # keras.io's supervised contrastive learning: a Loss overriding __call__
    # with Keras's (y_true, y_pred, sample_weight) signature, no `mask`.
    class Squared(plait.losses.Loss):
        def __call__(self, y_true, y_pred, sample_weight=None):
            return plait.ops.mean(plait.ops.square(y_true - y_pred))

    inputs = plait.Input((3,))
    model = plait.Model(inputs, plait.layers.Dense(2)(inputs))
    model.compile(optimizer="sgd", loss=Squared())
    x, y = np.ones((8, 3), "float32"), np.ones((8, 2), "float32")
    expected = float(((model.predict(x, verbose=0) - y) ** 2).mean())
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history
    np.testing.assert_allclose(history["loss"][0], expected, rtol=1e-5)
