"""Read `.npz` files without unpickling.

plait never unpickles (a pickle runs code). Keras's `imdb.npz` and `reuters.npz`
hold object arrays of lists of word indices, which NumPy stores as a pickle:
`np.load(..., allow_pickle=False)` refuses them. `load_npz` reads plain arrays
with `allow_pickle=False`, and reads object arrays with `_PickledLists`, a
small reader of the pickle byte format that understands only what such an array
is made of (the pickle opcodes of tuples, lists, ints, strings and the memo, and
the three NumPy names an ndarray of objects is rebuilt from). It calls nothing:
any other opcode or name is an error, so a hostile file can do no more than fail
to load.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_npz"]

_RECONSTRUCT = "ndarray._reconstruct"
_NDARRAY = "ndarray"
_DTYPE = "dtype"
_ENCODE = "_codecs.encode"  # how protocols 0 and 1 spell bytes
_GLOBALS = {
    ("_codecs", "encode"): _ENCODE,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DTYPE,
}
_MARK = object()


class _Array:
    """An object array being rebuilt: `BUILD` gives it its shape and items."""

    def __init__(self) -> None:
        self.shape: tuple[int, ...] = (0,)
        self.items: list[Any] = []


class _DType:
    def __init__(self, args: tuple[Any, ...]) -> None:
        if not args or args[0] not in ("O8", "O4", b"O8", b"O4"):
            raise ValueError(f"load_npz: expected an object dtype, got {args!r}.")


class _PickledLists:
    """The pickle stream of one NumPy object array, read without running it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("load_npz: expected more pickle data, got the end.")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def _line(self) -> bytes:
        end = self.data.index(b"\n", self.pos)
        line = self.data[self.pos : end]
        self.pos = end + 1
        return line

    def _unsigned(self, n: int) -> int:
        return int.from_bytes(self._take(n), "little")

    def _pop_mark(self) -> list[Any]:
        at = len(self.stack) - 1 - self.stack[::-1].index(_MARK)
        items = self.stack[at + 1 :]
        del self.stack[at:]
        return items

    def _global(self, module: str, name: str) -> None:
        found = _GLOBALS.get((module, name))
        if found is None:
            raise ValueError(
                f"load_npz: expected a NumPy array, got a {module}.{name}."
            )
        self.stack.append(found)

    def _reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack.pop()
        if func == _RECONSTRUCT:
            self.stack.append(_Array())
        elif func == _ENCODE and len(args) == 2 and isinstance(args[0], str):
            self.stack.append(args[0].encode(args[1]))
        elif func == _DTYPE:
            self.stack.append(_DType(tuple(args)))
        else:
            raise ValueError(
                f"load_npz: expected a NumPy array, got a call of {func!r}."
            )

    def _build(self) -> None:
        state = self.stack.pop()
        target = self.stack[-1]
        if isinstance(target, _Array):
            if len(state) != 5 or not isinstance(state[2], _DType):
                raise ValueError("load_npz: expected an object array's state.")
            target.shape = tuple(int(d) for d in state[1])
            target.items = list(state[4])
        elif not isinstance(target, _DType):
            raise ValueError(f"load_npz: expected an array or dtype, got {target!r}.")

    def read(self) -> np.ndarray:
        while True:
            op = self._take(1)[0]
            match op:
                case 0x80:  # PROTO
                    self._take(1)
                case 0x95:  # FRAME
                    self._take(8)
                case 0x2E:  # STOP
                    break
                case 0x28:  # MARK
                    self.stack.append(_MARK)
                case 0x5D:  # EMPTY_LIST
                    self.stack.append([])
                case 0x29:  # EMPTY_TUPLE
                    self.stack.append(())
                case 0x6C:  # LIST
                    self.stack.append(self._pop_mark())
                case 0x74:  # TUPLE
                    self.stack.append(tuple(self._pop_mark()))
                case 0x85 | 0x86 | 0x87:  # TUPLE1, TUPLE2, TUPLE3
                    n = op - 0x84
                    top = tuple(self.stack[-n:])
                    del self.stack[-n:]
                    self.stack.append(top)
                case 0x61:  # APPEND
                    item = self.stack.pop()
                    self.stack[-1].append(item)
                case 0x65:  # APPENDS
                    marked = self._pop_mark()  # before the list under the mark
                    self.stack[-1].extend(marked)
                case 0x4A:  # BININT
                    self.stack.append(struct.unpack("<i", self._take(4))[0])
                case 0x4B:  # BININT1
                    self.stack.append(self._unsigned(1))
                case 0x4D:  # BININT2
                    self.stack.append(self._unsigned(2))
                case 0x8A:  # LONG1
                    n = self._unsigned(1)
                    self.stack.append(
                        int.from_bytes(self._take(n), "little", signed=True)
                    )
                case 0x49 | 0x4C:  # INT, LONG (text)
                    text = self._line().rstrip(b"L")
                    value = {b"00": False, b"01": True}.get(text)
                    self.stack.append(int(text) if value is None else value)
                case 0x4E:  # NONE
                    self.stack.append(None)
                case 0x88 | 0x89:  # NEWTRUE, NEWFALSE
                    self.stack.append(op == 0x88)
                case 0x55 | 0x43:  # SHORT_BINSTRING, SHORT_BINBYTES
                    raw = self._take(self._unsigned(1))
                    self.stack.append(raw.decode("latin-1") if op == 0x55 else raw)
                case 0x54 | 0x42:  # BINSTRING, BINBYTES
                    raw = self._take(self._unsigned(4))
                    self.stack.append(raw.decode("latin-1") if op == 0x54 else raw)
                case 0x8C | 0x58:  # SHORT_BINUNICODE, BINUNICODE
                    n = self._unsigned(1 if op == 0x8C else 4)
                    self.stack.append(self._take(n).decode("utf-8"))
                case 0x56:  # UNICODE (text)
                    self.stack.append(self._line().decode("raw_unicode_escape"))
                case 0x63:  # GLOBAL
                    module = self._line().decode("ascii")
                    self._global(module, self._line().decode("ascii"))
                case 0x93:  # STACK_GLOBAL
                    name = self.stack.pop()
                    self._global(self.stack.pop(), name)
                case 0x52:  # REDUCE
                    self._reduce()
                case 0x62:  # BUILD
                    self._build()
                case 0x71 | 0x72:  # BINPUT, LONG_BINPUT
                    self.memo[self._unsigned(1 if op == 0x71 else 4)] = self.stack[-1]
                case 0x70:  # PUT
                    self.memo[int(self._line())] = self.stack[-1]
                case 0x94:  # MEMOIZE
                    self.memo[len(self.memo)] = self.stack[-1]
                case 0x68 | 0x6A:  # BINGET, LONG_BINGET
                    self.stack.append(self.memo[self._unsigned(1 if op == 0x68 else 4)])
                case 0x67:  # GET
                    self.stack.append(self.memo[int(self._line())])
                case _:
                    raise ValueError(
                        f"load_npz: expected an object array of lists, got pickle "
                        f"opcode {bytes([op])!r} at byte {self.pos - 1}."
                    )
        result = self.stack.pop() if self.stack else None
        if not isinstance(result, _Array):
            raise ValueError(f"load_npz: expected an object array, got {result!r}.")
        return _object_array(result)


def _object_array(array: _Array) -> np.ndarray:
    size = int(np.prod(array.shape))
    if len(array.items) != size:
        raise ValueError(
            f"load_npz: expected {size} items for shape {array.shape}, "
            f"got {len(array.items)}."
        )
    for item in array.items:
        if not isinstance(item, list) or not all(type(w) is int for w in item):
            raise ValueError(
                f"load_npz: expected lists of ints, got {type(item).__name__}."
            )
    out = np.empty(size, dtype=object)
    for i, item in enumerate(array.items):
        out[i] = item
    return out.reshape(array.shape)  # items are in C order, whatever the array's order


def _read_member(data: bytes) -> np.ndarray:
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        header = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        header = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"load_npz: expected .npy format 1.0 or 2.0, got {version}.")
    if header[2] != np.dtype(object):
        f.seek(0)
        return np.lib.format.read_array(f, allow_pickle=False)
    return _PickledLists(data[f.tell() :]).read()


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the `.npz` file at `path`, by name; object arrays of lists too."""
    with zipfile.ZipFile(path) as z:
        return {
            name.removesuffix(".npy"): _read_member(z.read(name))
            for name in z.namelist()
            if name.endswith(".npy")
        }
