import io
import zipfile

import numpy as np
import pytest

from plait.datasets.npz import load_npz


def _npz_with_object_member(path, payload):
    """An .npz whose member 'x.npy' is an object array with `payload` as its pickle."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": (1,)}
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
