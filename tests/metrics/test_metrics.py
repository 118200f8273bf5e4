"""Tests for plait.metrics.metrics: Keras 3 numerics, device state, registry."""

import json

import numpy as np
import pytest
import torch

import plait
from plait.losses import losses
from plait.metrics import metrics as M

# Inputs and expected values from Keras 3.15.1 (torch backend), pasted here.
YB = [[1.0], [0.0], [1.0], [1.0], [0.0], [0.0]]
PB = [[0.9], [0.6], [0.4], [0.55], [0.1], [0.5]]
SWB = [1.0, 2.0, 0.5, 1.0, 0.0, 3.0]
YC = [[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
PC = [[0.1, 0.2, 0.6, 0.1], [0.5, 0.3, 0.1, 0.1], [0.3, 0.3, 0.2, 0.2]]
YS = [2, 1, 0]
YSEQ = [[0, 1], [2, 2]]
PSEQ = [[[0.8, 0.1, 0.1], [0.2, 0.3, 0.5]], [[0.1, 0.1, 0.8], [0.3, 0.4, 0.3]]]
YP = [[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0]]
PP = [[0.2, 0.7, 0.4, 0.9], [0.8, 0.3, 0.6, 0.5]]
YA = [0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
PA = [0.54959369, 0.02755911, 0.7535131, 0.53814334, 0.3297317, 0.78842872, 0.30319482, 0.45349789, 0.1340417, 0.40311298, 0.20345524, 0.26231334, 0.75036466, 0.28040877, 0.48519099, 0.98073721]  # fmt: skip
SWA = [0.96165717, 0.72478992, 0.54122686, 0.2768912, 0.16065201, 0.9699254, 0.51606858, 0.11586561, 0.62348974, 0.77668309, 0.61300331, 0.91729772, 0.03959288, 0.52858925, 0.4593359, 0.06234958]  # fmt: skip
ZA = [0.21802817, -2.45470405, -1.36645329, -0.14408736, -1.88950324, -0.19653994, 0.19096605, 0.07117248, -1.01258337, 1.18749619, 1.78233385, 0.64169663, -1.63646042, 1.46330452, -1.0028801, 1.75832129]  # fmt: skip
YM = [[0, 1, 1], [1, 1, 1], [0, 0, 1], [0, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 0], [0, 1, 1]]  # fmt: skip
PM = [
    [0.80505484, 0.96367085, 0.15052482],
    [0.48221239, 0.89471585, 0.42271692],
    [0.58950204, 0.02449068, 0.67345989],
    [0.9190886, 0.82682532, 0.88552028],
    [0.66035539, 0.24555227, 0.76851702],
    [0.21167475, 0.83127481, 0.06271792],
    [0.82548779, 0.16450727, 0.37514699],
    [0.31673816, 0.69133705, 0.1785719],
]
YF = [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
PF = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]
YR = [[0.2, -1.0, 3.0], [1.5, 0.0, -0.5]]
PR = [[0.5, -0.7, 2.0], [1.0, 0.3, 0.4]]


def run(metric, *batches):
    for batch in batches:
        metric.update_state(*batch)
    return metric.result()


KERAS_CASES = [
    ("binary_accuracy", M.BinaryAccuracy(), [(YB, PB)], 0.6666667),
    ("binary_accuracy_sw", M.BinaryAccuracy(), [(YB, PB, SWB)], 0.6666667),
    ("binary_accuracy_threshold", M.BinaryAccuracy(threshold=0.58), [(YB, PB)], 0.5),
    ("binary_accuracy_flat_labels", M.BinaryAccuracy(), [(np.ravel(YB), PB)], 0.6666667),
    ("categorical_accuracy", M.CategoricalAccuracy(), [(YC, PC)], 0.6666667),
    ("categorical_accuracy_sw", M.CategoricalAccuracy(), [(YC, PC, [1.0, 2.0, 3.0])], 0.6666667),
    ("sparse_accuracy", M.SparseCategoricalAccuracy(), [(YS, PC)], 0.6666667),
    ("sparse_accuracy_column", M.SparseCategoricalAccuracy(), [([[2], [1], [0]], PC, [1.0, 2.0, 3.0])], 0.6666667),
    ("sparse_accuracy_seq", M.SparseCategoricalAccuracy(), [(YSEQ, PSEQ)], 0.5),
    ("sparse_accuracy_seq_sw", M.SparseCategoricalAccuracy(), [(YSEQ, PSEQ, [1.0, 3.0])], 0.5),
    ("top_k", M.TopKCategoricalAccuracy(k=2), [(YC, PC)], 1.0),
    ("sparse_top_k", M.SparseTopKCategoricalAccuracy(k=2), [(YS, PC)], 1.0),
    ("sparse_top_1", M.SparseTopKCategoricalAccuracy(k=1), [(YS, PC)], 0.6666667),
    ("accuracy", M.Accuracy(), [([[1], [2], [3], [4]], [[0], [2], [3], [4]])], 0.75),
    ("precision", M.Precision(), [(YP, PP)], 0.75),
    ("recall", M.Recall(), [(YP, PP)], 0.6),
    ("precision_thresholds", M.Precision(thresholds=[0.3, 0.5, 0.65]), [(YP, PP)], [0.8333333, 0.75, 0.6666667]),
    ("recall_thresholds", M.Recall(thresholds=[0.3, 0.5, 0.65]), [(YP, PP)], [1.0, 0.6, 0.4]),
    ("precision_unsorted", M.Precision(thresholds=[0.65, 0.3, 0.5]), [(YP, PP)], [0.6666667, 0.8333333, 0.75]),
    ("precision_top_k", M.Precision(top_k=2), [(YP, PP)], 0.75),
    ("recall_top_k", M.Recall(top_k=2), [(YP, PP)], 0.6),
    ("precision_class_id", M.Precision(class_id=2), [(YP, PP)], 1.0),
    ("recall_class_id", M.Recall(class_id=3), [(YP, PP)], 0.0),
    ("precision_top_k_class_id", M.Precision(top_k=2, class_id=3), [(YP, PP)], 0.0),
    ("precision_sw", M.Precision(), [(YP, PP, [0.5, 2.0])], 0.9),
    ("recall_sw", M.Recall(), [(YP, PP, [0.5, 2.0])], 0.64285713),
    ("precision_sw_full", M.Precision(), [(YP, PP, [[1, 2, 3, 4], [0, 1, 0, 2]])], 0.33333334),
    ("precision_two_batches", M.Precision(), [(YP[:1], PP[:1]), (YP[1:], PP[1:])], 0.75),
    ("tp", M.TruePositives(), [(YP, PP, [0.5, 2.0])], 4.5),
    ("fp", M.FalsePositives(), [(YP, PP, [0.5, 2.0])], 0.5),
    ("tn", M.TrueNegatives(), [(YP, PP, [0.5, 2.0])], 2.5),
    ("fn", M.FalseNegatives(), [(YP, PP, [0.5, 2.0])], 2.5),
    ("tp_thresholds", M.TruePositives(thresholds=[0.3, 0.65]), [(YP, PP)], [5.0, 2.0]),
    ("fp_thresholds", M.FalsePositives(thresholds=[0.3, 0.65]), [(YP, PP)], [1.0, 1.0]),
    ("tn_thresholds", M.TrueNegatives(thresholds=[0.3, 0.65]), [(YP, PP)], [2.0, 2.0]),
    ("fn_thresholds", M.FalseNegatives(thresholds=[0.3, 0.65]), [(YP, PP)], [0.0, 3.0]),
    ("auc_roc", M.AUC(), [(YA, PA)], 0.3253968),
    ("auc_roc_sw", M.AUC(), [(YA, PA, SWA)], 0.31622714),
    ("auc_roc_two_batches", M.AUC(), [(YA[:7], PA[:7]), (YA[7:], PA[7:])], 0.3253968),
    ("auc_pr", M.AUC(curve="PR"), [(YA, PA)], 0.32950288),
    ("auc_roc_minoring", M.AUC(summation_method="minoring", num_thresholds=7), [(YA, PA)], 0.26984125),
    ("auc_roc_majoring", M.AUC(summation_method="majoring", num_thresholds=7), [(YA, PA)], 0.46031743),
    ("auc_pr_minoring", M.AUC(curve="PR", summation_method="minoring", num_thresholds=7), [(YA, PA)], 0.287415),
    ("auc_pr_interpolation_7", M.AUC(curve="PR", num_thresholds=7), [(YA, PA)], 0.34384236),
    ("auc_thresholds", M.AUC(thresholds=[0.25, 0.5, 0.75]), [(YA, PA)], 0.36507934),
    ("auc_from_logits", M.AUC(from_logits=True), [(YA, ZA)], 0.5396825),
    ("auc_multi_label", M.AUC(multi_label=True), [(YM, PM)], 0.4361111),
    ("auc_multi_label_weights", M.AUC(multi_label=True, label_weights=[1.0, 2.0, 0.5]), [(YM, PM)], 0.5833333),
    ("auc_multi_label_num_labels", M.AUC(multi_label=True, num_labels=3), [(YM, PM)], 0.4361111),
    ("auc_flattened", M.AUC(), [(YM, PM)], 0.45714286),
    ("auc_flattened_label_weights", M.AUC(label_weights=[1.0, 2.0, 0.5]), [(YM, PM)], 0.60606056),
    ("auc_pr_multi_label", M.AUC(multi_label=True, curve="PR"), [(YM, PM)], 0.5715697),
    ("f1_none_t05", M.F1Score(threshold=0.5), [(YF, PF)], [0.5, 0.8, 0.6666666]),
    ("f1_none_argmax", M.F1Score(), [(YF, PF)], [0.0, 0.5, 0.6666666]),
    ("f1_none_sw", M.F1Score(threshold=0.5), [(YF, PF, [1.0, 0.5, 2.0])], [0.72727275, 0.9230769, 0.7999999]),
    ("f1_micro_t05", M.F1Score(average="micro", threshold=0.5), [(YF, PF)], 0.6666666),
    ("f1_micro_argmax", M.F1Score(average="micro"), [(YF, PF)], 0.39999995),
    ("f1_micro_sw", M.F1Score(average="micro", threshold=0.5), [(YF, PF, [1.0, 0.5, 2.0])], 0.8275862),
    ("f1_macro_t05", M.F1Score(average="macro", threshold=0.5), [(YF, PF)], 0.6555555),
    ("f1_macro_argmax", M.F1Score(average="macro"), [(YF, PF)], 0.38888884),
    ("f1_macro_sw", M.F1Score(average="macro", threshold=0.5), [(YF, PF, [1.0, 0.5, 2.0])], 0.8167832),
    ("f1_weighted_t05", M.F1Score(average="weighted", threshold=0.5), [(YF, PF)], 0.62777776),
    ("f1_weighted_argmax", M.F1Score(average="weighted"), [(YF, PF)], 0.27777776),
    ("f1_weighted_sw", M.F1Score(average="weighted", threshold=0.5), [(YF, PF, [1.0, 0.5, 2.0])], 0.8152914),
    ("fbeta_2_macro", M.FBetaScore(beta=2.0, threshold=0.5, average="macro"), [(YF, PF)], 0.70901316),
    ("rmse", M.RootMeanSquaredError(), [(YR, PR)], 0.62316394),
    ("rmse_sw", M.RootMeanSquaredError(), [(YR, PR, [0.3, 1.2])], 0.62075222),
    ("mse_sw", M.MeanSquaredError(), [(YR, PR, [0.3, 1.2])], 0.38533333),
    ("mae", M.MeanAbsoluteError(), [(YR, PR)], 0.55),
    ("cosine", M.CosineSimilarity(), [(YR, PR)], 0.86055475),
    ("logcosh", M.LogCoshError(), [(YR, PR)], 0.17445798),
    ("bce", M.BinaryCrossentropy(), [(YB, PB, SWB)], 0.67644876),
    ("cce_ls", M.CategoricalCrossentropy(label_smoothing=0.1), [(YC, PC)], 1.0327525),
    ("scce", M.SparseCategoricalCrossentropy(), [(YS, PC)], 0.97292376),
    ("kld", M.KLDivergence(), [(YC, PC)], 0.97291946),
    ("hinge", M.Hinge(), [(YB, PB)], 0.89166665),
    ("mean_full_weights", M.Mean(), [(YR, [[1, 0, 2], [0, 1, 1]])], 1.14),
    ("mean_row_weights", M.Mean(), [(YR, [0.3, 1.2])], 0.41333339),
    ("sum_row_weights", M.Sum(), [(YR, [0.3, 1.2])], 1.8600001),
    ("mean", M.Mean(), [([1.0, 3.0, 5.0, 7.0],)], 4.0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("metric", "batches", "expected"),
    [case[1:] for case in KERAS_CASES],
    ids=[case[0] for case in KERAS_CASES],
)
def test_metric_matches_keras(metric, batches, expected):
    metric.reset_state()
    got = run(metric, *batches)
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
    metric.reset_state()  # the state is reusable after a reset
    np.testing.assert_allclose(run(metric, *batches).numpy(), expected, rtol=1e-5)


def test_auc_matches_a_direct_threshold_sweep():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 50).astype("float32")
    y_pred = rng.uniform(size=50).astype("float32")
    thresholds = np.array(M.AUC(num_thresholds=11).thresholds, dtype="float32")
    above = y_pred[None, :] > thresholds[:, None]
    tp = (above & (y_true == 1)).sum(1)
    fp = (above & (y_true == 0)).sum(1)
    tpr, fpr = tp / (y_true == 1).sum(), fp / (y_true == 0).sum()
    expected = np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)
    got = run(M.AUC(num_thresholds=11), (y_true, y_pred))
    assert got.item() == pytest.approx(expected, abs=1e-6)


def test_metric_updates_never_sync_with_the_host():
    # Meta tensors have no data: any .item(), bool() or host copy would raise.
    def meta(*shape, dtype=torch.float32):
        return torch.zeros(*shape, dtype=dtype, device="meta")

    long = torch.long
    cases = [
        (M.Mean(), (meta(4, 3), meta(4))),
        (M.Sum(), (meta(4, 3), meta(4))),
        (M.BinaryAccuracy(), (meta(4, 1), meta(4, 1))),
        (M.CategoricalAccuracy(), (meta(4, 3), meta(4, 3))),
        (M.SparseCategoricalAccuracy(), (meta(4, dtype=long), meta(4, 3))),
        (M.TopKCategoricalAccuracy(k=2), (meta(4, 3), meta(4, 3))),
        (M.SparseTopKCategoricalAccuracy(k=2), (meta(4, dtype=long), meta(4, 3))),
        (M.Precision(thresholds=[0.6, 0.2]), (meta(4, 3), meta(4, 3), meta(4))),
        (M.Recall(top_k=2), (meta(4, 3), meta(4, 3))),
        (M.AUC(label_weights=[1.0, 2.0, 3.0]), (meta(4, 3), meta(4, 3), meta(4))),
        (M.AUC(multi_label=True, curve="PR"), (meta(4, 3), meta(4, 3))),
        (M.F1Score(average="weighted"), (meta(4, 3), meta(4, 3), meta(4))),
        (M.RootMeanSquaredError(), (meta(4, 3), meta(4, 3))),
        (
            M.SparseCategoricalCrossentropy(ignore_class=0),
            (meta(4, dtype=long), meta(4, 3), meta(4)),
        ),
        (M.BinaryCrossentropy(from_logits=True), (meta(4, 1), meta(4, 1))),
    ]
    for metric, args in cases:
        metric.update_state(*args)
        metric.update_state(*args)
        assert metric.result().device.type == "meta"


def test_metric_state_lives_on_first_update_device_and_moves_with_to():
    metric = M.Mean()
    assert metric.device is None
    assert metric.variables == []
    metric.update_state(torch.ones(3))
    assert metric.device == torch.device("cpu")
    assert all(v.device.type == "cpu" for v in metric.variables)
    metric.to("meta")
    assert all(v.device.type == "meta" for v in metric.variables)
    fresh = M.Precision().to("meta")
    fresh.update_state(torch.zeros(2, device="meta"), torch.zeros(2, device="meta"))
    assert fresh.result().device.type == "meta"


def test_metric_result_before_update_is_zero():
    for metric in (M.Mean(), M.BinaryAccuracy(), M.AUC(), M.Precision(), M.F1Score()):
        assert float(metric.result().sum()) == 0.0
    assert M.AUC(multi_label=True).result().item() == 0.0


def test_metric_detaches_inputs():
    y_pred = torch.tensor([[0.3], [0.8]], requires_grad=True)
    metric = M.BinaryCrossentropy()
    metric.update_state([[0.0], [1.0]], y_pred)
    assert not any(v.requires_grad for v in metric.variables)
    assert not metric.result().requires_grad


def test_metric_call_updates_and_returns_result():
    metric = M.Mean()
    assert metric([1.0, 3.0]).item() == 2.0
    assert metric([5.0]).item() == 3.0


def test_metric_dtype_float64():
    metric = M.Mean(dtype="float64")
    metric.update_state([1.0, 2.0])
    assert metric.result().dtype == torch.float64


def test_sparse_crossentropy_metric_ignore_class():
    y_pred = [[0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.6, 0.3, 0.1]]
    metric = M.SparseCategoricalCrossentropy(ignore_class=-1)
    got = run(metric, ([1, -1, 0], y_pred))
    assert got.item() == pytest.approx((0.35667497 + 0.51082557) / 2, rel=1e-6)
    metric.reset_state()
    got = run(metric, ([1, -1, 0], y_pred, [2.0, 5.0, 1.0]))
    expected = (2 * 0.35667497 + 0.51082557) / 3
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_mean_metric_wrapper_of_custom_function():
    def max_error(y_true, y_pred):
        return (y_true - y_pred).abs().amax(dim=-1)

    metric = M.MeanMetricWrapper(max_error)
    assert metric.name == "max_error"
    assert (
        run(metric, ([[0.0, 1.0], [0.0, 0.0]], [[0.5, 3.0], [1.0, 0.0]])).item() == 1.5
    )


@pytest.mark.parametrize(
    ("identifier", "cls"),
    [
        ("accuracy", M.Accuracy),
        ("binary_accuracy", M.BinaryAccuracy),
        ("BinaryAccuracy", M.BinaryAccuracy),
        ("categorical_accuracy", M.CategoricalAccuracy),
        ("sparse_categorical_accuracy", M.SparseCategoricalAccuracy),
        ("top_k_categorical_accuracy", M.TopKCategoricalAccuracy),
        ("sparse_top_k_categorical_accuracy", M.SparseTopKCategoricalAccuracy),
        ("auc", M.AUC),
        ("AUC", M.AUC),
        ("precision", M.Precision),
        ("recall", M.Recall),
        ("f1_score", M.F1Score),
        ("true_positives", M.TruePositives),
        ("mse", M.MeanSquaredError),
        ("MAE", M.MeanAbsoluteError),
        ("mape", M.MeanAbsolutePercentageError),
        ("msle", M.MeanSquaredLogarithmicError),
        ("root_mean_squared_error", M.RootMeanSquaredError),
        ("cosine_similarity", M.CosineSimilarity),
        ("logcosh", M.LogCoshError),
        ("log_cosh_error", M.LogCoshError),
        ("binary_crossentropy", M.BinaryCrossentropy),
        ("bce", M.BinaryCrossentropy),
        ("categorical_crossentropy", M.CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", M.SparseCategoricalCrossentropy),
        ("kld", M.KLDivergence),
        ("kullback_leibler_divergence", M.KLDivergence),
        ("hinge", M.Hinge),
        ("poisson", M.Poisson),
        ("mean", M.Mean),
    ],
)
def test_get_resolves_names_and_keeps_them(identifier, cls):
    metric = M.get(identifier)
    assert type(metric) is cls
    assert metric.name == identifier


def test_get_other_identifiers():
    metric = M.AUC()
    assert M.get(metric) is metric
    assert M.get(None) is None
    assert type(M.get(M.Recall)) is M.Recall
    assert type(M.get(M.binary_accuracy)) is M.BinaryAccuracy
    assert type(M.get(losses.mean_squared_error)) is M.MeanSquaredError
    huber = M.get("huber")
    assert isinstance(huber, M.MeanMetricWrapper)
    assert huber.name == "huber"
    assert run(huber, ([[0.0]], [[3.0]])).item() == 2.5
    from_loss = M.get(losses.Huber(delta=2.0))
    assert from_loss.name == "huber_loss"
    assert run(from_loss, ([[0.0], [0.0]], [[3.0], [1.0]])).item() == pytest.approx(
        2.25
    )
    assert M.get({"class_name": "AUC", "config": {"curve": "PR"}}).curve == "PR"


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(
        ValueError, match=r"Unknown metric 'acuracy'; expected one of \[.*'accuracy'"
    ):
        M.get("acuracy")
    with pytest.raises(TypeError, match=r"Expected a metric name.*got float 1.5"):
        M.get(1.5)


@pytest.mark.parametrize(
    ("name", "loss", "y_pred_shape", "y_true_shape", "cls"),
    [
        ("accuracy", "binary_crossentropy", (None, 5), None, M.BinaryAccuracy),
        ("acc", losses.BinaryCrossentropy(from_logits=True), (None, 3), None, M.BinaryAccuracy),
        ("accuracy", "mse", (None, 1), None, M.BinaryAccuracy),
        ("Accuracy", None, (None, 1), None, M.BinaryAccuracy),
        ("accuracy", "sparse_categorical_crossentropy", (None, 10), None, M.SparseCategoricalAccuracy),
        ("acc", losses.SparseCategoricalCrossentropy(), (None, 7, 10), None, M.SparseCategoricalAccuracy),
        ("accuracy", "categorical_crossentropy", (None, 10), None, M.CategoricalAccuracy),
        ("accuracy", losses.categorical_crossentropy, (None, 10), None, M.CategoricalAccuracy),
        ("accuracy", "mse", (None, 10), (None,), M.SparseCategoricalAccuracy),
        ("accuracy", "mse", (None, 10), (None, 1), M.SparseCategoricalAccuracy),
        ("accuracy", "mse", (None, 10), (None, 10), M.CategoricalAccuracy),
        ("accuracy", None, (None, 10), None, M.CategoricalAccuracy),
    ],
)  # fmt: skip
def test_resolve_accuracy(name, loss, y_pred_shape, y_true_shape, cls):
    metric = M.resolve_accuracy(name, loss, y_pred_shape, y_true_shape)
    assert type(metric) is cls
    assert metric.name == name


ALL_METRICS = [
    M.Mean(name="m"),
    M.Sum(dtype="float64"),
    M.Accuracy(),
    M.BinaryAccuracy(threshold=0.7),
    M.CategoricalAccuracy(),
    M.SparseCategoricalAccuracy(),
    M.TopKCategoricalAccuracy(k=3),
    M.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True),
    M.Precision(thresholds=[0.2, 0.8], class_id=1),
    M.Recall(top_k=3),
    M.AUC(num_thresholds=50, curve="PR", summation_method="majoring", from_logits=True),
    M.AUC(thresholds=[0.3, 0.6], multi_label=True, label_weights=[1.0, 2.0]),
    M.F1Score(average="macro", threshold=0.4),
    M.FBetaScore(beta=0.5),
    M.TruePositives(thresholds=0.3),
    M.FalseNegatives(),
    M.MeanSquaredError(),
    M.MeanAbsoluteError(),
    M.MeanAbsolutePercentageError(),
    M.MeanSquaredLogarithmicError(),
    M.RootMeanSquaredError(),
    M.CosineSimilarity(axis=0),
    M.LogCoshError(),
    M.Hinge(),
    M.SquaredHinge(),
    M.CategoricalHinge(),
    M.KLDivergence(),
    M.Poisson(),
    M.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    M.CategoricalCrossentropy(label_smoothing=0.2, axis=0),
    M.SparseCategoricalCrossentropy(ignore_class=3),
    M.MeanMetricWrapper(losses.huber, delta=0.5),
]


@pytest.mark.parametrize("metric", ALL_METRICS, ids=lambda m: type(m).__name__)
def test_metric_config_round_trip(metric):
    config = metric.get_config()
    clone = type(metric).from_config(config)
    assert clone.get_config() == config
    data = json.loads(json.dumps(M.serialize(metric)))
    restored = M.deserialize(data)
    assert type(restored) is type(metric)
    assert restored.get_config() == config


def test_metric_default_names_and_repr():
    assert M.AUC().name == "auc"
    assert M.Precision().name == "precision"
    assert M.F1Score().name == "f1_score"
    assert M.LogCoshError().name == "logcosh"
    assert M.TruePositives().name == "true_positives"
    assert repr(M.Recall()) == "<Recall name='recall'>"


def test_deserialize_with_custom_objects():
    def custom(y_true, y_pred):
        return (y_true - y_pred).mean(dim=-1)

    data = M.serialize(M.MeanMetricWrapper(custom))
    restored = M.deserialize(data, custom_objects={"custom": custom})
    assert restored._fn is custom
    assert M.deserialize("mse").name == "mse"
    assert M.serialize(None) is None


def test_metric_error_messages():
    with pytest.raises(
        ValueError,
        match=r"Precision: expected `thresholds` to be floats in \[0, 1\], got thresholds=\[0.5, 1.5\]",
    ):
        M.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(
        ValueError,
        match=r"AUC: expected `curve` to be 'ROC' or 'PR', got curve='PRGAIN'",
    ):
        M.AUC(curve="PRGAIN")
    with pytest.raises(
        ValueError,
        match=r"AUC: expected `summation_method` to be .*got summation_method='left'",
    ):
        M.AUC(summation_method="left")
    with pytest.raises(
        ValueError,
        match=r"AUC: expected `num_thresholds` to be an int > 1, got num_thresholds=1",
    ):
        M.AUC(num_thresholds=1)
    with pytest.raises(
        ValueError, match=r"AUC: `num_labels` is needed only when `multi_label=True`"
    ):
        M.AUC(num_labels=3)
    with pytest.raises(
        ValueError,
        match=r"AUC: with multi_label=True, expected y_pred of rank 2, got shape \(4,\)",
    ):
        M.AUC(multi_label=True).update_state([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(
        ValueError,
        match=r"FBetaScore: expected `average` to be None, 'micro', 'macro' or 'weighted', got average='sum'",
    ):
        M.FBetaScore(average="sum")
    with pytest.raises(
        ValueError, match=r"FBetaScore: expected `beta` to be a float > 0, got beta=2"
    ):
        M.FBetaScore(beta=2)
    with pytest.raises(
        ValueError,
        match=r"FBetaScore: expected `threshold` to be a float in \(0, 1\] or None, got threshold=0.0",
    ):
        M.F1Score(threshold=0.0)
    with pytest.raises(
        ValueError,
        match=r"F1Score: expected y_true and y_pred of shape \(batch_size, num_classes\), got y_true.shape=\(3,\)",
    ):
        M.F1Score().update_state([1, 0, 1], [0.2, 0.3, 0.9])
    with pytest.raises(
        ValueError,
        match=r"Precision: with class_id, expected y_pred of shape \(num_samples, num_classes\), got shape \(2,\)",
    ):
        M.Precision(class_id=1).update_state([0, 1], [0.2, 0.8])
    with pytest.raises(
        ValueError,
        match=r"Recall: expected y_true and y_pred of the same shape, got y_true.shape=\(2, 3\) and y_pred.shape=\(2, 2\)",
    ):
        M.Recall().update_state([[0, 1, 1], [1, 0, 0]], [[0.2, 0.8], [0.4, 0.6]])
    with pytest.raises(
        ValueError,
        match=r"Precision: expected sample_weight broadcastable to y_pred.shape=\(2, 2\), got sample_weight.shape=\(2, 3\)",
    ):
        M.Precision().update_state(
            [[0, 1], [1, 0]], [[0.2, 0.8], [0.4, 0.6]], [[1, 2, 3], [4, 5, 6]]
        )
    with pytest.raises(
        ValueError,
        match=r"Metric: expected sample_weight broadcastable to values of shape \(2,\), got sample_weight.shape=\(2, 3\)",
    ):
        M.MeanSquaredError().update_state(YR, PR, [[1, 0, 2], [0, 1, 1]])
    with pytest.raises(
        ValueError,
        match=r"Metric: expected `dtype` to be a floating dtype.*got dtype='int64'",
    ):
        M.Mean(dtype="int64")
    with pytest.raises(
        TypeError,
        match=r"MeanMetricWrapper: expected `fn` to be callable, got fn='mse'",
    ):
        M.MeanMetricWrapper("mse")
    with pytest.raises(ValueError, match=r"unknown metric function 'nope'"):
        M.MeanMetricWrapper.from_config({"fn": "nope"})
    with pytest.raises(ValueError, match=r"Unknown metric class 'Nope'"):
        M.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(
        TypeError, match=r"deserialize: expected a name or a class_name/config dict"
    ):
        M.deserialize(3)
    with pytest.raises(TypeError, match=r"serialize: expected a Metric, got str"):
        M.serialize("mse")
    with pytest.raises(
        ValueError,
        match=r"resolve_accuracy: expected `name` to be 'accuracy' or 'acc', got name='auc'",
    ):
        M.resolve_accuracy("auc", None, (None, 1))
    with pytest.raises(
        NotImplementedError,
        match=r"Metric: subclasses of Metric must implement update_state",
    ):
        M.Metric().update_state(1)
    with pytest.raises(
        NotImplementedError, match=r"Metric: subclasses of Metric must implement result"
    ):
        M.Metric().result()


@pytest.mark.parametrize(
    ("y_pred", "kwargs", "keras_value"),
    [  # Keras 3.15's results (scores outside [0, 1], e.g. logits)
        ([0.8, -0.5], {}, 1.0),
        ([-0.5, -0.7], {}, 0.5),
        ([1.5, 0.3], {}, 1.0),
        ([0.8, -0.5], {"curve": "PR"}, 1.0),
        ([0.8, -0.5], {"thresholds": [0.1, 0.5, 0.7]}, 0.0),  # not evenly spaced
    ],
)
def test_auc_clips_scores_to_unit_interval_with_evenly_spaced_thresholds(
    y_pred, kwargs, keras_value
):
    auc = plait.metrics.AUC(**kwargs)
    auc.update_state(np.array([1.0, 0.0]), np.array(y_pred))
    assert float(auc.result()) == pytest.approx(keras_value)
