"""Strings in a torch world: the `"string"` dtype and `StringTensor`.

torch has no string tensor, so plait carries strings on the host as NumPy object
arrays of Python `str`, wrapped in `StringTensor` where the training loop moves
batches around: it answers the few tensor questions the loop asks (`shape`,
`dim()`, indexing by slices or index tensors, `.to(device)`, which keeps it on
the host). A graph input `Input(shape=(1,), dtype="string")` has the dtype
`STRING`; the preprocessing layers that map strings to ints (`StringLookup`,
`TextVectorization`, `Hashing`, ...) take these arrays and return torch tensors,
from which point the model runs on its device as usual.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import torch

__all__ = [
    "STRING",
    "StringDType",
    "StringTensor",
    "as_string_array",
    "is_string_data",
    "is_string_dtype",
]


class StringDType:
    """The dtype of string data (`dtype="string"`); it stands where a `torch.dtype` would.

    Example:
        >>> STRING, STRING.is_floating_point
        (string, False)
    """

    is_floating_point = False
    is_complex = False
    is_signed = False
    itemsize = 0

    def __repr__(self) -> str:
        return "string"

    def __reduce__(self) -> str:
        return "STRING"  # pickles and copies as the one instance


STRING: torch.dtype = cast(torch.dtype, StringDType())


def is_string_dtype(dtype: Any) -> bool:
    """Whether `dtype` is plait's string dtype."""
    return isinstance(dtype, StringDType)


def is_string_data(x: Any) -> bool:
    """Whether `x` holds strings: a `StringTensor`, or a NumPy array of str or bytes.

    An object array counts when its elements are all `str` or `bytes`.
    """
    if isinstance(x, StringTensor):
        return True
    if isinstance(x, np.ndarray):
        if x.dtype.kind == "O":
            return x.size > 0 and all(isinstance(v, (str, bytes)) for v in x.flat)
        return x.dtype.kind in "US"
    return isinstance(x, (str, bytes))


def _as_str(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def as_string_array(x: Any) -> np.ndarray:
    """`x` (nested lists, arrays, bytes) as a NumPy object array of Python `str`.

    Example:
        >>> as_string_array([b"a", "b"]).tolist()
        ['a', 'b']
    """
    if isinstance(x, StringTensor):
        return x.array
    arr = np.asarray(x, dtype=object)
    if arr.dtype == object and all(type(v) is str for v in arr.flat):
        return arr
    out = np.empty(arr.shape, dtype=object)
    out.flat[:] = [_as_str(v) for v in arr.flat]
    return out


class StringTensor:
    """A batch of strings that the training loop handles like a (host) tensor.

    Args:
        data: Strings: a NumPy array, nested lists, or another `StringTensor`.

    Example:
        >>> t = StringTensor([["a"], ["b"], ["c"]])
        >>> t.shape, t[torch.tensor([2, 0])].array.tolist()
        ((3, 1), [['c'], ['a']])
    """

    dtype = STRING
    device = torch.device("cpu")

    def __init__(self, data: Any) -> None:
        self.array = as_string_array(data)

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.array.ndim

    def dim(self) -> int:
        """Number of dimensions (torch's spelling)."""
        return self.array.ndim

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: Any) -> StringTensor:
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        return StringTensor(self.array[index])

    def index_select(self, dim: int, index: torch.Tensor) -> StringTensor:
        """Rows `index` (dim 0 only, as the training loop asks)."""
        if dim != 0:
            raise ValueError(f"StringTensor: expected dim=0, got dim={dim}.")
        return self[index]

    def to(self, *args: Any, **kwargs: Any) -> StringTensor:
        """Strings stay on the host: `.to(device)` returns the tensor itself."""
        return self

    def is_inference(self) -> bool:
        """Host strings carry no autograd state (torch's inference-mode question)."""
        return False

    def numpy(self) -> np.ndarray:
        """The strings as a NumPy object array."""
        return self.array

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.array if dtype is None else self.array.astype(dtype)

    def __repr__(self) -> str:
        return f"StringTensor({self.array.tolist()!r:.60})"
