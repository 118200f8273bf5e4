"""Utilities: seeding, one-hot targets, naming, nested structures, PyDataset, model plots,
images (`load_img`, `img_to_array`, `array_to_img`, `save_img`) and datasets read from
directories (`image_dataset_from_directory`, `text_dataset_from_directory`)."""

from plait.utils.custom_objects import CustomObjectScope as CustomObjectScope
from plait.utils.custom_objects import custom_object_scope as custom_object_scope
from plait.utils.custom_objects import get_custom_objects as get_custom_objects
from plait.utils.custom_objects import get_registered_name as get_registered_name
from plait.utils.custom_objects import get_registered_object as get_registered_object
from plait.utils.custom_objects import (
    register_keras_serializable as register_keras_serializable,
)
from plait.utils.dataset_utils import (
    image_dataset_from_directory as image_dataset_from_directory,
)
from plait.utils.dataset_utils import (
    text_dataset_from_directory as text_dataset_from_directory,
)
from plait.utils.image_utils import array_to_img as array_to_img
from plait.utils.image_utils import img_to_array as img_to_array
from plait.utils.image_utils import load_img as load_img
from plait.utils.image_utils import save_img as save_img
from plait.utils.naming import reset_uids as clear_session
from plait.utils.numerical import normalize as normalize
from plait.utils.numerical import set_random_seed as set_random_seed
from plait.utils.numerical import to_categorical as to_categorical
from plait.utils.plotting import model_to_dot as model_to_dot
from plait.utils.plotting import plot_model as plot_model
from plait.utils.pydataset import PyDataset as PyDataset
from plait.utils.pydataset import Sequence as Sequence
from plait.utils.pydataset import (
    timeseries_dataset_from_array as timeseries_dataset_from_array,
)
from plait.utils.sequence_utils import pad_sequences as pad_sequences
