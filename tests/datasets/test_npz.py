import io
import zipfile

import numpy as np
import pytest

from plait.datasets.npz import load_npz


def _npz_with_object_member(path, payload, shape=(1,)):
    """An .npz whose member 'x.npy' is an object array with `payload` as its pickle."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", header.getvalue() + payload)


def test_reads_plain_and_object_arrays(tmp_path):
    x = np.empty(3, dtype=object)
    x[:] = [[1, 2], [], [2**40, -3]]
    grid = np.empty((2, 2), dtype=object, order="F")
    for i, seq in enumerate([[1], [2], [3], [4]]):
        grid[i % 2, i // 2] = seq
    np.savez(tmp_path / "a.npz", x=x, grid=grid, y=np.arange(3, dtype=np.int16))
    got = load_npz(tmp_path / "a.npz")
    assert list(got["x"]) == [[1, 2], [], [2**40, -3]]
    assert got["grid"].tolist() == grid.tolist()
    assert got["y"].dtype == np.int16


def test_refuses_to_call_anything_else(tmp_path):
    # GLOBAL os.system, then REDUCE: what a hostile pickle would run.
    _npz_with_object_member(
        tmp_path / "evil.npz", b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R."
    )
    with pytest.raises(ValueError, match=r"expected a NumPy array, got a os\.system"):
        load_npz(tmp_path / "evil.npz")


def test_refuses_unknown_opcodes(tmp_path):
    _npz_with_object_member(tmp_path / "odd.npz", b"\x80\x02}.")  # EMPTY_DICT
    with pytest.raises(ValueError, match=r"got pickle opcode b'\}' at byte 2"):
        load_npz(tmp_path / "odd.npz")


def test_refuses_objects_other_than_lists_of_ints(tmp_path):
    np.savez(tmp_path / "s.npz", x=np.array(["a", "b"], dtype=object))
    with pytest.raises(ValueError, match="expected lists of ints, got str"):
        load_npz(tmp_path / "s.npz")


def test_reads_python2_protocol2_streams(tmp_path):
    # How Python 2 pickled an object array of lists (Keras's imdb.npz/reuters.npz
    # era): GLOBAL names, SHORT_BINSTRING strings, memo puts, batched APPENDS.
    stream = (
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02"
        b"K\x00\x85U\x01b\x87Rq\x03(K\x01K\x02\x85cnumpy\ndtype\nq\x04U\x02O8K\x00K\x01"
        b"\x87Rq\x05(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb\x89]q\x06"
        b"(]q\x07(K\x01K\x02e]q\x08M\x00\x01aetb."
    )
    _npz_with_object_member(tmp_path / "py2.npz", stream, shape=(2,))
    assert list(load_npz(tmp_path / "py2.npz")["x"]) == [[1, 2], [256]]
