"""Keras 3's preprocessing layers: text, lookup, hashing and numeric."""

from plait.layers.preprocessing.numeric import CategoryEncoding as CategoryEncoding
from plait.layers.preprocessing.numeric import Discretization as Discretization
from plait.layers.preprocessing.numeric import Normalization as Normalization
