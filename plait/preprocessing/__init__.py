"""Keras 2 preprocessing utilities: `image` (`ImageDataGenerator`, `load_img`,
`img_to_array`, `array_to_img`, `save_img`), `sequence` (padding, skip-grams,
time-series windows) and `text` (`Tokenizer`, word hashing).

NumPy and the standard library only (Pillow for image files): importing them loads
no layers, models or training code.
"""

from plait.preprocessing import image as image
from plait.preprocessing import sequence as sequence
from plait.preprocessing import text as text

__all__ = ["image", "sequence", "text"]
