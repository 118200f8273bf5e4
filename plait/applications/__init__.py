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

from plait.applications import convnext as convnext
from plait.applications import densenet as densenet
from plait.applications import efficientnet as efficientnet
from plait.applications import efficientnet_v2 as efficientnet_v2
from plait.applications import imagenet_utils as imagenet_utils
from plait.applications import inception_resnet_v2 as inception_resnet_v2
from plait.applications import inception_v3 as inception_v3
from plait.applications import mobilenet as mobilenet
from plait.applications import mobilenet_v2 as mobilenet_v2
from plait.applications import mobilenet_v3 as mobilenet_v3
from plait.applications import nasnet as nasnet
from plait.applications import resnet as resnet
from plait.applications import resnet50 as resnet50
from plait.applications import resnet_v2 as resnet_v2
from plait.applications import vgg16 as vgg16
from plait.applications import vgg19 as vgg19
from plait.applications import xception as xception
from plait.applications.convnext import ConvNeXtBase as ConvNeXtBase
from plait.applications.convnext import ConvNeXtLarge as ConvNeXtLarge
from plait.applications.convnext import ConvNeXtSmall as ConvNeXtSmall
from plait.applications.convnext import ConvNeXtTiny as ConvNeXtTiny
from plait.applications.convnext import ConvNeXtXLarge as ConvNeXtXLarge
from plait.applications.densenet import DenseNet121 as DenseNet121
from plait.applications.densenet import DenseNet169 as DenseNet169
from plait.applications.densenet import DenseNet201 as DenseNet201
from plait.applications.efficientnet import EfficientNetB0 as EfficientNetB0
from plait.applications.efficientnet import EfficientNetB1 as EfficientNetB1
from plait.applications.efficientnet import EfficientNetB2 as EfficientNetB2
from plait.applications.efficientnet import EfficientNetB3 as EfficientNetB3
from plait.applications.efficientnet import EfficientNetB4 as EfficientNetB4
from plait.applications.efficientnet import EfficientNetB5 as EfficientNetB5
from plait.applications.efficientnet import EfficientNetB6 as EfficientNetB6
from plait.applications.efficientnet import EfficientNetB7 as EfficientNetB7
from plait.applications.efficientnet_v2 import EfficientNetV2B0 as EfficientNetV2B0
from plait.applications.efficientnet_v2 import EfficientNetV2B1 as EfficientNetV2B1
from plait.applications.efficientnet_v2 import EfficientNetV2B2 as EfficientNetV2B2
from plait.applications.efficientnet_v2 import EfficientNetV2B3 as EfficientNetV2B3
from plait.applications.efficientnet_v2 import EfficientNetV2L as EfficientNetV2L
from plait.applications.efficientnet_v2 import EfficientNetV2M as EfficientNetV2M
from plait.applications.efficientnet_v2 import EfficientNetV2S as EfficientNetV2S
from plait.applications.inception_resnet_v2 import (
    InceptionResNetV2 as InceptionResNetV2,
)
from plait.applications.inception_v3 import InceptionV3 as InceptionV3
from plait.applications.mobilenet import MobileNet as MobileNet
from plait.applications.mobilenet_v2 import MobileNetV2 as MobileNetV2
from plait.applications.mobilenet_v3 import MobileNetV3Large as MobileNetV3Large
from plait.applications.mobilenet_v3 import MobileNetV3Small as MobileNetV3Small
from plait.applications.nasnet import NASNetLarge as NASNetLarge
from plait.applications.nasnet import NASNetMobile as NASNetMobile
from plait.applications.resnet import ResNet50 as ResNet50
from plait.applications.resnet import ResNet101 as ResNet101
from plait.applications.resnet import ResNet152 as ResNet152
from plait.applications.resnet_v2 import ResNet50V2 as ResNet50V2
from plait.applications.resnet_v2 import ResNet101V2 as ResNet101V2
from plait.applications.resnet_v2 import ResNet152V2 as ResNet152V2
from plait.applications.vgg16 import VGG16 as VGG16
from plait.applications.vgg19 import VGG19 as VGG19
from plait.applications.xception import Xception as Xception
