"""Keras 3's preprocessing layers: text, lookup, hashing, numeric and image."""

from plait.layers.preprocessing.affine_image import RandomRotation as RandomRotation
from plait.layers.preprocessing.affine_image import (
    RandomTranslation as RandomTranslation,
)
from plait.layers.preprocessing.affine_image import RandomZoom as RandomZoom
from plait.layers.preprocessing.hashing import HashedCrossing as HashedCrossing
from plait.layers.preprocessing.hashing import Hashing as Hashing
from plait.layers.preprocessing.image import CenterCrop as CenterCrop
from plait.layers.preprocessing.image import Rescaling as Rescaling
from plait.layers.preprocessing.image import Resizing as Resizing
from plait.layers.preprocessing.lookup import IntegerLookup as IntegerLookup
from plait.layers.preprocessing.lookup import StringLookup as StringLookup
from plait.layers.preprocessing.numeric import CategoryEncoding as CategoryEncoding
from plait.layers.preprocessing.numeric import Discretization as Discretization
from plait.layers.preprocessing.numeric import Normalization as Normalization
from plait.layers.preprocessing.random_image import RandomBrightness as RandomBrightness
from plait.layers.preprocessing.random_image import RandomContrast as RandomContrast
from plait.layers.preprocessing.random_image import RandomCrop as RandomCrop
from plait.layers.preprocessing.random_image import RandomFlip as RandomFlip
from plait.layers.preprocessing.text_vectorization import (
    TextVectorization as TextVectorization,
)
