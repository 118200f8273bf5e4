"""`plait.ops`: Keras 3's `keras.ops` on torch tensors.

Every op takes torch tensors, NumPy arrays, Python numbers (or nested lists)
and returns torch tensors, with Keras's names, argument names, defaults and
dtype rules (Python ints are int32 and floats floatx; int inputs to float
functions give floatx; indices are int32). Called on symbolic tensors in a
functional model, an op adds a graph node (an `OpLayer`) that trains, saves
(the op's name and arguments, as data) and loads.

Every public name of Keras 3.15's `keras.ops` (with `ops.nn`, `ops.image`,
`ops.linalg` and `keras.random`) is provided and checked against Keras's own
results (tests/ops/make_ops_golden.py). `NOT_PROVIDED` would list a name
Keras has and plait does not, with the reason; it is empty, and asking for an
unknown name raises an AttributeError naming it.

Example:
    >>> import plait
    >>> from plait import ops
    >>> ops.sum(ops.square([1.0, 2.0]))
    tensor(5.)
    >>> x = plait.Input(shape=(4,))
    >>> model = plait.Model(x, ops.softmax(ops.relu(x)))
    >>> model.layers[-1].op
    'softmax'
"""

from plait.ops import image as image
from plait.ops import linalg as linalg
from plait.ops import nn as nn
from plait.ops import numpy as numpy
from plait.ops._tensor import missing
from plait.ops.core import *  # noqa: F403
from plait.ops.linalg import *  # noqa: F403
from plait.ops.math import *  # noqa: F403
from plait.ops.nn import *  # noqa: F403
from plait.ops.numpy import *  # noqa: F403
from plait.ops.signal import *  # noqa: F403
from plait.ops.transforms import *  # noqa: F403

# keras.ops names plait does not provide, and why (tests/ops/test_api.py checks
# that every keras.ops name is provided or listed here): none at present.
NOT_PROVIDED: dict[str, str] = {}


__getattr__ = missing("plait.ops", NOT_PROVIDED)
