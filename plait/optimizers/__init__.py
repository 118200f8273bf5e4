"""Optimizers with Keras's names and defaults: `plait.optimizers.Adam(0.01)`."""

from plait.training.optimizers import SGD as SGD
from plait.training.optimizers import Adadelta as Adadelta
from plait.training.optimizers import Adagrad as Adagrad
from plait.training.optimizers import Adam as Adam
from plait.training.optimizers import Adamax as Adamax
from plait.training.optimizers import AdamW as AdamW
from plait.training.optimizers import CosineDecay as CosineDecay
from plait.training.optimizers import ExponentialDecay as ExponentialDecay
from plait.training.optimizers import InverseTimeDecay as InverseTimeDecay
from plait.training.optimizers import KerasRMSprop as KerasRMSprop
from plait.training.optimizers import LearningRateSchedule as LearningRateSchedule
from plait.training.optimizers import Lion as Lion
from plait.training.optimizers import Nadam as Nadam
from plait.training.optimizers import Optimizer as Optimizer
from plait.training.optimizers import PiecewiseConstantDecay as PiecewiseConstantDecay
from plait.training.optimizers import PolynomialDecay as PolynomialDecay
from plait.training.optimizers import RMSprop as RMSprop
from plait.training.optimizers import TorchOptimizer as TorchOptimizer
from plait.training.optimizers import get as get
from plait.training.optimizers import schedules as schedules
from plait.training.optimizers import serialize as serialize
