"""Keras 2 preprocessing utilities: `sequence` (padding, skip-grams, time-series
windows) and `text` (`Tokenizer`, word hashing).

NumPy and the standard library only: importing them loads no layers, models or
training code.
"""

from plait.preprocessing import sequence as sequence
from plait.preprocessing import text as text

__all__ = ["sequence", "text"]
