"""Device choice, placement and mixed-device errors (all runnable on a CPU)."""

import numpy as np
import pytest
import torch

import plait
from plait.callbacks import CSVLogger, ModelCheckpoint, ProgbarLogger
from plait.callbacks.callbacks import CallbackList
from plait.distribution import devices, process
from plait.layers import Dense, Input
from plait.training.data import ArrayBatches
from plait.training.distributed import bounds

TORCHRUN = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch):
    """No torchrun, no PLAIT_DEVICE, unless a test sets them."""
    for name in (*TORCHRUN, "PLAIT_DEVICE"):
        monkeypatch.delenv(name, raising=False)


def _model():
    i = Input(shape=(4,))
    return plait.Model(i, Dense(2)(Dense(3)(i)))


def _fake_cuda(monkeypatch, current=0):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: current)


def test_default_device_is_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.default_device() == torch.device("cpu")


def test_default_device_is_the_gpu_when_there_is_one(monkeypatch):
    _fake_cuda(monkeypatch, current=0)
    assert devices.default_device() == torch.device("cuda", 0)


def test_torchrun_puts_each_rank_on_its_local_gpu(monkeypatch):
    _fake_cuda(monkeypatch)
    for name, value in zip(TORCHRUN, ("3", "4", "1", "127.0.0.1", "29500")):
        monkeypatch.setenv(name, value)
    assert devices.default_device() == torch.device("cuda", 1)


def test_plait_device_overrides_the_gpu(monkeypatch):
    _fake_cuda(monkeypatch)
    monkeypatch.setenv("PLAIT_DEVICE", "cpu")
    assert devices.default_device() == torch.device("cpu")


def test_set_default_device_overrides_plait_device(monkeypatch):
    monkeypatch.setenv("PLAIT_DEVICE", "cpu")
    torch.set_default_device("meta")
    try:
        assert devices.default_device() == torch.device("meta")
    finally:
        torch.set_default_device(None)
    assert devices.default_device() == torch.device("cpu")


def test_bad_plait_device_is_a_value_error(monkeypatch):
    monkeypatch.setenv("PLAIT_DEVICE", "gpu-please")
    with pytest.raises(ValueError, match="PLAIT_DEVICE: expected a torch device"):
        devices.default_device()


def test_plait_device_cuda_without_cuda_is_a_value_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("PLAIT_DEVICE", "cuda:0")
    with pytest.raises(ValueError, match="CUDA is not available"):
        devices.default_device()


def test_compile_places_the_model_on_the_default_device(monkeypatch):
    monkeypatch.setenv("PLAIT_DEVICE", "meta")  # a device every machine has
    model = _model()
    model.compile("sgd", "mse")
    assert {p.device.type for p in model.parameters()} == {"meta"}


def test_a_model_the_user_placed_stays_there(monkeypatch):
    monkeypatch.setenv("PLAIT_DEVICE", "meta")
    model = _model().cpu()
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 4)), np.zeros((4, 2)), verbose=0)
    assert {p.device.type for p in model.parameters()} == {"cpu"}


def test_fit_with_a_layer_moved_alone_names_both_devices():
    model = _model()
    model.layers[1].to("meta")
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"'dense(_\d+)?' on meta and '.*' on cpu"):
        model.fit(np.zeros((4, 4)), np.zeros((4, 2)), verbose=0)


def test_calling_with_an_input_on_another_device_names_both():
    model = _model()
    with pytest.raises(ValueError, match="model's device cpu, got a tensor on meta"):
        model(torch.zeros(2, 4, device="meta"))


def test_predict_returns_host_numpy():
    out = _model().predict(np.zeros((5, 4)), verbose=0)
    assert isinstance(out, np.ndarray)
    assert out.shape == (5, 2)


def test_single_process_ranks():
    assert (process.rank(), process.world_size(), process.is_chief()) == (0, 1, True)


def test_rank_comes_from_torchrun_before_the_group_exists(monkeypatch):
    for name, value in zip(TORCHRUN, ("1", "2", "1", "127.0.0.1", "29500")):
        monkeypatch.setenv(name, value)
    assert (process.rank(), process.world_size(), process.is_chief()) == (1, 2, False)


def test_other_ranks_neither_print_nor_write(monkeypatch, tmp_path):
    user = [ModelCheckpoint(str(tmp_path / "m.plait")), CSVLogger(str(tmp_path / "l"))]
    assert len(CallbackList(user, add_progbar=True).callbacks) == 3
    for name, value in zip(TORCHRUN, ("1", "2", "1", "127.0.0.1", "29500")):
        monkeypatch.setenv(name, value)
    kept = CallbackList([*user, ProgbarLogger()], add_progbar=True, add_history=True)
    assert [type(c).__name__ for c in kept.callbacks] == ["History"]


def test_list_devices_and_distribution_api():
    assert plait.distribution.list_devices("cpu") == ["cpu:0"]
    with pytest.raises(ValueError, match="expected device_type 'cpu', 'gpu'"):
        plait.distribution.list_devices("tpu")
    plait.distribution.set_distribution(plait.distribution.DataParallel())
    try:
        assert isinstance(
            plait.distribution.distribution(), plait.distribution.DataParallel
        )
    finally:
        plait.distribution.set_distribution(None)
    with pytest.raises(
        TypeError, match=r"expected a plait\.distribution\.DataParallel"
    ):
        plait.distribution.set_distribution("data")


def test_initialize_without_torchrun_says_what_is_missing():
    with pytest.raises(ValueError, match=r"got no value for \['RANK'"):
        plait.distribution.initialize()


@pytest.mark.parametrize("n", [1, 2, 5, 8, 33])
@pytest.mark.parametrize("world", [1, 2, 3])
def test_slices_cover_every_row_once(n, world):
    parts = [bounds(n, world, r) for r in range(world)]
    rows = [i for lo, hi in parts for i in range(lo, hi)]
    assert rows == list(range(n))
    assert max(hi - lo for lo, hi in parts) - min(hi - lo for lo, hi in parts) <= 1


@pytest.mark.parametrize("shuffle", [True, "batch"])
def test_array_batches_with_one_seed_agree(shuffle):
    def order(seed):
        data = ArrayBatches([torch.arange(10)], [None], [None], 3, shuffle=shuffle)
        data.generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed + 1)  # the global stream no longer matters
        return [b[0][0].tolist() for b in data.epoch()]

    assert order(7) == order(7)
    assert sorted(i for batch in order(7) for i in batch) == list(range(10))


@pytest.mark.gpu
def test_a_guide_model_trains_on_the_gpu_unchanged():
    model = _model()
    model.compile("adam", "mse", metrics=["mae"])
    model.fit(np.ones((10, 4)), np.zeros((10, 2)), batch_size=4, verbose=0)
    assert {p.device.type for p in model.parameters()} == {"cuda"}
    assert model.metrics[0].device.type == "cuda"
    out = model.predict(np.ones((3, 4)), verbose=0)
    assert isinstance(out, np.ndarray)
    assert out.shape == (3, 2)
