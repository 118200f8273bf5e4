"""Where a model lives: placed once on the default device, unless the user chose.

`Placement` is a mixin of `Model` (through `TrainingSteps`). The first
`compile`, `fit`, `evaluate` or `predict` moves a model that the user never
placed to `plait.distribution.devices.default_device()` (the GPU when there is
one); `model.to(...)`, `.cuda()` and `.cpu()` mark the model as placed by the
user, and plait then leaves it where it is.
"""

from __future__ import annotations

from typing import Any

import torch

from plait.distribution import devices, process

__all__ = ["Placement"]


def _names_device(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    if "device" in kwargs or "tensor" in kwargs:
        return True
    return any(isinstance(a, (str, torch.device, int, torch.Tensor)) for a in args)


class Placement:
    """`model.to` / `.cuda` / `.cpu` that remember the user's choice."""

    def to(self, *args: Any, **kwargs: Any) -> Any:
        """`torch.nn.Module.to`; a device given here is kept by `fit` & co."""
        if _names_device(args, kwargs):
            self.__dict__["_user_placed"] = True
        return super().to(*args, **kwargs)  # type: ignore[misc]

    def cuda(self, device: Any = None) -> Any:
        """`torch.nn.Module.cuda`; the model then stays on that GPU."""
        self.__dict__["_user_placed"] = True
        return super().cuda(device)  # type: ignore[misc]

    def cpu(self) -> Any:
        """`torch.nn.Module.cpu`; the model then stays on the CPU."""
        self.__dict__["_user_placed"] = True
        return super().cpu()  # type: ignore[misc]

    def _model_device(self) -> torch.device:
        """The model's device, after placing it once; checks it is only one."""
        self._place()
        return devices.check_one_device(self)

    def _place(self) -> None:
        """Move a model the user never placed to the default device, once."""
        if not self.__dict__.get("_user_placed") and not self.__dict__.get(
            "_auto_placed"
        ):
            tensors = [*self.parameters(), *self.buffers()]  # type: ignore[attr-defined]
            if tensors:  # placed once its weights exist
                process.ensure_initialized()  # under torchrun: the rank's device
                target = devices.default_device()
                built_on_cpu = all(t.device.type == "cpu" for t in tensors)
                if built_on_cpu and target.type != "cpu":  # else the user moved some
                    super().to(target)  # type: ignore[misc]
                self.__dict__["_auto_placed"] = True
