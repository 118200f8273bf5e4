"""Dtype policies: the dtype a layer computes in and the dtype of its variables.

Keras's mixed-precision names on torch dtypes. A policy is plain data (a
name); layers read it at construction. `set_global_policy` sets the policy of
the layers created afterwards, as in Keras.
"""

from __future__ import annotations

from typing import Any

import torch

from plait.utils.shapes import dtype_name, standardize_dtype

__all__ = [
    "POLICY_NAMES",
    "DTypePolicy",
    "Policy",
    "deserialize",
    "get",
    "global_policy",
    "serialize",
    "set_global_policy",
]

# name -> (compute dtype, variable dtype)
_POLICIES: dict[str, tuple[torch.dtype, torch.dtype]] = {
    "float32": (torch.float32, torch.float32),
    "mixed_float16": (torch.float16, torch.float32),
    "mixed_bfloat16": (torch.bfloat16, torch.float32),
    "float16": (torch.float16, torch.float16),
    "bfloat16": (torch.bfloat16, torch.bfloat16),
}
POLICY_NAMES = tuple(_POLICIES)
# Keras class names a saved policy may carry (Keras 3, 3.0-3.3, tf.keras).
_CLASS_NAMES = ("DTypePolicy", "FloatDTypePolicy", "Policy")


class DTypePolicy:
    """A dtype policy: the dtype a layer computes in and the dtype of its weights.

    Args:
        name: `"float32"`, `"mixed_float16"`, `"mixed_bfloat16"`, `"float16"` or
            `"bfloat16"`; any other dtype name (`"float64"`, `"int32"`) makes a
            plain policy computing and storing in that dtype. None is the global
            policy's name.

    Attributes:
        name: The policy's name.
        compute_dtype: Name of the dtype layers compute in (`"float16"`).
        variable_dtype: Name of the dtype of the weights (`"float32"`).

    Example:
        >>> policy = DTypePolicy("mixed_bfloat16")
        >>> policy.compute_dtype, policy.variable_dtype
        ('bfloat16', 'float32')
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = global_policy().name
        if not isinstance(name, str):
            raise TypeError(
                f"DTypePolicy: expected a policy name such as 'mixed_float16', got "
                f"{type(name).__name__} {name!r}."
            )
        dtypes = _POLICIES.get(name)
        if dtypes is None:
            try:
                dtype = standardize_dtype(name)
            except (TypeError, ValueError):
                raise ValueError(
                    f"DTypePolicy: expected one of {list(POLICY_NAMES)} (or a dtype "
                    f"name such as 'float64'), got {name!r}."
                ) from None
            dtypes = (dtype, dtype)
            name = dtype_name(dtype)
        self._name = name
        self._compute, self._variable = dtypes

    @property
    def name(self) -> str:
        """The policy's name (`"mixed_float16"`)."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """Name of the dtype layers compute in."""
        return dtype_name(self._compute)

    @property
    def variable_dtype(self) -> str:
        """Name of the dtype of the layers' weights."""
        return dtype_name(self._variable)

    @property
    def is_mixed(self) -> bool:
        """Whether computation and weights use different dtypes."""
        return self._compute != self._variable

    def get_config(self) -> dict[str, Any]:
        """`{"name": ...}`."""
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DTypePolicy:
        """The policy of `get_config()`'s output."""
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


Policy = DTypePolicy  # tf.keras's name

_GLOBAL: list[DTypePolicy | None] = [None]


def global_policy() -> DTypePolicy:
    """The policy of layers created without `dtype=`: float32 unless set."""
    policy = _GLOBAL[0]
    if policy is None:
        return DTypePolicy(dtype_name(torch.get_default_dtype()))
    return policy


def set_global_policy(policy: str | DTypePolicy | None) -> None:
    """Set the policy of the layers created from now on.

    Args:
        policy: A policy or its name (`"mixed_float16"`, `"mixed_bfloat16"`,
            ...); None restores the default (float32).

    Raises:
        ValueError: an unknown name, or a policy that does not compute in floats.
    """
    if policy is None:
        _GLOBAL[0] = None
        return
    resolved = get(policy)
    if not resolved._compute.is_floating_point:
        raise ValueError(
            "set_global_policy(): expected a floating-point policy such as "
            f"'mixed_float16', got {resolved.name!r}."
        )
    _GLOBAL[0] = resolved


def get(identifier: Any) -> DTypePolicy:
    """A policy from a policy, a name, a torch/NumPy dtype, a config, or None (global).

    Raises:
        ValueError: an unknown name.
        TypeError: anything else.
    """
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    return DTypePolicy(dtype_name(standardize_dtype(identifier)))


def serialize(policy: DTypePolicy) -> dict[str, Any]:
    """The policy as Keras 3 writes it in a config (JSON data)."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict[str, Any]) -> DTypePolicy:
    """The policy of `serialize()`'s output (or a tf.keras `Policy` config).

    Raises:
        ValueError: another class name or a config without a name.
    """
    name = (config.get("config") or {}).get("name")
    if config.get("class_name") not in _CLASS_NAMES or not isinstance(name, str):
        raise ValueError(
            f"dtype policy: expected {{'class_name': 'DTypePolicy', 'config': "
            f"{{'name': ...}}}}, got {config!r}."
        )
    return DTypePolicy(name)
