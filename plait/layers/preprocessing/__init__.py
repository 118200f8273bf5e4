"""Keras 3's preprocessing layers: text, lookup, hashing and numeric."""

from plait.layers.preprocessing.hashing import HashedCrossing as HashedCrossing
from plait.layers.preprocessing.hashing import Hashing as Hashing
from plait.layers.preprocessing.lookup import IntegerLookup as IntegerLookup
from plait.layers.preprocessing.lookup import StringLookup as StringLookup
from plait.layers.preprocessing.numeric import CategoryEncoding as CategoryEncoding
from plait.layers.preprocessing.numeric import Discretization as Discretization
from plait.layers.preprocessing.numeric import Normalization as Normalization
from plait.layers.preprocessing.text_vectorization import (
    TextVectorization as TextVectorization,
)
