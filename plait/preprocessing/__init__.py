"""Keras 2 preprocessing utilities: `image` (`ImageDataGenerator`, `load_img`,
`img_to_array`, `array_to_img`, `save_img`), `sequence` (padding, skip-grams,
time-series windows) and `text` (`Tokenizer`, word hashing); and, as in
`keras.preprocessing`, `image_dataset_from_directory`,
`text_dataset_from_directory` and `timeseries_dataset_from_array`.

NumPy and the standard library only (Pillow for image files): importing them loads
no layers, models or training code.
"""

from plait.preprocessing import image as image
from plait.preprocessing import sequence as sequence
from plait.preprocessing import text as text
from plait.utils.dataset_utils import (
    image_dataset_from_directory as image_dataset_from_directory,
)
from plait.utils.dataset_utils import (
    text_dataset_from_directory as text_dataset_from_directory,
)
from plait.utils.pydataset import (
    timeseries_dataset_from_array as timeseries_dataset_from_array,
)

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
