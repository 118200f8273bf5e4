"""Callbacks for `fit`: `plait.callbacks.EarlyStopping(patience=3)`, ..."""

from plait.callbacks.callbacks import Callback as Callback
from plait.callbacks.callbacks import CallbackList as CallbackList
from plait.callbacks.callbacks import CSVLogger as CSVLogger
from plait.callbacks.callbacks import History as History
from plait.callbacks.callbacks import LambdaCallback as LambdaCallback
from plait.callbacks.callbacks import ProgbarLogger as ProgbarLogger
from plait.callbacks.callbacks import TerminateOnNaN as TerminateOnNaN
from plait.callbacks.files import BackupAndRestore as BackupAndRestore
from plait.callbacks.files import ModelCheckpoint as ModelCheckpoint
from plait.callbacks.files import TensorBoard as TensorBoard
from plait.callbacks.watch import EarlyStopping as EarlyStopping
from plait.callbacks.watch import (
    LearningRateScheduler as LearningRateScheduler,
)
from plait.callbacks.watch import ReduceLROnPlateau as ReduceLROnPlateau
