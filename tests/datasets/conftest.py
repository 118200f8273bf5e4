"""A temporary datasets cache with the network off, and hash pinning for test files."""

import hashlib

import pytest


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty datasets cache under a temporary PLAIT_HOME; urlopen raises."""
    monkeypatch.setenv("PLAIT_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise OSError("network is off in tests")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder


@pytest.fixture
def pin(monkeypatch):
    """`pin(module, path, attr="SHA256")`: make `module.attr` the file's SHA-256."""

    def set_hash(target, path, attr="SHA256"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if isinstance(target, dict):
            monkeypatch.setitem(target, attr, digest)
        else:
            monkeypatch.setattr(target, attr, digest)

    return set_hash
