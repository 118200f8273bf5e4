"""Callbacks for `fit`: `plait.callbacks.EarlyStopping(patience=3)`, ..."""

from plait.training.callbacks import Callback as Callback
from plait.training.callbacks import CSVLogger as CSVLogger
from plait.training.callbacks import History as History
from plait.training.callbacks import LambdaCallback as LambdaCallback
from plait.training.callbacks import ProgbarLogger as ProgbarLogger
from plait.training.callbacks import TerminateOnNaN as TerminateOnNaN
from plait.training.callbacks_io import BackupAndRestore as BackupAndRestore
from plait.training.callbacks_io import ModelCheckpoint as ModelCheckpoint
from plait.training.callbacks_io import TensorBoard as TensorBoard
from plait.training.callbacks_watch import EarlyStopping as EarlyStopping
from plait.training.callbacks_watch import (
    LearningRateScheduler as LearningRateScheduler,
)
from plait.training.callbacks_watch import ReduceLROnPlateau as ReduceLROnPlateau
