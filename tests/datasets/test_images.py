import gzip
import io
import tarfile

import numpy as np
import pytest

from plait.datasets import cifar10, cifar100, fashion_mnist, mnist
from plait.datasets.fashion_mnist import read_idx


def test_mnist_reads_keras_npz(cache, pin):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 5, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    np.savez(cache / "mnist.npz", **arrays)
    pin(mnist, cache / "mnist.npz")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for got, name in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test")]:
        np.testing.assert_array_equal(got, arrays[name])
        assert got.dtype == np.uint8
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def _idx(array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        d.to_bytes(4, "big") for d in array.shape
    )
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_idx_files(cache, pin):
    rng = np.random.default_rng(1)
    x_train = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, 4, dtype=np.uint8)
    x_test = rng.integers(0, 256, (2, 28, 28), dtype=np.uint8)
    y_test = rng.integers(0, 10, 2, dtype=np.uint8)
    folder = cache / "fashion-mnist"
    folder.mkdir()
    made = {
        "train-labels-idx1-ubyte.gz": y_train,
        "train-images-idx3-ubyte.gz": x_train,
        "t10k-labels-idx1-ubyte.gz": y_test,
        "t10k-images-idx3-ubyte.gz": x_test,
    }
    for name, array in made.items():
        (folder / name).write_bytes(_idx(array))
        pin(fashion_mnist.FILES, folder / name, name)
    (gx_train, gy_train), (gx_test, gy_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(gx_train, x_train)
    np.testing.assert_array_equal(gy_train, y_train)
    np.testing.assert_array_equal(gx_test, x_test)
    np.testing.assert_array_equal(gy_test, y_test)
    assert gx_train.shape == (4, 28, 28)
    assert gx_train.dtype == np.uint8


def test_read_idx_checks_its_size(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(
        gzip.compress(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"abc")
    )
    with pytest.raises(ValueError, match=r"expected 5 bytes of data for shape \(5,\)"):
        read_idx(path)


def _records(labels, images):
    """CIFAR binary records: label bytes, then the R, G, B planes row by row."""
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    return np.concatenate([labels.astype(np.uint8), planes], axis=1).tobytes()


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_cifar10_reads_binary_records(cache, pin):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, (12, 1), dtype=np.uint8)
    members = {
        name: _records(labels[2 * i : 2 * i + 2], images[2 * i : 2 * i + 2])
        for i, name in enumerate([*cifar10.TRAIN, *cifar10.TEST])
    }
    _tar(cache / "cifar-10-binary.tar.gz", members)
    pin(cifar10, cache / "cifar-10-binary.tar.gz")
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3)
    assert x_train.dtype == np.uint8
    assert y_train.shape == (10, 1)
    assert y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, images[:10])
    np.testing.assert_array_equal(y_train, labels[:10])
    np.testing.assert_array_equal(x_test, images[10:])
    np.testing.assert_array_equal(y_test, labels[10:])
    # Channels last: pixel (row 0, column 1) of image 0 is bytes 1, 1025, 2049.
    record = members[cifar10.TRAIN[0]]
    assert list(x_train[0, 0, 1]) == [record[2], record[1 + 1025], record[1 + 2049]]


@pytest.mark.parametrize(("label_mode", "column"), [("fine", 1), ("coarse", 0)])
def test_cifar100_label_modes(cache, pin, label_mode, column):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    labels = np.stack([rng.integers(0, 20, 5), rng.integers(0, 100, 5)], axis=1)
    members = {
        "cifar-100-binary/train.bin": _records(labels[:3], images[:3]),
        "cifar-100-binary/test.bin": _records(labels[3:], images[3:]),
    }
    _tar(cache / "cifar-100-binary.tar.gz", members)
    pin(cifar100, cache / "cifar-100-binary.tar.gz")
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    np.testing.assert_array_equal(x_train, images[:3])
    np.testing.assert_array_equal(x_test, images[3:])
    np.testing.assert_array_equal(y_train[:, 0], labels[:3, column])
    np.testing.assert_array_equal(y_test[:, 0], labels[3:, column])
    assert y_train.shape == (3, 1)
    assert y_train.dtype == np.int64


def test_cifar100_rejects_an_unknown_label_mode(cache):
    with pytest.raises(
        ValueError, match="expected label_mode 'fine' or 'coarse', got 'x'"
    ):
        cifar100.load_data(label_mode="x")


def test_cifar_rejects_truncated_records(cache, pin):
    _tar(cache / "cifar-100-binary.tar.gz", {
        "cifar-100-binary/train.bin": b"\0" * 100,
        "cifar-100-binary/test.bin": b"",
    })  # fmt: skip
    pin(cifar100, cache / "cifar-100-binary.tar.gz")
    with pytest.raises(
        ValueError, match=r"expected records of 3074 bytes .* got 100 bytes"
    ):
        cifar100.load_data()
