"""Optimizers with Keras's names and defaults: `plait.optimizers.Adam(0.01)`."""

from plait.optimizers.optimizers import SGD as SGD
from plait.optimizers.optimizers import Adadelta as Adadelta
from plait.optimizers.optimizers import Adagrad as Adagrad
from plait.optimizers.optimizers import Adam as Adam
from plait.optimizers.optimizers import Adamax as Adamax
from plait.optimizers.optimizers import AdamW as AdamW
from plait.optimizers.optimizers import CosineDecay as CosineDecay
from plait.optimizers.optimizers import ExponentialDecay as ExponentialDecay
from plait.optimizers.optimizers import InverseTimeDecay as InverseTimeDecay
from plait.optimizers.optimizers import KerasRMSprop as KerasRMSprop
from plait.optimizers.optimizers import LearningRateSchedule as LearningRateSchedule
from plait.optimizers.optimizers import Lion as Lion
from plait.optimizers.optimizers import Nadam as Nadam
from plait.optimizers.optimizers import Optimizer as Optimizer
from plait.optimizers.optimizers import PiecewiseConstantDecay as PiecewiseConstantDecay
from plait.optimizers.optimizers import PolynomialDecay as PolynomialDecay
from plait.optimizers.optimizers import RMSprop as RMSprop
from plait.optimizers.optimizers import TorchOptimizer as TorchOptimizer
from plait.optimizers.optimizers import get as get
from plait.optimizers.optimizers import schedules as schedules
from plait.optimizers.optimizers import serialize as serialize
