"""`plait.ops.numpy`: the NumPy-style ops (`keras.ops.numpy`), also in `plait.ops`."""

from plait.ops.numpy_array import *  # noqa: F403
from plait.ops.numpy_create import *  # noqa: F403
from plait.ops.numpy_extra import *  # noqa: F403
from plait.ops.numpy_math import *  # noqa: F403
from plait.ops.numpy_products import *  # noqa: F403
from plait.ops.numpy_stats import *  # noqa: F403
