"""NumPy-style math of `plait.ops`: element-wise functions and reductions."""

# Keras's op names (abs, sum, max, round, ...) shadow builtins on purpose.
# ruff: noqa: A001

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from plait.layers.ops import symbolic_op
from plait.ops._tensor import as_dtype, axes, common, convert, named_op, to_float

__all__ = [
    "abs",
    "absolute",
    "add",
    "all",
    "allclose",
    "amax",
    "amin",
    "angle",
    "any",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "argmax",
    "argmin",
    "average",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "cbrt",
    "ceil",
    "conj",
    "conjugate",
    "cos",
    "cosh",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "deg2rad",
    "divide",
    "divide_no_nan",
    "equal",
    "exp",
    "exp2",
    "expm1",
    "fabs",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "gcd",
    "greater",
    "greater_equal",
    "heaviside",
    "hypot",
    "i0",
    "imag",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "isreal",
    "lcm",
    "ldexp",
    "left_shift",
    "less",
    "less_equal",
    "log",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "logaddexp2",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "max",
    "maximum",
    "mean",

    "min",
    "minimum",
    "mod",
    "multiply",
    "nan_to_num",
    "nanargmax",
    "nanargmin",
    "nancumprod",
    "nancumsum",
    "nanmax",
    "nanmean",

    "nanmin",

    "nanprod",

    "nanstd",
    "nansum",
    "nanvar",
    "negative",
    "nextafter",
    "not_equal",

    "power",
    "prod",
    "ptp",

    "rad2deg",
    "real",
    "reciprocal",
    "right_shift",
    "round",
    "sign",
    "signbit",
    "sin",
    "sinc",
    "sinh",
    "sqrt",
    "square",
    "std",
    "subtract",
    "sum",
    "tan",
    "tanh",
    "true_divide",
    "trunc",
    "var",
]  # fmt: skip


def _unary(
    name: str, torch_fn: Callable[[torch.Tensor], torch.Tensor], floating: bool = False
) -> Callable[..., torch.Tensor]:
    def op(x: Any) -> torch.Tensor:
        t = convert(x)
        return torch_fn(to_float(t) if floating else t)

    return named_op(op, name, f"Element-wise `{name}` of `x`, as NumPy's.")


def _binary(
    name: str, torch_fn: Callable[[Any, Any], torch.Tensor], floating: bool = False
) -> Callable[..., torch.Tensor]:
    def op(x1: Any, x2: Any) -> torch.Tensor:
        a, b = common(x1, x2)
        if floating:
            a, b = to_float(a), to_float(b)
        return torch_fn(a, b)

    return named_op(op, name, f"Element-wise `{name}` of `x1` and `x2`, broadcast.")


def _bool_as_is(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[..., Any]:
    # Keras compat: abs and trunc of bools are the bools (torch has no bool kernel).
    def apply(t: torch.Tensor) -> torch.Tensor:
        return t.clone() if t.dtype == torch.bool else fn(t)

    return apply


def _square(t: torch.Tensor) -> torch.Tensor:
    # Keras compat: ints keep their dtype (torch gives int64), bools give int32.
    t = t.to(torch.int32) if t.dtype == torch.bool else t
    return torch.square(t).to(t.dtype)


def _cbrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


abs = _unary("abs", _bool_as_is(torch.abs))
absolute = _unary("absolute", _bool_as_is(torch.abs))
fabs = _unary("fabs", torch.abs, floating=True)
negative = _unary("negative", torch.neg)
sign = _unary("sign", torch.sign)
square = _unary("square", _square)
sqrt = _unary("sqrt", torch.sqrt, floating=True)
cbrt = _unary("cbrt", _cbrt, floating=True)
reciprocal = _unary("reciprocal", torch.reciprocal, floating=True)
exp = _unary("exp", torch.exp, floating=True)
exp2 = _unary("exp2", torch.exp2, floating=True)
expm1 = _unary("expm1", torch.expm1, floating=True)
log = _unary("log", torch.log, floating=True)
log10 = _unary("log10", torch.log10, floating=True)
log1p = _unary("log1p", torch.log1p, floating=True)
log2 = _unary("log2", torch.log2, floating=True)
sin = _unary("sin", torch.sin, floating=True)
cos = _unary("cos", torch.cos, floating=True)
tan = _unary("tan", torch.tan, floating=True)
arcsin = _unary("arcsin", torch.asin, floating=True)
arccos = _unary("arccos", torch.acos, floating=True)
arctan = _unary("arctan", torch.atan, floating=True)
sinh = _unary("sinh", torch.sinh, floating=True)
cosh = _unary("cosh", torch.cosh, floating=True)
tanh = _unary("tanh", torch.tanh, floating=True)
arcsinh = _unary("arcsinh", torch.asinh, floating=True)
arccosh = _unary("arccosh", torch.acosh, floating=True)
arctanh = _unary("arctanh", torch.atanh, floating=True)
ceil = _unary("ceil", torch.ceil, floating=True)
floor = _unary("floor", torch.floor, floating=True)
trunc = _unary("trunc", _bool_as_is(torch.trunc))
deg2rad = _unary("deg2rad", torch.deg2rad, floating=True)
rad2deg = _unary("rad2deg", torch.rad2deg, floating=True)
sinc = _unary("sinc", torch.sinc, floating=True)
i0 = _unary("i0", torch.special.i0, floating=True)
angle = _unary("angle", torch.angle, floating=True)
conj = _unary("conj", torch.conj_physical)
conjugate = _unary("conjugate", torch.conj_physical)
real = _unary("real", lambda t: torch.real(t) if t.is_complex() else t)
imag = _unary(
    "imag", lambda t: torch.imag(t) if t.is_complex() else torch.zeros_like(t)
)
isreal = _unary("isreal", torch.isreal)
isnan = _unary("isnan", torch.isnan)
isinf = _unary("isinf", torch.isinf)
isfinite = _unary("isfinite", torch.isfinite)
isneginf = _unary("isneginf", torch.isneginf)
isposinf = _unary("isposinf", torch.isposinf)
signbit = _unary("signbit", torch.signbit)
logical_not = _unary("logical_not", torch.logical_not)
bitwise_invert = _unary("bitwise_invert", torch.bitwise_not)
bitwise_not = _unary("bitwise_not", torch.bitwise_not)

add = _binary("add", torch.add)
subtract = _binary("subtract", torch.subtract)
multiply = _binary("multiply", torch.multiply)
divide = _binary("divide", torch.true_divide, floating=True)
true_divide = _binary("true_divide", torch.true_divide, floating=True)
power = _binary("power", torch.pow)
maximum = _binary("maximum", torch.maximum)
minimum = _binary("minimum", torch.minimum)
fmax = _binary("fmax", torch.fmax)
fmin = _binary("fmin", torch.fmin)
mod = _binary("mod", torch.remainder)
fmod = _binary("fmod", torch.fmod)
floor_divide = _binary("floor_divide", torch.floor_divide)
arctan2 = _binary("arctan2", torch.atan2, floating=True)
hypot = _binary("hypot", torch.hypot, floating=True)
logaddexp = _binary("logaddexp", torch.logaddexp, floating=True)
logaddexp2 = _binary("logaddexp2", torch.logaddexp2, floating=True)
nextafter = _binary("nextafter", torch.nextafter, floating=True)
heaviside = _binary(
    "heaviside",
    # Keras compat: ints give floatx, bools stay bool.
    lambda a, b: (
        torch.heaviside(*(to_float(t) for t in (a, b)))
        if a.dtype != torch.bool
        else torch.heaviside(a, b)
    ),
)
equal = _binary("equal", torch.eq)
not_equal = _binary("not_equal", torch.ne)
greater = _binary("greater", torch.gt)
greater_equal = _binary("greater_equal", torch.ge)
less = _binary("less", torch.lt)
less_equal = _binary("less_equal", torch.le)
logical_and = _binary("logical_and", torch.logical_and)
logical_or = _binary("logical_or", torch.logical_or)
logical_xor = _binary("logical_xor", torch.logical_xor)
gcd = _binary("gcd", torch.gcd)
lcm = _binary("lcm", torch.lcm)


def _shift(name: str, torch_fn: Callable[..., torch.Tensor]) -> Callable[..., Any]:
    def op(x: Any, y: Any) -> torch.Tensor:
        a, b = common(x, y)
        return torch_fn(a, b)

    return named_op(op, name, f"Bit-wise `{name}` of the ints `x` and `y`.")


bitwise_left_shift = _shift("bitwise_left_shift", torch.bitwise_left_shift)
left_shift = _shift("left_shift", torch.bitwise_left_shift)
bitwise_right_shift = _shift("bitwise_right_shift", torch.bitwise_right_shift)
right_shift = _shift("right_shift", torch.bitwise_right_shift)
bitwise_and = _shift("bitwise_and", torch.bitwise_and)
bitwise_or = _shift("bitwise_or", torch.bitwise_or)
bitwise_xor = _shift("bitwise_xor", torch.bitwise_xor)


@symbolic_op("ldexp")
def ldexp(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 * 2 ** x2`, element-wise."""
    a = to_float(convert(x1))
    return a * torch.pow(2.0, convert(x2).to(a.dtype))


@symbolic_op("divide_no_nan")
def divide_no_nan(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 / x2`, with 0 where `x2` is 0."""
    a, b = (to_float(t) for t in common(x1, x2))
    return torch.where(b == 0, torch.zeros_like(a * b), a / torch.where(b == 0, 1, b))


@symbolic_op("round")
def round(x: Any, decimals: int = 0) -> torch.Tensor:
    """Round half to even to `decimals` places."""
    t = convert(x)
    if not t.is_floating_point():
        return t
    return torch.round(t, decimals=decimals)


@symbolic_op("nan_to_num")
def nan_to_num(
    x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> torch.Tensor:
    """NaN -> `nan`, +inf -> `posinf`, -inf -> `neginf` (dtype limits by default)."""
    return torch.nan_to_num(convert(x), nan=nan, posinf=posinf, neginf=neginf)


@symbolic_op("isclose")
def isclose(
    x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> torch.Tensor:
    """Element-wise `|x1 - x2| <= atol + rtol * |x2|`."""
    a, b = common(x1, x2)
    return torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


@symbolic_op("allclose")
def allclose(
    x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> torch.Tensor:
    """Whether `isclose` holds everywhere (a bool tensor)."""
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


# ------------------------------------------------------------------ reductions
def _reduce(
    torch_fn: Callable[..., torch.Tensor], t: torch.Tensor, axis: Any, keepdims: bool
) -> torch.Tensor:
    dims = axes(axis)
    if dims is None:
        out = torch_fn(t.reshape(-1), dim=0, keepdim=False)
        return out.reshape([1] * t.ndim) if keepdims else out
    return torch_fn(t, dim=dims, keepdim=keepdims)


def _sum_dtype(t: torch.Tensor) -> torch.dtype:
    # Keras compat: sums of bool and small ints are int32 (torch gives int64).
    if t.dtype in (torch.bool, torch.int8, torch.int16, torch.uint8, torch.int32):
        return torch.int32
    return t.dtype


@symbolic_op("sum")
def sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Sum over `axis` (all axes when None)."""
    t = convert(x)
    return _reduce(torch.sum, t, axis, keepdims).to(_sum_dtype(t))


@symbolic_op("prod")
def prod(
    x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None
) -> torch.Tensor:
    """Product over `axis`."""
    t = convert(x)
    out_dtype = as_dtype(dtype) or _sum_dtype(t)
    dims = axes(axis)
    if dims is None:
        out = torch.prod(t.reshape(-1).to(out_dtype))
        out = out.reshape([1] * t.ndim) if keepdims else out
    else:
        out = t.to(out_dtype)
        for d in sorted((d % t.ndim for d in dims), reverse=True):
            out = torch.prod(out, dim=d, keepdim=keepdims)
    return out.to(out_dtype)  # torch's products of ints are int64


@symbolic_op("mean")
def mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Arithmetic mean over `axis`; ints give floatx."""
    return _reduce(torch.mean, to_float(convert(x)), axis, keepdims)


def _extreme(
    name: str, torch_fn: Callable[..., torch.Tensor], pick: Callable[..., torch.Tensor]
) -> Callable[..., Any]:
    def op(
        x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None
    ) -> torch.Tensor:
        out = _reduce(torch_fn, convert(x), axis, keepdims)
        return (
            out
            if initial is None
            else pick(out, torch.tensor(initial, dtype=out.dtype))
        )

    return named_op(
        op, name, f"The {name}imum over `axis`, at least `initial` if given."
    )


max = _extreme("max", torch.amax, torch.maximum)
min = _extreme("min", torch.amin, torch.minimum)


def _simple_reduce(
    name: str,
    torch_fn: Callable[..., torch.Tensor],
    floating: bool = False,
    doc: str = "",
) -> Callable[..., Any]:
    def op(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        t = convert(x)
        return _reduce(torch_fn, to_float(t) if floating else t, axis, keepdims)

    return named_op(op, name, doc or f"`{name}` over `axis` (all axes when None).")


def _var(t: torch.Tensor, dim: Any, keepdim: bool) -> torch.Tensor:
    return torch.var(t, dim=dim, keepdim=keepdim, correction=0)


def _std(t: torch.Tensor, dim: Any, keepdim: bool) -> torch.Tensor:
    return torch.std(t, dim=dim, keepdim=keepdim, correction=0)


def _ptp(t: torch.Tensor, dim: Any, keepdim: bool) -> torch.Tensor:
    return torch.amax(t, dim=dim, keepdim=keepdim) - torch.amin(
        t, dim=dim, keepdim=keepdim
    )


def _nan(
    fn: Callable[..., torch.Tensor], fill: Callable[[torch.Tensor], float]
) -> Callable[..., torch.Tensor]:
    def reduce_ignoring_nan(t: torch.Tensor, dim: Any, keepdim: bool) -> torch.Tensor:
        if t.is_floating_point():
            t = torch.where(torch.isnan(t), fill(t), t)
        return fn(t, dim=dim, keepdim=keepdim)

    return reduce_ignoring_nan


def _nanvar(t: torch.Tensor, dim: Any, keepdim: bool) -> torch.Tensor:
    mu = torch.nanmean(t, dim=dim, keepdim=True)
    return torch.nanmean((t - mu) ** 2, dim=dim, keepdim=keepdim)


amax = _simple_reduce("amax", torch.amax)
amin = _simple_reduce("amin", torch.amin)
all = _simple_reduce(
    "all", lambda t, dim, keepdim: torch.all(t.bool(), dim=dim, keepdim=keepdim)
)
any = _simple_reduce(
    "any", lambda t, dim, keepdim: torch.any(t.bool(), dim=dim, keepdim=keepdim)
)
var = _simple_reduce("var", _var, floating=True, doc="Population variance over `axis`.")
std = _simple_reduce(
    "std", _std, floating=True, doc="Population standard deviation over `axis`."
)
ptp = _simple_reduce("ptp", _ptp, doc="`max - min` over `axis`.")
nansum = _simple_reduce(
    "nansum", _nan(lambda t, dim, keepdim: sum(t, dim, keepdim), lambda t: 0.0)
)
nanmean = _simple_reduce("nanmean", torch.nanmean, floating=True)
nanmax = _simple_reduce("nanmax", _nan(torch.amax, lambda t: -math.inf))
nanmin = _simple_reduce("nanmin", _nan(torch.amin, lambda t: math.inf))
nanprod = _simple_reduce(
    "nanprod", _nan(lambda t, dim, keepdim: prod(t, dim, keepdim), lambda t: 1.0)
)
nanvar = _simple_reduce("nanvar", _nanvar, floating=True)
nanstd = _simple_reduce(
    "nanstd",
    lambda t, dim, keepdim: torch.sqrt(_nanvar(t, dim, keepdim)),
    floating=True,
)


def _arg(
    name: str, torch_fn: Callable[..., torch.Tensor], fill: float | None
) -> Callable[..., Any]:
    def op(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        t = convert(x)
        if fill is not None and t.is_floating_point():
            t = torch.where(torch.isnan(t), fill, t)
        t = t.to(torch.uint8) if t.dtype == torch.bool else t
        if axis is None:
            out = torch_fn(t.reshape(-1))
            out = out.reshape([1] * t.ndim) if keepdims else out
        else:
            out = torch_fn(t, dim=int(axis), keepdim=keepdims)
        return out.to(torch.int32)  # Keras compat: int32 indices

    return named_op(
        op, name, f"Indices of the {name[-3:]}imum along `axis` (flat when None)."
    )


argmax = _arg("argmax", torch.argmax, None)
argmin = _arg("argmin", torch.argmin, None)
nanargmax = _arg("nanargmax", torch.argmax, -math.inf)
nanargmin = _arg("nanargmin", torch.argmin, math.inf)


@symbolic_op("count_nonzero")
def count_nonzero(x: Any, axis: Any = None) -> torch.Tensor:
    """How many entries along `axis` are not zero (int32)."""
    t = convert(x)
    return torch.count_nonzero(t, dim=axes(axis)).to(torch.int32)


@symbolic_op("average")
def average(x: Any, axis: Any = None, weights: Any = None) -> torch.Tensor:
    """Weighted mean over `axis`; `weights` is 1-D along `axis` or shaped like `x`."""
    t = to_float(convert(x))
    if weights is None:
        return mean(t, axis=axis)
    w = convert(weights).to(t.dtype)
    if axis is not None and w.ndim == 1 and t.ndim > 1:
        shape = [1] * t.ndim
        shape[int(axis)] = -1
        w = w.reshape(shape)
    return sum(t * w, axis=axis) / sum(w * torch.ones_like(t), axis=axis)


def _cumulative(
    name: str, torch_fn: Callable[..., torch.Tensor], nan_fill: float | None
) -> Callable[..., Any]:
    def op(x: Any, axis: Any = None, dtype: Any = None) -> torch.Tensor:
        t = convert(x)
        if nan_fill is not None and t.is_floating_point():
            t = torch.where(torch.isnan(t), nan_fill, t)
        out_dtype = as_dtype(dtype) or _sum_dtype(t)
        if axis is None:
            t, axis = t.reshape(-1), 0
        return torch_fn(t.to(out_dtype), dim=int(axis)).to(out_dtype)

    return named_op(
        op, name, f"Cumulative `{name}` along `axis` (flattened when None)."
    )


cumsum = _cumulative("cumsum", torch.cumsum, None)
cumprod = _cumulative("cumprod", torch.cumprod, None)
nancumsum = _cumulative("nancumsum", torch.cumsum, 0.0)
nancumprod = _cumulative("nancumprod", torch.cumprod, 1.0)
