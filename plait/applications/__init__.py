"""Keras's applications: the ImageNet networks, with Keras's names and weight files.

Each function builds a functional `plait.Model` with Keras's constructor
arguments (`include_top`, `weights`, `input_tensor`, `input_shape`, `pooling`,
`classes`, `classifier_activation`, and each family's own), Keras's layer names
and weight order, so `weights="imagenet"` loads Keras's published file (fetched
once into `$PLAIT_HOME/models` or `~/.plait/models`, checked by hash) and
`weights=<path>` loads a local Keras `.h5` or `.weights.h5` file. Each family's
module (`plait.applications.resnet`, ...) also has its `preprocess_input` and
`decode_predictions`.
"""

from __future__ import annotations

# --- VGG, ResNet, Inception, Xception (one block per family group; keep the
# --- blank comment lines between blocks so parallel edits merge cleanly)
#
#
#
# --- MobileNet, DenseNet, NASNet
#
from plait.applications import densenet as densenet
from plait.applications import imagenet_utils as imagenet_utils
from plait.applications import mobilenet as mobilenet
from plait.applications import mobilenet_v2 as mobilenet_v2
from plait.applications import mobilenet_v3 as mobilenet_v3
from plait.applications import nasnet as nasnet
from plait.applications.densenet import DenseNet121 as DenseNet121
from plait.applications.densenet import DenseNet169 as DenseNet169
from plait.applications.densenet import DenseNet201 as DenseNet201
from plait.applications.mobilenet import MobileNet as MobileNet
from plait.applications.mobilenet_v2 import MobileNetV2 as MobileNetV2
from plait.applications.mobilenet_v3 import MobileNetV3Large as MobileNetV3Large
from plait.applications.mobilenet_v3 import MobileNetV3Small as MobileNetV3Small
from plait.applications.nasnet import NASNetLarge as NASNetLarge
from plait.applications.nasnet import NASNetMobile as NASNetMobile
#
#
# --- EfficientNet, ConvNeXt
#
#
#
