"""Write Keras 3 reference numbers for the recurrent layers to `golden/rnn_*.npz`.

Run with a Keras 3 install on the torch backend (not needed by the tests):
`KERAS_BACKEND=torch python tests/parity/make_rnn_golden.py [--out DIR]`.

Each file holds one case: `spec` (JSON: the layer, its arguments, the wrapper),
the input `x`, an optional `mask` and `initial_state` (`s0`, `s1`, ...), the
weights in Keras layout (`w0`, `w1`, ...), the outputs (`out0`, ...), and the
gradients of `sum(output ** 2)` (all outputs) with respect to `x` (`gx`) and
each weight (`gw0`, ...). `test_rnn_parity.py` rebuilds the layer in plait,
sets the same weights and compares.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

GOLDEN = pathlib.Path(__file__).parent / "golden"

RIGHT_PADDED = [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]]
HOLES = [[1, 0, 1, 1, 0, 1], [0, 1, 1, 1, 1, 0], [1, 1, 0, 0, 1, 1]]

# name: (wrapper or None, wrapper kwargs, layer, layer kwargs, x shape, mask, state)
CASES: dict[str, tuple] = {
    "lstm_seq": (None, {}, "LSTM", {"units": 4, "return_sequences": True},
                 (3, 6, 5), None, False),
    "lstm_last_right_padded": (None, {}, "LSTM", {"units": 4}, (3, 6, 5),
                               RIGHT_PADDED, False),
    "lstm_seq_right_padded": (None, {}, "LSTM",
                              {"units": 4, "return_sequences": True}, (3, 6, 5),
                              RIGHT_PADDED, False),
    "lstm_seq_holes": (None, {}, "LSTM", {"units": 4, "return_sequences": True},
                       (3, 6, 5), HOLES, False),
    "lstm_backwards_padded": (None, {}, "LSTM",
                              {"units": 4, "return_sequences": True,
                               "go_backwards": True}, (3, 6, 5), RIGHT_PADDED,
                              False),
    "lstm_backwards_last": (None, {}, "LSTM", {"units": 4, "go_backwards": True},
                            (3, 6, 5), None, False),
    "lstm_state": (None, {}, "LSTM", {"units": 4, "return_state": True},
                   (3, 6, 5), None, True),
    "lstm_state_padded": (None, {}, "LSTM",
                          {"units": 4, "return_sequences": True,
                           "return_state": True}, (3, 6, 5), RIGHT_PADDED, True),
    "lstm_no_bias_relu": (None, {}, "LSTM",
                          {"units": 3, "use_bias": False, "activation": "relu"},
                          (2, 4, 5), None, False),
    "gru_seq": (None, {}, "GRU", {"units": 4, "return_sequences": True},
                (3, 6, 5), None, False),
    "gru_state_padded": (None, {}, "GRU",
                         {"units": 4, "return_sequences": True,
                          "return_state": True}, (3, 6, 5), RIGHT_PADDED, True),
    "gru_holes_backwards": (None, {}, "GRU",
                            {"units": 4, "return_sequences": True,
                             "go_backwards": True}, (3, 6, 5), HOLES, False),
    "gru_reset_before": (None, {}, "GRU",
                         {"units": 4, "reset_after": False,
                          "return_sequences": True}, (3, 6, 5), RIGHT_PADDED,
                         False),
    "simple_rnn_seq": (None, {}, "SimpleRNN",
                       {"units": 4, "return_sequences": True}, (3, 6, 5), None,
                       False),
    "simple_rnn_padded_state": (None, {}, "SimpleRNN",
                                {"units": 4, "return_state": True,
                                 "go_backwards": True}, (3, 6, 5), RIGHT_PADDED,
                                True),
    "simple_rnn_relu_holes": (None, {}, "SimpleRNN",
                              {"units": 4, "activation": "relu",
                               "return_sequences": True}, (3, 6, 5), HOLES,
                              False),
    "bidirectional_lstm_concat": ("Bidirectional", {}, "LSTM",
                                  {"units": 3, "return_sequences": True},
                                  (3, 6, 5), None, False),
    "bidirectional_lstm_padded": ("Bidirectional", {}, "LSTM",
                                  {"units": 3, "return_sequences": True},
                                  (3, 6, 5), RIGHT_PADDED, False),
    "bidirectional_gru_sum_state": ("Bidirectional", {"merge_mode": "sum"}, "GRU",
                                    {"units": 3, "return_state": True},
                                    (3, 6, 5), None, False),
    "bidirectional_rnn_none_holes": ("Bidirectional", {"merge_mode": None},
                                     "SimpleRNN",
                                     {"units": 3, "return_sequences": True},
                                     (3, 6, 5), HOLES, False),
    "bidirectional_lstm_ave_last_padded": ("Bidirectional", {"merge_mode": "ave"},
                                           "LSTM", {"units": 3}, (3, 6, 5),
                                           RIGHT_PADDED, False),
    "time_distributed_dense": ("TimeDistributed", {}, "Dense",
                               {"units": 3, "activation": "tanh"}, (2, 4, 5),
                               None, False),
    "conv_lstm2d_same": (None, {}, "ConvLSTM2D",
                         {"filters": 2, "kernel_size": 3, "padding": "same",
                          "return_sequences": True}, (2, 3, 5, 5, 2), None, False),
    "conv_lstm2d_valid_stride_state": (None, {}, "ConvLSTM2D",
                                       {"filters": 2, "kernel_size": (2, 3),
                                        "strides": 2, "return_state": True},
                                       (2, 3, 6, 7, 2), None, False),
}  # fmt: skip


def _state_shapes(layer_name: str, kwargs: dict, batch: int) -> list[tuple]:
    units = kwargs["units"]
    n = 2 if layer_name == "LSTM" else 1
    return [(batch, units)] * n


def make_case(
    name: str, case: tuple, rng: np.random.Generator, out_dir: pathlib.Path
) -> None:
    import keras
    import torch

    wrapper, wkw, layer_name, kwargs, shape, mask, with_state = case
    layer = getattr(keras.layers, layer_name)(**kwargs)
    if wrapper is not None:
        layer = getattr(keras.layers, wrapper)(layer, **wkw)
    x_np = rng.standard_normal(shape).astype("float32")
    x = torch.tensor(x_np, requires_grad=True)
    call_kw: dict = {}
    arrays: dict[str, np.ndarray] = {"x": x_np}
    if mask is not None:
        arrays["mask"] = np.asarray(mask, dtype=bool)
        call_kw["mask"] = torch.tensor(arrays["mask"])
    if with_state:
        states = [
            rng.standard_normal(s).astype("float32")
            for s in _state_shapes(layer_name, kwargs, shape[0])
        ]
        for i, s in enumerate(states):
            arrays[f"s{i}"] = s
        call_kw["initial_state"] = [torch.tensor(s) for s in states]
    layer(x, **call_kw)  # builds
    # Keras-layout weights, perturbed so biases are not all zero.
    for w in layer.weights:
        value = w.numpy() + 0.1 * rng.standard_normal(w.shape).astype("float32")
        w.assign(value)
    out = layer(x, **call_kw)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    loss = sum((o**2).sum() for o in outs)
    loss.backward()
    for i, w in enumerate(layer.weights):
        arrays[f"w{i}"] = w.numpy()
        arrays[f"gw{i}"] = w.value.grad.detach().cpu().numpy()
    for i, o in enumerate(outs):
        arrays[f"out{i}"] = o.detach().cpu().numpy()
    arrays["gx"] = x.grad.detach().cpu().numpy()
    spec = {
        "wrapper": wrapper,
        "wrapper_kwargs": wkw,
        "layer": layer_name,
        "kwargs": kwargs,
    }
    arrays["spec"] = np.array(json.dumps(spec))
    np.savez(out_dir / f"rnn_{name}.npz", **arrays)


def main() -> None:
    import keras

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=GOLDEN,
        help="folder to write into (default: %(default)s)",
    )
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    for name, case in CASES.items():
        make_case(name, case, rng, out)
        print("wrote", name)


if __name__ == "__main__":
    main()
