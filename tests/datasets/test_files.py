import hashlib
import io
import os

import pytest

from plait.datasets import files, mnist


def test_cache_dir_follows_plait_home(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAIT_HOME", str(tmp_path))
    assert files.cache_dir() == tmp_path / "datasets"
    monkeypatch.delenv("PLAIT_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert files.cache_dir() == tmp_path / "home" / ".plait" / "datasets"


def test_missing_file_offline_names_url_and_path(cache):
    with pytest.raises(OSError, match="could not download") as info:
        mnist.load_data()
    message = str(info.value)
    assert files.KERAS_ORIGIN + "mnist.npz" in message
    assert str(cache / "mnist.npz") in message
    assert not (cache / "mnist.npz").exists()


def test_valid_cached_file_is_not_downloaded_again(cache, monkeypatch):
    data = b"payload"
    (cache / "f.bin").write_bytes(data)
    calls = []
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: calls.append(a))
    sha = hashlib.sha256(data).hexdigest()
    assert (
        files.get_file("f.bin", "https://example.invalid/f.bin", sha) == cache / "f.bin"
    )
    assert calls == []


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_is_verified_then_kept(cache, monkeypatch):
    data = b"x" * 3_000_000
    seen = {}

    def urlopen(url, timeout):
        seen.update(url=url, timeout=timeout)
        return _Response(data)

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    sha = hashlib.sha256(data).hexdigest()
    path = files.get_file("sub/f.bin", "https://example.invalid/f.bin", sha)
    assert path.read_bytes() == data
    assert seen == {"url": "https://example.invalid/f.bin", "timeout": files.TIMEOUT_S}
    assert os.listdir(cache / "sub") == ["f.bin"]  # no temporary left behind


def test_download_with_wrong_hash_is_refused_and_not_kept(cache, monkeypatch):
    monkeypatch.setattr(
        "urllib.request.urlopen", lambda url, timeout: _Response(b"bad")
    )
    with pytest.raises(
        ValueError, match=r"has hash .* expected 0{64}; it was not kept"
    ):
        files.get_file("f.bin", "https://example.invalid/f.bin", "0" * 64)
    assert os.listdir(cache) == []


def test_cached_file_with_wrong_hash_is_not_used(cache):
    (cache / "f.bin").write_bytes(b"corrupt")
    digest = hashlib.sha256(b"corrupt").hexdigest()
    with pytest.raises(OSError, match=f"has hash {digest}, expected 1{{64}}") as info:
        files.get_file("f.bin", "https://example.invalid/f.bin", "1" * 64)
    assert "https://example.invalid/f.bin" in str(info.value)


def test_cached_file_with_wrong_hash_is_replaced_by_a_valid_download(
    cache, monkeypatch
):
    (cache / "f.bin").write_bytes(b"corrupt")
    monkeypatch.setattr(
        "urllib.request.urlopen", lambda url, timeout: _Response(b"good")
    )
    sha = hashlib.sha256(b"good").hexdigest()
    assert (
        files.get_file("f.bin", "https://example.invalid/f.bin", sha).read_bytes()
        == b"good"
    )


def test_md5_pins_are_checked_too(cache):
    (cache / "index.json").write_bytes(b"{}")
    md5 = hashlib.md5(b"{}").hexdigest()
    assert files.get_file("index.json", "https://example.invalid/i.json", md5).exists()


def test_bad_hash_spelling_raises(cache):
    with pytest.raises(ValueError, match=r"expected a SHA-256 .* got 'abc'"):
        files.get_file("f.bin", "https://example.invalid/f.bin", "abc")


def test_plait_datasets_is_a_lazy_name():
    import plait

    assert plait.datasets.mnist.load_data is mnist.load_data


def test_unpinned_file_is_downloaded_once_and_kept_unchecked(cache, monkeypatch):
    calls = []

    def urlopen(url, timeout):
        calls.append(url)
        return _Response(b"weights")

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    for _ in range(2):
        path = files.get_file("w.h5", "https://example.invalid/w.h5", None, "models")
        assert path.read_bytes() == b"weights"
    assert path == cache.parent / "models" / "w.h5"
    assert calls == ["https://example.invalid/w.h5"]
