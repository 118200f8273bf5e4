"""The cases of the Keras ops goldens: which op, on which fixed inputs.

Shared by `make_ops_golden.py` (runs them on Keras 3, torch backend) and
`test_ops_golden.py` (runs them on plait). Inputs are described, not stored:
`T("int32", (2, 3))` builds the same tensor in both processes (seeded by its
own description). Tables of op names give the common cases (unary, binary,
reductions, activations); the rest are listed one by one.
"""

# Tables of op names read best as strings split on spaces.
# ruff: noqa: SIM905, E741

from __future__ import annotations

import dataclasses
import zlib
from typing import Any

import numpy as np
import torch

NAMESPACES = ("ops", "ops.nn", "ops.image", "ops.linalg", "random")


@dataclasses.dataclass(frozen=True)
class T:
    """A fixed tensor: dtype, shape and the range of its values."""

    dtype: str
    shape: tuple[int, ...]
    kind: str = "any"  # any | pos | unit | ge1 | nan | prob | small

    def build(self) -> torch.Tensor:
        rng = np.random.default_rng(zlib.crc32(repr(self).encode()))
        size = self.shape
        if self.dtype == "bool":
            return torch.from_numpy(rng.random(size) > 0.5)
        if self.dtype.startswith(("int", "uint")):
            low, high = {"pos": (1, 5), "small": (0, 3), "unit": (0, 1)}.get(
                self.kind, (-3, 5)
            )
            values = rng.integers(low, high, size)
            values = np.sort(values) if self.kind == "sorted" else values
            return torch.from_numpy(values.astype(self.dtype))
        low, high = {
            "pos": (0.1, 3.0),
            "unit": (-0.9, 0.9),
            "ge1": (1.0, 3.0),
            "prob": (0.05, 0.95),
            "small": (0.0, 3.0),
        }.get(self.kind, (-2.0, 2.0))
        values = np.round(rng.uniform(low, high, size), 2)
        if self.kind == "sorted":
            values = np.sort(values)
        if self.kind == "spd":
            values = values @ values.T + 3 * np.eye(len(values))
        if self.kind == "nan":
            values[rng.random(size) < 0.3] = np.nan
        return torch.from_numpy(values.astype(self.dtype))


@dataclasses.dataclass(frozen=True)
class A:
    """A tensor of given values (`A([0, 0, 1], "int32")`)."""

    values: Any
    dtype: str

    def build(self) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.values, dtype=self.dtype))


@dataclasses.dataclass(frozen=True)
class Case:
    key: str
    namespace: str
    op: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    rtol: float
    atol: float
    then: Any = None  # applied to the op's result (to call a returned function)


def build(value: Any) -> Any:
    """The call's arguments with every `T` built into a tensor."""
    if isinstance(value, (T, A)):
        return value.build()
    if isinstance(value, dict):
        return {k: build(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):  # slices, numbers and callables stay
        return type(value)(build(v) for v in value)
    return value


def leaves(result: Any) -> list[tuple[np.ndarray | None, str]]:
    """A result's leaves (nested tuples/lists/dicts flattened) as (values, dtype name)."""
    if isinstance(result, (list, tuple)):
        return [leaf for item in result for leaf in leaves(item)]
    if isinstance(result, dict):
        return [leaf for key in sorted(result) for leaf in leaves(result[key])]
    if isinstance(result, torch.Tensor):
        t = result.detach().cpu()
        dtype = str(t.dtype).replace("torch.", "")
        return [((t.float() if t.dtype == torch.bfloat16 else t).numpy(), dtype)]
    if isinstance(result, (np.ndarray, np.generic)):
        return [(np.asarray(result), f"numpy.{np.asarray(result).dtype}")]
    if isinstance(result, (bool, int, float)):
        return [(np.asarray(result), f"python.{type(result).__name__}")]
    if result is None:
        return [(None, "None")]
    return [(None, f"{type(result).__name__}:{result}")]


CASES: list[Case] = []


def case(
    op: str,
    *args: Any,
    ns: str = "ops",
    _tol: float = 1e-5,
    _then: Any = None,
    **kwargs: Any,
) -> None:
    n = sum(c.namespace == ns and c.op == op for c in CASES)
    key = f"{ns}.{op}.{n}"
    CASES.append(Case(key, ns, op, args, kwargs, _tol, _tol, _then))


def run(module: Any, case: Case) -> Any:
    """The case's op (from `module`, Keras's or plait's namespace) on its inputs."""
    torch.manual_seed(0)
    result = getattr(module, case.op)(*build(case.args), **build(case.kwargs))
    return result if case.then is None else case.then(result)


def value_and_grad(*inputs: T) -> Any:
    """A `then`: the function's value on `inputs` and the gradients of its sum."""

    def probe(fn: Any) -> Any:
        xs = [x.build().requires_grad_() for x in inputs]
        y = fn(*xs)
        grads = torch.autograd.grad(y.sum(), xs)
        return y.detach(), grads

    return probe


def called(*args: Any) -> Any:
    """A `then`: the returned function called on `args` (built)."""
    return lambda fn: fn(*build(args))


# The cases: one call per line reads as a table.
# fmt: off
F = T("float32", (2, 3))
F2 = T("float32", (2, 3), "small")
I = T("int32", (2, 3))
I2 = T("int32", (2, 3), "small")
B = T("bool", (2, 3))
B2 = T("bool", (2, 3), "pos")
ROW = T("float32", (3,))
IROW = T("int32", (3,), "pos")
PF = T("float32", (2, 3), "pos")
PI = T("int32", (2, 3), "pos")
NAN = T("float32", (2, 3), "nan")
H = T("float16", (2, 3))
SQ = T("float32", (3, 3))
SQI = T("int32", (3, 3))
IMG = T("float32", (1, 5, 6, 3), "prob")


# ----------------------------------------------------------------- unary math
UNARY = {
    "any": "abs absolute angle arctan arcsinh cbrt ceil conj conjugate copy cos "
    "cosh deg2rad erf erfc exp exp2 expm1 fabs floor i0 imag isfinite isinf isnan "
    "isneginf isposinf isreal logical_not negative rad2deg real round sign signbit "
    "sin sinc sinh square tan tanh trunc ravel ndim size shape dtype nonzero "
    "is_tensor stop_gradient convert_to_tensor convert_to_numpy array",
    "pos": "log log10 log1p log2 sqrt rsqrt reciprocal",
    "unit": "arccos arcsin arctanh erfinv",
    "ge1": "arccosh",
}
for kind, names in UNARY.items():
    for name in names.split():
        for dtype in ("float32", "int32", "bool"):
            case(name, T(dtype, (2, 3), kind))
        if kind == "any":
            case(name, H)
for name in ("bitwise_not", "bitwise_invert"):
    case(name, I)
    case(name, B)
case("round", T("float32", (2, 3)), decimals=1)
for name in ("real", "imag", "conj", "abs", "angle"):
    case(name, A([1 + 2j, 3 - 1j, -0.5j], "complex64"))
case("nan_to_num", NAN)
case("nan_to_num", NAN, nan=-1.0)
case("nan_to_num", I)

# --------------------------------------------------------------- binary math
BINARY = {
    "any": "add subtract multiply maximum minimum fmax fmin arctan2 hypot logaddexp "
    "logaddexp2 equal not_equal greater greater_equal less less_equal logical_and "
    "logical_or logical_xor heaviside nextafter divide_no_nan",
    "pos": "divide true_divide floor_divide mod fmod power",
}
for kind, names in BINARY.items():
    for name in names.split():
        second = T("float32", (2, 3), kind)
        case(name, F, second)
        case(name, I, T("float32", (3,), kind))
        case(name, I, T("int32", (2, 3), kind))
        case(name, I, 2)
        case(name, F, 2)
        case(name, I, 1.5)
        case(name, H, T("float32", (2, 3), kind))
        if kind == "any":
            case(name, B, B2)
for name in "bitwise_and bitwise_or bitwise_xor gcd lcm".split():
    case(name, I, PI)
    case(name, B, B2)
    case(name, I, 3)
for name in "bitwise_left_shift bitwise_right_shift left_shift right_shift".split():
    case(name, I, I2)
    case(name, I, 1)
case("ldexp", F, I2)
case("ldexp", I, I2)
for name in ("isclose", "allclose"):
    case(name, F, F)
    case(name, F, F2, atol=2.0)
    case(name, I, F)
case("divide_no_nan", F, T("float32", (2, 3), "small"))

# -------------------------------------------------------------- products
case("matmul", F, T("float32", (3, 4)))
case("matmul", I, T("int32", (3, 2)))
case("matmul", I, T("float32", (3, 2)))
case("matmul", B, T("bool", (3, 2)))
case("matmul", T("float32", (2, 2, 3)), T("float32", (3, 4)))
case("dot", F, T("float32", (3, 4)))
case("dot", ROW, ROW)
case("dot", I, 2)
case("inner", F, F2)
case("inner", I, IROW)
case("outer", ROW, IROW)
case("outer", IROW, IROW)
case("kron", F, T("float32", (2, 2)))
case("kron", I, T("int32", (2, 2)))
case("vdot", ROW, IROW)
case("vdot", IROW, IROW)
case("cross", T("float32", (2, 3)), T("float32", (2, 3), "pos"))
case("cross", T("int32", (2, 3)), T("int32", (2, 3), "pos"))
case("tensordot", F, T("float32", (3, 2)), axes=1)
case("tensordot", T("float32", (2, 3, 4)), T("float32", (3, 4, 2)))
case("tensordot", I, T("int32", (2, 3)), axes=([0, 1], [0, 1]))
case("einsum", "ij,jk->ik", F, T("float32", (3, 4)))
case("einsum", "ij,ij->i", I, I2)
case("einsum", "ii", SQ)
case("trace", SQ)
case("trace", SQI, offset=1)
case("trace", T("float32", (2, 3, 3)), axis1=1, axis2=2)

# ---------------------------------------------------------------- reductions
REDUCE = (
    "sum mean max min amax amin prod std var all any argmax argmin logsumexp "
    "median ptp nanmax nanmin nanmean nansum nanprod nanstd nanvar nanmedian "
    "nanargmax nanargmin"
)
for name in REDUCE.split():
    case(name, F)
    case(name, F, axis=1)
    case(name, F, axis=0, keepdims=True)
    case(name, I)
    case(name, I, axis=-1)
    case(name, B, axis=0)
    if name.startswith("nan"):
        case(name, NAN, axis=1)
case("max", F, axis=1, initial=0.5)
case("min", I, initial=-1)
case("prod", I, dtype="float32")
case("sum", T("float32", (2, 3, 4)), axis=(0, 2))
case("mean", T("int32", (2, 3, 4)), axis=(1, 2), keepdims=True)
case("count_nonzero", I)
case("count_nonzero", I, axis=1)
case("count_nonzero", B, axis=(0, 1))
case("average", F)
case("average", F, axis=1, weights=ROW)
case("average", I, axis=0, weights=T("float32", (2,), "pos"))
for name in ("cumsum", "cumprod", "nancumsum", "nancumprod"):
    case(name, F)
    case(name, I, axis=1)
    case(name, B, axis=0)
    case(name, I, axis=0, dtype="float32")
case("nancumsum", NAN, axis=1)
for name in ("quantile", "nanquantile"):
    case(name, F, 0.3)
    case(name, F, [0.2, 0.5], axis=1)
    case(name, I, 0.5, axis=0, keepdims=True)
    case(name, F, 0.4, axis=1, method="nearest")
    case(name, F, 0.4, method="lower")
    case(name, F, 0.4, method="higher")
    case(name, F, 0.4, method="midpoint")
case("nanquantile", NAN, 0.5, axis=1)
for name in ("percentile", "nanpercentile"):
    case(name, F, 30)
    case(name, I, [20, 50], axis=1)
case("nanpercentile", NAN, 50.0, axis=1)
case("norm", F)
case("norm", F, axis=1)
case("norm", F, ord=1, axis=0)
case("norm", SQ, ord="fro")
case("norm", SQ, ord="nuc")
case("norm", SQ, ord=2)
case("norm", ROW, ord=np.inf)
case("norm", I, axis=1, keepdims=True)
case("norm", SQ, ord=-1)

# ------------------------------------------------------------ creation
case("arange", 5)
case("arange", 1, 7, 2)
case("arange", 0.5, 3.0, 0.5)
case("arange", 1, 5, dtype="float32")
case("arange", 2.0)
case("linspace", 0, 1, 5)
case("linspace", 0, 10, 4, endpoint=False)
case("linspace", 0, 1, 5, dtype="float64")
case("linspace", 0, 4, 5, retstep=True)
case("linspace", ROW, T("float32", (3,), "pos"), 4)
case("linspace", ROW, T("float32", (3,), "pos"), 4, axis=1)
case("logspace", 0, 2, 3)
case("logspace", 0, 2, 4, base=2, endpoint=False)
case("eye", 3)
case("eye", 2, 4, k=1)
case("eye", 3, dtype="int32")
case("identity", 3)
case("identity", 2, dtype="bool")
case("tri", 3)
case("tri", 2, 4, k=1, dtype="int32")
for name in ("zeros", "ones"):
    case(name, (2, 3))
    case(name, 3, dtype="int32")
    case(name, [2], dtype="bool")
case("full", (2, 3), 1.5)
case("full", (2,), 4)
case("full", (2, 2), 7, dtype="float32")
case("full", (2,), True)
for name in ("zeros_like", "ones_like"):
    case(name, F)
    case(name, I)
    case(name, B)
    case(name, I, dtype="float32")
case("full_like", F, 3)
case("full_like", I, 2.5)
case("full_like", I, 2, dtype="float32")
case("full_like", B, 1)
case("array", [[1, 2], [3, 4]])
case("array", [1.0, 2.0])
case("array", [1, 2], dtype="float32")
case("array", [True, False])
case("convert_to_tensor", [1, 2])
case("convert_to_tensor", 2.0)
case("convert_to_tensor", 1)
case("convert_to_tensor", I, dtype="float32")
case("cast", F, "int32")
case("cast", I, "bool")
case("cast", B, "float32")
case("cast", F, "float16")
case("saturate_cast", T("float32", (2, 3)), "uint8")
case("saturate_cast", T("int32", (2, 3)), "int8")
case("saturate_cast", T("float32", (2, 3), "pos"), "int32")
case("diag", ROW)
case("diag", ROW, k=1)
case("diag", SQ)
case("diag", SQI, k=-1)
case("diagflat", F)
case("diagflat", IROW, k=1)
case("diagonal", SQ)
case("diagonal", T("float32", (2, 3, 3)), offset=1, axis1=1, axis2=2)
case("vander", ROW)
case("vander", IROW, N=4, increasing=True)
case("meshgrid", ROW, T("float32", (2,)))
case("meshgrid", IROW, T("int32", (2,)), indexing="ij")
case("tril", F)
case("tril", I, k=1)
case("triu", F, k=-1)
case("triu", B)

# ------------------------------------------------------------ shapes
case("reshape", F, (3, 2))
case("reshape", I, (-1,))
case("reshape", F, [1, -1, 3])
case("transpose", F)
case("transpose", T("float32", (2, 3, 4)), (1, 0, 2))
case("expand_dims", F, 0)
case("expand_dims", I, -1)
case("expand_dims", F, (0, 2))
case("squeeze", T("float32", (1, 3, 1)))
case("squeeze", T("float32", (1, 3, 1)), axis=0)
case("squeeze", T("int32", (1, 3, 1)), axis=(0, 2))
case("flip", F)
case("flip", I, axis=1)
case("flip", T("float32", (2, 3, 2)), axis=(0, 2))
case("fliplr", F)
case("flipud", I)
case("moveaxis", T("float32", (2, 3, 4)), 0, -1)
case("moveaxis", T("float32", (2, 3, 4)), [0, 1], [2, 0])
case("swapaxes", T("float32", (2, 3, 4)), 0, 2)
case("rot90", F)
case("rot90", T("int32", (2, 3, 4)), k=2, axes=(1, 2))
case("rot90", F, k=-1)
case("roll", F, 1)
case("roll", F, -1, axis=1)
case("roll", I, (1, 2), axis=(0, 1))
case("tile", F, 2)
case("tile", I, (2, 1))
case("tile", ROW, (2, 2))
case("repeat", F, 2)
case("repeat", I, 2, axis=1)
case("repeat", F, [1, 2], axis=0)
case("broadcast_to", ROW, (2, 3))
case("broadcast_to", IROW, [4, 3])
case("concatenate", [F, F2])
case("concatenate", [I, F], axis=1)
case("concatenate", [I, B], axis=0)
case("concatenate", [F, F], axis=None)
case("append", F, F2)
case("append", I, F, axis=0)
case("append", I, I2, axis=1)
case("stack", [F, F2])
case("stack", [I, F], axis=1)
case("stack", [I, I2], axis=-1)
for name in ("hstack", "vstack", "dstack"):
    case(name, [F, F2])
    case(name, [I, F])
    case(name, [ROW, ROW])
case("split", T("float32", (4, 3)), 2)
case("split", F, [1, 2], axis=1)
case("split", T("int32", (4, 2)), [1], axis=0)
case("array_split", T("float32", (5, 2)), 2)
case("array_split", F, [1], axis=1)
case("hsplit", T("float32", (2, 4)), 2)
case("vsplit", T("float32", (4, 2)), [1, 3])
case("dsplit", T("float32", (2, 2, 4)), 2)
case("unstack", F)
case("unstack", I, axis=1)
case("unstack", F, num=2)
case("ravel", T("float32", (2, 3, 2)))
case("pad", F, 1)
case("pad", F, ((0, 1), (2, 0)))
case("pad", I, ((1, 1), (1, 1)), constant_values=7)
case("pad", F, ((1, 1), (2, 2)), mode="reflect")
case("pad", F, ((1, 1), (2, 1)), mode="symmetric")
case("pad", F, ((1, 1), (1, 0)), mode="edge")
case("pad", F, ((1, 1), (1, 0)), mode="wrap")
case("pad", I, ((1, 1), (1, 0)), mode="maximum")
case("pad", F, ((1, 1), (1, 0)), mode="minimum")
case("pad", F, ((1, 1), (1, 0)), mode="mean")
case("pad", F, ((1, 1), (1, 0)), mode="median")
case("pad", F, ((1, 1), (1, 0)), mode="linear_ramp")

# ---------------------------------------------------------- indexing, sorting
IDX = T("int32", (2, 3), "small")
case("take", F, IDX)
case("take", F, IDX, axis=1)
case("take", I, [0, 1], axis=0)
case("take", F, T("int32", (4,), "small"), axis=1)
case("take", F, [-1, 0], axis=1)
case("take_along_axis", F, IDX, axis=1)
case("take_along_axis", F, T("int32", (1, 3), "unit"), axis=0)
case("take_along_axis", I, T("int32", (6,), "small"))
case("where", B)
case("where", B, F, F2)
case("where", B, I, 1.5)
case("where", B, I, I2)
case("where", B, 1, 0)
case("where", B, I, F)
case("select", [B, B2], [F, F2])
case("select", [B, B2], [I, I2], default=-1)
case("select", [B], [I], default=0.5)
case("clip", F, -0.5, 0.5)
case("clip", I, 0, 2)
case("clip", I, 0.5, 2.5)
case("clip", B, 0, 1)
case("sort", F)
case("sort", I, axis=0)
case("sort", B)
case("argsort", F)
case("argsort", I, axis=0)
case("argsort", B)
case("top_k", F, 2)
case("top_k", I, 1)
case("top_k", T("float32", (4,)), 2, sorted=False)
case("searchsorted", T("float32", (4,), "sorted"), ROW)
case("searchsorted", T("int32", (4,), "sorted"), IROW, side="right")
case("digitize", F, [-1.0, 0.0, 1.0])
case("digitize", I, [0, 2])
case("bincount", T("int32", (6,), "pos"))
case("bincount", T("int32", (6,), "pos"), minlength=7)
case("bincount", T("int32", (6,), "pos"), weights=T("float32", (6,)))
case("bincount", T("int32", (6,), "pos"), weights=T("int32", (6,)))
case("isin", I, [0, 2, 4])
case("isin", I, IROW, invert=True)
case("isin", F, F2)
case("get_item", F, 1)
case("get_item", F, (slice(None), 1))
case("get_item", I, (0, slice(0, 2)))
case("slice", F, (0, 1), (2, 2))
case("slice", T("int32", (3, 4)), [1, 0], [2, 3])
case("slice_update", F, (0, 1), T("float32", (1, 2)))
case("slice_update", I, (1, 0), T("int32", (1, 3)))
case("slice_update", I, (0, 0), T("float32", (1, 1)))
case("scatter", [[0, 1], [1, 2]], [1.5, 2.5], (2, 3))
case("scatter", [[0], [0]], T("float32", (2, 3)), (2, 3))
case("scatter", [[1, 1], [1, 1]], [1, 2], (2, 3))
case("scatter_update", F, [[0, 1], [1, 2]], [1.5, 2.5])
case("scatter_update", I, [[1]], T("int32", (1, 3)))
case("scatter_update", F, [[0, 1], [0, 1]], [1.0, 2.0], reduction="add")
case("scatter_update", F, [[0, 1], [1, 1]], [1.0, 2.0], reduction="max")
case("scatter_update", PF, [[0, 1], [1, 1]], [3.0, 2.0], reduction="mul")
case("scatter_update", F, [[0, 1], [1, 1]], [-5.0, 2.0], reduction="min")
case("in_top_k", T("int32", (3,), "small"), T("float32", (3, 4)), 2)
case("in_top_k", [0, 1], T("float32", (2, 3)), 1)
SEG = T("float32", (5, 2))
SEGI = T("int32", (5, 2))
for name in ("segment_sum", "segment_max", "segment_min", "segment_prod"):
    case(name, SEG, A([0, 0, 1, 2, 2], "int32"))
    case(name, SEG, A([0, 2, 0, 1, 1], "int32"), num_segments=4)
    case(name, SEGI, A([0, 0, 1, 1, 1], "int32"), num_segments=2, sorted=True)
case("extract_sequences", T("float32", (2, 8)), 3, 2)
case("extract_sequences", T("int32", (7,)), 4, 3)
case("trapezoid", F)
case("trapezoid", F, dx=0.5, axis=0)
case("trapezoid", F, x=ROW)
case("trapezoid", I)
case("diff", F)
case("diff", I, n=2)
case("diff", F, axis=0)
case("diff", B)

# --------------------------------------------------------- more NumPy-style ops
for name in ("bartlett", "blackman", "hamming", "hanning"):
    case(name, 5)
    case(name, 1)
case("kaiser", 6, 5.0)
case("kaiser", 4, 0.5)
case("geomspace", 1, 1000, 4)
case("geomspace", 2.0, 32.0, 5, endpoint=False)
case("geomspace", -1.0, -16.0, 5)
case("geomspace", 1, 8, 4, dtype="float64")
case("cdist", T("float32", (3, 2)), T("float32", (4, 2)))
case("cdist", T("int32", (2, 3)), T("int32", (3, 3)))
case("corrcoef", T("float32", (3, 5)))
case("corrcoef", T("int32", (2, 4)))
for mode in ("valid", "same", "full"):
    case("correlate", T("float32", (5,)), T("float32", (3,)), mode=mode)
    case("correlate", T("float32", (3,)), T("float32", (5,)), mode=mode)
    case("correlate", T("int32", (4,)), T("int32", (2,)), mode=mode)
case("histogram", T("float32", (10,)))
case("histogram", T("float32", (10,)), bins=4, range=(-1.0, 1.0))
case("histogram", T("int32", (8,)), bins=3)
case("slogdet", SQ)
case("slogdet", T("float32", (2, 3, 3)))
case("argpartition", T("float32", (6,)), 2)
case("argpartition", T("int32", (2, 5)), 1, axis=1)
case("unravel_index", T("int32", (4,), "pos"), (2, 3))
case("unravel_index", 5, (2, 3))
case("view", F, "int32")
case("view", T("int32", (2, 4)), "int16")
case("view", F)
case("view_as_complex", T("float32", (3, 2)))
case("view_as_real", A([1 + 2j, 3 - 1j], "complex64"))
case("unique", T("int32", (8,), "small"))
case("unique", T("float32", (2, 3), "small"))
case("unique", T("int32", (8,), "small"), return_index=True, return_inverse=True, return_counts=True)
case("unique", A([[1, 2], [1, 2], [0, 3]], "int32"), axis=0)
case("unique", T("int32", (6,), "small"), size=5, fill_value=-1)
case("unique", T("int32", (6,), "small"), size=2)

case("rearrange", T("float32", (2, 6, 3)), "b (h w) c -> b h w c", h=2)
case("rearrange", T("float32", (2, 3, 4)), "b h w -> b (w h)")
case("rearrange", T("int32", (2, 3, 4)), "a b c -> c a b")
case("rearrange", T("float32", (4, 6)), "(a b) (c d) -> (b c) (a d)", a=2, c=3)

# --------------------------------------------------------------- fft
REIM = (T("float32", (2, 4)), T("float32", (2, 4), "pos"))
case("fft", REIM)
case("fft2", (T("float32", (2, 3, 4)), T("float32", (2, 3, 4), "pos")))
case("ifft2", (T("float32", (2, 3, 4)), T("float32", (2, 3, 4), "pos")))
case("rfft", T("float32", (2, 8)))
case("rfft", T("float32", (2, 8)), fft_length=6)
case("irfft", (T("float32", (2, 5)), T("float32", (2, 5), "pos")))
case("irfft", (T("float32", (2, 5)), T("float32", (2, 5), "pos")), fft_length=6)

case("stft", T("float32", (2, 16)), 8, 4, 8)
case("stft", T("float32", (16,)), 6, 3, 8, window="hamming")
case("stft", T("float32", (2, 2, 12)), 4, 2, 4, window=None, center=False)
case("stft", T("float64", (10,)), 4, 2, 6, window=A([0.5, 1.0, 1.0, 0.5], "float64"))
SPEC = (T("float32", (2, 5, 5)), T("float32", (2, 5, 5), "pos"))
case("istft", SPEC, 8, 4, 8)
case("istft", SPEC, 8, 4, 8, length=14)
case("istft", SPEC, 6, 3, 8, window="hamming")
case("istft", SPEC, 8, 4, 8, center=False)
ROUND = T("float32", (2, 16))

# ----------------------------------------------------------- control flow
case("cond", True, lambda: 1.0 * 2, lambda: 3)
case("cond", T("bool", (), "pos"), lambda: ROW.build() + 1, lambda: ROW.build() - 1)
case("switch", 1, [lambda x: x + 1, lambda x: x * 2], F)
case("switch", 5, [lambda x: x + 1, lambda x: x * 2], F)
case("fori_loop", 0, 4, lambda i, v: v + i, F)
case("fori_loop", 1, 3, lambda i, v: v * 2, I)
case("while_loop", lambda x: x.sum() < 20, lambda x: (x * 2,), (PF,))
case("while_loop", lambda i, x: i < 3, lambda i, x: (i + 1, x + 1), (0, I))
case("while_loop", lambda x: x.sum() < 100, lambda x: x + 1, PF, maximum_iterations=2)
case("scan", lambda c, x: (c + x, c * x), ROW, F)
case("scan", lambda c, x: (c + x, c), ROW, F, reverse=True)
case("scan", lambda c, x: (c + 1, c), ROW, None, length=3)
case("associative_scan", lambda a, b: a + b, F)
case("associative_scan", lambda a, b: a * b, F, axis=1)
case("associative_scan", lambda a, b: a + b, I, reverse=True)
case("map", lambda x: x * 2, F)
case("map", lambda x: x.sum(), I)
case("vectorized_map", lambda x: x * 2 + 1, F)
case("vectorized_map", lambda x: x.sum(), I)

# ----------------------------------------------------------- transforms


def _log1pexp(x):
    e = torch.exp(x)

    def grad(*args, upstream=None):
        upstream = args[0] if upstream is None else upstream
        return upstream * (1.0 - 1.0 / (1 + e))

    return torch.log(1 + e), grad


def _scaled_product(x, y):
    def grad(upstream):
        return 2 * upstream * y, 3 * upstream * x

    return x * y, grad


case("custom_gradient", _log1pexp, _then=value_and_grad(ROW))
case("custom_gradient", _scaled_product, _then=value_and_grad(F, F2))
case("jvp", lambda x: torch.sin(x) * 2, (ROW,), (T("float32", (3,), "pos"),))
case("jvp", lambda x, y: x * y, (F, F2), (F2, F))
case("jvp", lambda x: (x * x, x + 1), (ROW,), (ROW,), has_aux=True)
case("jvp", lambda x: torch.exp(x).sum(), (F,), (F2,), ns="ops.linalg")
case("vectorize", lambda a, b: a * 2 + b, _then=called(F, ROW))
case("vectorize", lambda a, b: (a * b).sum(), signature="(n),(n)->()", _then=called(F, ROW))
case("vectorize", lambda a, k: a.sum() * k, signature="(n)->()", excluded={1}, _then=called(T("float32", (2, 2, 3)), 3.0))
case("vectorize", lambda v: torch.outer(v, v), signature="(n)->(n,n)", _then=called(F))

# ---------------------------------------------------------------- linalg
SPDF = T("float32", (3, 3), "spd")
for name in ("det", "inv", "logdet", "matrix_rank", "pinv", "lu_factor", "eigh"):
    case(name, SQ, ns="ops.linalg" if name in ("matrix_rank", "pinv") else "ops")
case("det", T("float32", (2, 3, 3)))
case("inv", SQ, ns="ops.linalg")
case("solve", SQ, T("float32", (3, 2)))
case("solve", SQ, T("float32", (3, 2)), ns="ops.linalg")
case("solve_triangular", SQ, T("float32", (3, 2)))
case("solve_triangular", SQ, T("float32", (3, 2)), lower=True)
case("lstsq", T("float32", (4, 3)), T("float32", (4, 2)), _tol=1e-4)
case("lstsq", T("float32", (4, 3)), T("float32", (4,)), _tol=1e-4)
case("qr", T("float32", (4, 3)))
case("qr", T("float32", (4, 3)), mode="complete")
case("svd", T("float32", (4, 3)))
case("svd", T("float32", (4, 3)), full_matrices=False)
case("svd", T("float32", (4, 3)), compute_uv=False)
case("eig", T("float32", (2, 2), "pos"))
case("cholesky", SPDF, ns="ops")
case("cholesky_inverse", SPDF)
case("cholesky", SPDF, upper=True)
case("matrix_rank", T("float32", (3, 4)), tol=0.5)
case("norm", F, ns="ops.linalg")
case("pinv", T("float32", (3, 4)), rcond=0.1)

# -------------------------------------------------------------- nn
ACT = (
    "relu relu6 sigmoid softplus softsign silu swish log_sigmoid leaky_relu "
    "hard_sigmoid hard_silu hard_swish elu selu gelu celu hard_tanh hard_shrink "
    "soft_shrink tanh_shrink sparse_plus sparse_sigmoid squareplus sparsemax "
    "softmax log_softmax glu normalize"
)
for name in ACT.split():
    case(name, T("float32", (2, 4)), ns="ops.nn")
    case(name, T("int32", (2, 4)), ns="ops.nn")
    case(name, T("float16", (2, 4)), ns="ops.nn", _tol=2e-3)
case("gelu", T("float32", (2, 4)), approximate=False, ns="ops.nn")
case("leaky_relu", T("float32", (2, 4)), negative_slope=0.3, ns="ops.nn")
case("elu", T("float32", (2, 4)), alpha=0.5, ns="ops.nn")
case("celu", T("float32", (2, 4)), alpha=2.0, ns="ops.nn")
case("softmax", T("float32", (2, 4)), axis=0, ns="ops.nn")
case("log_softmax", T("float32", (2, 3, 4)), axis=(1, 2), ns="ops.nn")
case("softmax", T("float32", (2, 3, 4)), axis=(0, 2), ns="ops.nn")
case("hard_shrink", T("float32", (2, 4)), threshold=1.0, ns="ops.nn")
case("soft_shrink", T("float32", (2, 4)), threshold=1.0, ns="ops.nn")
case("squareplus", T("float32", (2, 4)), b=2, ns="ops.nn")
case("glu", T("float32", (4, 2)), axis=0, ns="ops.nn")
case("sparsemax", T("float32", (4, 2)), axis=0, ns="ops.nn")
case("normalize", T("float32", (2, 4)), axis=0, order=1, ns="ops.nn")
case("threshold", T("float32", (2, 4)), 0.5, -1.0, ns="ops.nn")
case("threshold", T("int32", (2, 4)), 1, 0, ns="ops.nn")
case("relu6", T("float32", (2, 4)), ns="ops")
case("sigmoid", I, ns="ops")
case("relu", B, ns="ops.nn")
X4 = T("float32", (2, 6, 6, 3))
K3 = T("float32", (3, 3, 3, 4))
case("conv", X4, K3, ns="ops.nn", _tol=1e-4)
case("conv", X4, K3, strides=2, padding="same", ns="ops.nn", _tol=1e-4)
case("conv", X4, K3, dilation_rate=2, ns="ops.nn", _tol=1e-4)
case("conv", T("float32", (2, 3, 6, 6)), K3, data_format="channels_first", ns="ops.nn", _tol=1e-4)
case("conv", T("float32", (2, 7, 3)), T("float32", (3, 3, 2)), padding="causal", ns="ops.nn", _tol=1e-4)
case("conv", T("float32", (1, 4, 4, 4, 2)), T("float32", (2, 2, 2, 2, 3)), ns="ops.nn", _tol=1e-4)
case("depthwise_conv", X4, T("float32", (3, 3, 3, 2)), ns="ops.nn", _tol=1e-4)
case("depthwise_conv", X4, T("float32", (3, 3, 3, 1)), strides=2, padding="same", ns="ops.nn", _tol=1e-4)
case("separable_conv", X4, T("float32", (3, 3, 3, 2)), T("float32", (1, 1, 6, 4)), ns="ops.nn", _tol=1e-4)
case("conv_transpose", X4, T("float32", (3, 3, 2, 3)), 2, ns="ops.nn", _tol=1e-4)
case("conv_transpose", X4, T("float32", (3, 3, 2, 3)), 2, padding="same", ns="ops.nn", _tol=1e-4)
case("conv_transpose", X4, T("float32", (3, 3, 2, 3)), 2, output_padding=1, ns="ops.nn", _tol=1e-4)
case("conv_transpose", T("float32", (2, 5, 3)), T("float32", (3, 2, 3)), 1, padding="same", ns="ops.nn", _tol=1e-4)
case("max_pool", X4, 2, ns="ops.nn")
case("max_pool", X4, 3, strides=2, padding="same", ns="ops.nn")
case("max_pool", T("float32", (2, 7, 3)), 2, ns="ops.nn")
case("average_pool", X4, 2, ns="ops.nn")
case("average_pool", X4, 3, strides=2, padding="same", ns="ops.nn")
case("average_pool", T("float32", (2, 7, 3)), 3, strides=2, padding="same", ns="ops.nn")
case("adaptive_average_pool", X4, (2, 3), ns="ops.nn")
case("adaptive_max_pool", X4, 4, ns="ops.nn")
case("adaptive_average_pool", T("float32", (2, 7, 3)), 3, ns="ops.nn")
case("batch_normalization", F, ROW, T("float32", (3,), "pos"), axis=-1, ns="ops.nn")
case("batch_normalization", F, ROW, T("float32", (3,), "pos"), axis=1, offset=ROW, scale=ROW, epsilon=0.1, ns="ops.nn")
case("layer_normalization", T("float32", (2, 4)), ns="ops.nn")
case("layer_normalization", T("float32", (2, 4)), gamma=T("float32", (4,)), beta=T("float32", (4,), "pos"), epsilon=0.01, ns="ops.nn")
case("rms_normalization", T("float32", (2, 4)), ns="ops.nn")
case("rms_normalization", T("float32", (2, 4)), scale=T("float32", (4,)), epsilon=0.1, ns="ops.nn")
case("moments", F, axes=[0], ns="ops.nn")
case("moments", T("float32", (2, 3, 4)), axes=[0, 2], keepdims=True, ns="ops.nn")
case("moments", I, axes=[1], ns="ops.nn")
case("moments", H, axes=[1], ns="ops.nn", _tol=2e-3)
case("one_hot", T("int32", (4,), "small"), 3, ns="ops.nn")
case("one_hot", T("int32", (2, 2), "small"), 4, axis=0, ns="ops.nn")
case("one_hot", [0, 2, -1], 3, dtype="int32", ns="ops.nn")
case("multi_hot", T("int32", (2, 3), "small"), 4, ns="ops.nn")
case("multi_hot", [0, 2], 3, ns="ops.nn")
PROBS = T("float32", (2, 3), "prob")
TARG = T("float32", (2, 3), "unit")
case("binary_crossentropy", T("float32", (2, 3), "small"), PROBS, ns="ops.nn")
case("binary_crossentropy", T("float32", (2, 3), "prob"), F, from_logits=True, ns="ops.nn")
case("categorical_crossentropy", T("float32", (2, 3), "prob"), PROBS, ns="ops.nn")
case("categorical_crossentropy", T("float32", (2, 3), "prob"), F, from_logits=True, ns="ops.nn")
case("categorical_crossentropy", PROBS, F, from_logits=True, axis=0, ns="ops.nn")
case("sparse_categorical_crossentropy", [0, 2], PROBS, ns="ops.nn")
case("sparse_categorical_crossentropy", [1, 0], F, from_logits=True, ns="ops.nn")
case("dot_product_attention", T("float32", (2, 4, 2, 3)), T("float32", (2, 5, 2, 3)), T("float32", (2, 5, 2, 3)), ns="ops.nn", _tol=1e-4)
case("dot_product_attention", T("float32", (2, 4, 2, 3)), T("float32", (2, 4, 2, 3)), T("float32", (2, 4, 2, 3)), is_causal=True, scale=0.5, ns="ops.nn", _tol=1e-4)
case("dot_product_attention", T("float32", (2, 4, 2, 3)), T("float32", (2, 5, 2, 3)), T("float32", (2, 5, 2, 3)), bias=T("float32", (2, 2, 4, 5)), ns="ops.nn", _tol=1e-4)
case("dot_product_attention", T("float32", (2, 4, 2, 3)), T("float32", (2, 5, 2, 3)), T("float32", (2, 5, 2, 3)), mask=T("bool", (2, 2, 4, 5), "pos"), ns="ops.nn", _tol=1e-4)
case("depth_to_space", T("float32", (1, 2, 2, 8)), 2, ns="ops.nn")
case("depth_to_space", T("float32", (1, 8, 2, 2)), 2, data_format="channels_first", ns="ops.nn")
case("space_to_depth", T("float32", (1, 4, 4, 2)), 2, ns="ops.nn")
case("space_to_depth", T("float32", (1, 2, 4, 4)), 2, data_format="channels_first", ns="ops.nn")
case("unfold", T("float32", (1, 2, 4, 4)), 2, ns="ops.nn")
case("unfold", T("float32", (1, 2, 5, 5)), 3, padding=1, stride=2, ns="ops.nn")
case("fold", T("float32", (1, 8, 4)), (4, 4), 2, stride=2, ns="ops.nn")
case("psnr", PROBS, T("float32", (2, 3), "prob"), 1.0, ns="ops.nn")
case("polar", ROW, IROW, ns="ops.nn")

CTC_LOGITS = T("float32", (2, 5, 4))
case("ctc_loss", A([[1, 2, 2], [3, 1, 0]], "int32"), CTC_LOGITS, A([3, 2], "int32"), A([5, 4], "int32"), ns="ops.nn")
case("ctc_loss", A([[1, 2], [0, 1]], "int32"), CTC_LOGITS, A([2, 2], "int32"), A([5, 5], "int32"), mask_index=3, ns="ops.nn")
case("ctc_loss", A([[1, 2, 2], [3, 1, 0]], "int32"), CTC_LOGITS, A([3, 2], "int32"), A([5, 4], "int32"))
case("ctc_decode", CTC_LOGITS, A([5, 4], "int32"), ns="ops.nn")
case("ctc_decode", CTC_LOGITS, A([5, 3], "int32"), merge_repeated=False, ns="ops.nn")
case("ctc_decode", CTC_LOGITS, A([5, 4], "int32"), mask_index=3, ns="ops.nn")
case("ctc_decode", CTC_LOGITS, A([5, 4], "int32"), strategy="beam_search", ns="ops.nn", _tol=1e-4)
case("ctc_decode", CTC_LOGITS, A([5, 4], "int32"), strategy="beam_search", top_paths=3, ns="ops.nn", _tol=1e-4)
case("ctc_decode", CTC_LOGITS, A([4, 5], "int32"), strategy="beam_search", top_paths=2, mask_index=3, ns="ops.nn", _tol=1e-4)
case("ctc_decode", CTC_LOGITS, A([5, 5], "int32"), strategy="beam_search", beam_width=2, top_paths=2, ns="ops.nn", _tol=1e-4)
case("ctc_decode", CTC_LOGITS, A([5, 4], "int32"), strategy="beam_search")

# -------------------------------------------------------------- image
case("rgb_to_grayscale", IMG, ns="ops.image")
case("rgb_to_grayscale", T("float32", (1, 3, 4, 5), "prob"), data_format="channels_first", ns="ops.image")
case("rgb_to_grayscale", T("int32", (4, 5, 3), "pos"), ns="ops.image")
case("resize", IMG, (3, 4), ns="ops.image")
case("resize", IMG, (10, 12), interpolation="nearest", ns="ops.image")
case("resize", IMG, (7, 9), interpolation="bicubic", ns="ops.image", _tol=1e-4)
case("resize", IMG, (2, 3), antialias=True, ns="ops.image", _tol=1e-4)
case("resize", IMG, (4, 4), interpolation="area", ns="ops.image", _tol=1e-4)
case("resize", T("float32", (5, 6, 3), "prob"), (3, 3), ns="ops.image")
case("crop_images", IMG, 1, 2, target_height=3, target_width=3, ns="ops.image")
case("crop_images", IMG, bottom_cropping=1, right_cropping=2, ns="ops.image")
case("pad_images", IMG, 1, 2, target_height=8, target_width=9, ns="ops.image")
case("pad_images", T("float32", (5, 6, 3)), bottom_padding=1, right_padding=2, ns="ops.image")

HSV = T("float32", (1, 3, 4, 3), "prob")
case("rgb_to_hsv", HSV, ns="ops.image")
case("rgb_to_hsv", A([[[1.0, 0.0, 0.0], [0.2, 0.2, 0.2], [0.0, 0.0, 0.0], [0.1, 0.5, 0.3]]], "float32"), ns="ops.image")
case("rgb_to_hsv", T("float32", (1, 3, 4, 2), "prob"), data_format="channels_first", ns="ops.image")
case("hsv_to_rgb", HSV, ns="ops.image")
case("hsv_to_rgb", T("float32", (4, 3, 3), "prob"), ns="ops.image")
case("gaussian_blur", IMG, ns="ops.image")
case("gaussian_blur", IMG, kernel_size=(5, 5), sigma=(1.0, 2.0), ns="ops.image")
case("gaussian_blur", T("float32", (2, 5, 6), "prob"), data_format="channels_first", ns="ops.image")
case("gaussian_blur", IMG, data_format="channels_last", ns="ops.image")
case("gaussian_blur", IMG, kernel_size=(5, 5), sigma=(1.0, 2.0), data_format="channels_last", ns="ops.image")
case("sobel_edges", IMG, ns="ops.image")
case("sobel_edges", T("float32", (1, 2, 5, 6), "prob"), data_format="channels_first", ns="ops.image")
PATCH = T("float32", (1, 6, 6, 2))
case("extract_patches", PATCH, 2, ns="ops.image")
case("extract_patches", PATCH, (3, 2), strides=(2, 1), ns="ops.image")
case("extract_patches", PATCH, 3, strides=2, padding="same", ns="ops.image")
case("extract_patches", PATCH, 2, strides=1, dilation_rate=2, ns="ops.image")
case("extract_patches", T("float32", (2, 6, 6)), 2, data_format="channels_first", ns="ops.image")
case("extract_patches", T("int32", (6, 6, 2)), 3, ns="ops.image")
GRID = T("float32", (4, 5))
for mode in ("constant", "nearest", "wrap", "mirror", "reflect"):
    case("map_coordinates", GRID, A([[-1.3, 0.4, 2.5, 3.6, 5.2], [0.2, -2.7, 1.5, 4.9, 6.1]], "float32"), 1, fill_mode=mode, ns="ops.image")
case("map_coordinates", GRID, A([[-1.3, 0.4, 2.5, 3.6], [0.2, -2.7, 1.5, 4.4]], "float32"), 0, fill_value=-1.0, ns="ops.image")
case("map_coordinates", T("int32", (4, 5)), A([[0.5, 1.5], [2.5, 3.2]], "float32"), 1, ns="ops.image")
case("map_coordinates", T("float32", (3, 4, 2)), A([[[0.5, 1.2]], [[2.5, 0.1]], [[0, 1]]], "float32"), 1, ns="ops.image")
AFF = A([1.1, 0.2, -0.5, -0.1, 0.9, 0.7, 0.0, 0.0], "float32")
for mode in ("constant", "nearest", "wrap", "mirror", "reflect"):
    case("affine_transform", IMG, AFF, fill_mode=mode, ns="ops.image")
case("affine_transform", IMG, AFF, interpolation="nearest", fill_value=0.5, ns="ops.image")
case("affine_transform", T("float32", (2, 5, 6, 3), "prob"), A([[1, 0, 1.5, 0, 1, -0.5, 0, 0], [0.8, 0, 0, 0, 1.2, 0, 0, 0]], "float32"), ns="ops.image")
case("affine_transform", T("float32", (3, 5, 6), "prob"), AFF, data_format="channels_first", ns="ops.image")
START = A([[0, 0], [5, 0], [0, 4], [5, 4]], "float32")
END = A([[0.5, 0.2], [4.6, 0.0], [0.0, 3.8], [5.0, 4.0]], "float32")
case("perspective_transform", IMG, START, END, ns="ops.image", _tol=1e-4)
case("perspective_transform", IMG, START, END, interpolation="nearest", fill_value=1.0, ns="ops.image", _tol=1e-4)

VOL = T("float32", (1, 4, 5, 6, 2))
case("extract_patches_3d", VOL, 2, ns="ops.image")
case("extract_patches_3d", VOL, (2, 3, 2), strides=(1, 2, 3), ns="ops.image")
case("extract_patches_3d", VOL, 2, strides=1, dilation_rate=2, ns="ops.image")
case("extract_patches_3d", VOL, 3, strides=2, padding="same", ns="ops.image")
case("extract_patches_3d", T("float32", (2, 4, 4, 4)), 2, data_format="channels_first", ns="ops.image")
SSIM_A = T("float32", (2, 12, 13, 3), "prob")
SSIM_B = T("float32", (2, 12, 13, 3), "small")
case("ssim", SSIM_A, SSIM_A, ns="ops.image")
case("ssim", SSIM_A, SSIM_B, max_val=3.0, ns="ops.image")
case("ssim", SSIM_A, SSIM_B, filter_size=5, filter_sigma=1.0, k1=0.02, k2=0.05, ns="ops.image")
case("ssim", T("float32", (3, 12, 12), "prob"), T("float32", (3, 12, 12), "small"), data_format="channels_first", max_val=3.0, ns="ops.image")

# Keras 3.15's torch elastic_transform draws from the global generator whatever
# the seed: the cases leave it None (both draw after torch.manual_seed(0)).
case("elastic_transform", T("float32", (2, 8, 9, 3), "prob"), ns="ops.image", _tol=1e-4)
case("elastic_transform", IMG, alpha=2.0, sigma=1.0, ns="ops.image", _tol=1e-4)
case("elastic_transform", IMG, alpha=3.0, sigma=0.8, fill_mode="constant", fill_value=0.5, interpolation="nearest", ns="ops.image", _tol=1e-4)
case("elastic_transform", T("float32", (3, 8, 9), "prob"), alpha=5.0, sigma=1.5, data_format="channels_first", fill_mode="wrap", ns="ops.image", _tol=1e-4)

for method in ("linear", "cubic", "lanczos3", "lanczos5"):
    case("scale_and_translate", IMG, (1, 8, 4, 3), A([1.6, 0.7], "float32"), A([0.3, -0.4], "float32"), (1, 2), method, ns="ops.image", _tol=1e-4)
case("scale_and_translate", IMG, (1, 3, 9, 3), A([0.6, 1.5], "float32"), A([0.0, 0.5], "float32"), (1, 2), "bilinear", antialias=False, ns="ops.image", _tol=1e-4)
case("scale_and_translate", T("float32", (6, 7)), (3, 7), A([0.5], "float32"), A([0.2], "float32"), (0,), "cubic", ns="ops.image", _tol=1e-4)

# ------------------------------------------------------------- random
# Seeded draws: Keras's torch backend and plait both seed torch's generator.
case("normal", (2, 3), seed=1, ns="random")
case("uniform", (2, 3), minval=-1, maxval=2, seed=2, ns="random")
case("truncated_normal", (2, 3), seed=3, ns="random")
case("randint", (2, 3), 0, 10, seed=4, ns="random")
case("dropout", F, 0.5, seed=5, ns="random")
case("shuffle", T("float32", (5, 2)), seed=6, ns="random")
case("categorical", T("float32", (2, 4)), 3, seed=7, ns="random")
case("gamma", (2, 3), 2.0, seed=8, ns="random")
case("beta", (2, 3), 2.0, 3.0, seed=9, ns="random")
case("binomial", (2, 3), 5, 0.3, seed=10, ns="random")
# fmt: on

# Provided ops the goldens do not check, and why.
EXCLUDED: dict[str, str] = {
    "ops.empty": "its values are uninitialized memory; shape and dtype are in test_ops.py",
    "ops.empty_like": "its values are uninitialized memory; shape and dtype are in test_ops.py",
    "random.SeedGenerator": "a seed stream, not an op; the seeded draws are checked",
}

_TORCH_ONLY = "Keras's torch backend differs from its other backends and NumPy here; "
# Cases whose Keras result plait does not follow on purpose, and why.
DIFFERS: dict[str, str] = {
    **dict.fromkeys(
        [f"ops.size.{i}" for i in range(4)],
        _TORCH_ONLY + "plait returns a Python int, as NumPy and JAX",
    ),
    **dict.fromkeys(
        [f"ops.nonzero.{i}" for i in range(4)] + ["ops.where.0"],
        _TORCH_ONLY + "plait returns one index tensor per axis, as NumPy",
    ),
    **dict.fromkeys(
        [f"ops.top_k.{i}" for i in range(3)],
        _TORCH_ONLY + "plait's indices are int32, as JAX and TensorFlow",
    ),
    "ops.pad.0": "Keras's torch backend pads only the last axis for an int "
    "pad_width; plait pads every axis, as NumPy",
    **dict.fromkeys(
        [f"ops.nn.sparsemax.{i}" for i in range(4)],
        "Keras 3.15's torch sparsemax gives rows that do not sum to 1; plait "
        "follows the definition (checked against NumPy in test_ops.py)",
    ),
    "ops.nn.average_pool.1": "Keras 3.15's torch backend averages 'same'-padded "
    "strided windows unlike TensorFlow and JAX; plait averages the valid entries "
    "of each window, as they do",
    "ops.pad.4": "Keras 3.15's torch 'symmetric' padding repeats the edge "
    "entry; plait mirrors, as NumPy",
    **dict.fromkeys(
        [
            f"random.{name}.0"
            for name in ("truncated_normal", "dropout", "shuffle", "beta")
        ],
        "seeded draws not comparable: plait samples the same distribution "
        "another way (the distributions are checked in tests/test_random.py)",
    ),
    "ops.correlate.4": "Keras 3.15's torch 'same' correlation of a shorter "
    "x1 has x1's length; plait's has the longer length, as NumPy",
    **dict.fromkeys(
        ["ops.argpartition.0", "ops.argpartition.1"],
        "any order within each side of the kth entry is valid; plait's is the "
        "stable sort's (the partition is checked in test_ops.py)",
    ),
    "ops.unique.2": _TORCH_ONLY + "plait's indices and counts are int32, as JAX",
    **dict.fromkeys(
        ["ops.image.gaussian_blur.0", "ops.image.gaussian_blur.1"],
        "Keras 3.15's torch gaussian_blur reads images as channels-first when "
        "data_format is None; plait uses image_data_format (channels_last), as "
        "documented (the explicit channels_last cases match)",
    ),
    "ops.associative_scan.2": "Keras's torch backend turns a reversed scan of "
    "ints into float32; plait keeps int32",
}
