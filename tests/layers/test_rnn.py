"""RNN over a structure of sequences: a cell with several inputs and outputs."""

import numpy as np
import pytest
import torch

import plait
from plait import layers, ops


class PairCell(layers.Layer):
    """Two inputs per step, two states and two outputs (a (2, 2) one)."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [[units], [2, 2]]
        self.output_size = [[units], [2, 2]]

    def build(self, input_shapes):
        self.a = self.add_weight(shape=(input_shapes[0][-1], self.units), name="a")
        self.b = self.add_weight(shape=(2, 4, 2, 2), name="b")

    def call(self, inputs, states):
        x1, x2 = inputs
        h1 = ops.tanh(ops.matmul(x1, self.a) + states[0])
        h2 = states[1] * 0.5 + ops.einsum("bij,ijkl->bkl", x2, self.b)
        return (h1, h2), [h1, h2]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class DictCell(PairCell):
    """The same cell, its step inputs given as a dict."""

    def build(self, input_shapes):
        super().build((input_shapes["x1"], input_shapes["x2"]))

    def call(self, inputs, states):
        return super().call((inputs["x1"], inputs["x2"]), states)


def _reference(cell, x1, x2, mask=None, backwards=False):
    """The loop written out in torch: (outputs per step, final states)."""
    a, b = cell.a.detach(), cell.b.detach()
    s1, s2 = torch.zeros(len(x1), 3), torch.zeros(len(x1), 2, 2)
    o1, o2 = torch.zeros_like(s1), torch.zeros_like(s2)
    seq1, seq2 = [], []
    steps = range(x1.shape[1])
    for t in reversed(steps) if backwards else steps:
        n1 = torch.tanh(x1[:, t] @ a + s1)
        n2 = s2 * 0.5 + torch.einsum("bij,ijkl->bkl", x2[:, t], b)
        keep = torch.ones(len(x1), dtype=torch.bool) if mask is None else mask[:, t]
        o1 = torch.where(keep[:, None], n1, o1)
        o2 = torch.where(keep[:, None, None], n2, o2)
        s1, s2 = o1, o2
        seq1.append(o1)
        seq2.append(o2)
    return (torch.stack(seq1, 1), torch.stack(seq2, 1)), (s1, s2)


def _data(batch=4, steps=5):
    g = torch.Generator().manual_seed(0)
    return torch.randn(batch, steps, 6, generator=g), torch.randn(
        batch, steps, 2, 4, generator=g
    )


def test_nested_inputs_and_outputs_match_the_loop_written_out():
    x1, x2 = _data()
    cell = PairCell()
    rnn = layers.RNN(cell, return_sequences=True, return_state=True)
    (seq1, seq2), s1, s2 = rnn((x1, x2))
    (want1, want2), (f1, f2) = _reference(cell, x1, x2)
    torch.testing.assert_close(seq1, want1)
    torch.testing.assert_close(seq2, want2)
    torch.testing.assert_close(s1, f1)
    torch.testing.assert_close(s2, f2)
    last1, last2 = layers.RNN(cell)((x1, x2))
    torch.testing.assert_close(last1, want1[:, -1])
    torch.testing.assert_close(last2, want2[:, -1])


def test_nested_go_backwards_and_mask_of_the_first_input():
    x1, x2 = _data()
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 1, 1, 0], [1] * 5])
    mask = mask.bool()
    cell = PairCell()
    rnn = layers.RNN(cell, return_sequences=True, go_backwards=True)
    seq1, seq2 = rnn((x1, x2), mask=[mask, None])
    (want1, want2), _ = _reference(cell, x1, x2, mask, backwards=True)
    torch.testing.assert_close(seq1, want1)
    torch.testing.assert_close(seq2, want2)


def test_dict_inputs_reach_the_cell_as_a_dict():
    x1, x2 = _data()
    cell = DictCell()
    last1, last2 = layers.RNN(cell)({"x1": x1, "x2": x2})
    (want1, want2), _ = _reference(cell, x1, x2)
    torch.testing.assert_close(last1, want1[:, -1])
    torch.testing.assert_close(last2, want2[:, -1])


def test_functional_model_shapes_trains_saves_and_loads(tmp_path, fresh_names):
    i1, i2 = plait.Input((None, 6)), plait.Input((None, 2, 4))
    out = layers.RNN(PairCell(), return_sequences=True)((i1, i2))
    assert [t.shape for t in out] == [(None, None, 3), (None, None, 2, 2)]
    model = plait.Model([i1, i2], out)
    model.compile("adam", "mse")
    x1, x2 = (t.numpy() for t in _data())
    y = [np.zeros((4, 5, 3), "float32"), np.zeros((4, 5, 2, 2), "float32")]
    before = model.evaluate([x1, x2], y, verbose=0)
    model.fit([x1, x2], y, epochs=5, verbose=0)
    assert model.evaluate([x1, x2], y, verbose=0) < before
    path = tmp_path / "nested.plait"
    model.save(path)
    back = plait.saving.load_model(path, custom_objects={"PairCell": PairCell})
    for got, want in zip(
        back.predict([x1, x2], verbose=0), model.predict([x1, x2], verbose=0)
    ):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_nested_inputs_errors_name_the_layer_and_the_shapes():
    x1, x2 = _data()
    rnn = layers.RNN(PairCell(), name="pair")
    with pytest.raises(
        ValueError, match=r"'pair'.*same \(batch, timesteps\).*\(4, 3, 2, 4\)"
    ):
        rnn((x1, x2[:, :3]))
    i1 = plait.Input((None, 6))
    with pytest.raises(ValueError, match=r"'rnn\w*'.*input 1.*at least 3 dims"):
        layers.RNN(PairCell())((i1, plait.Input((6,))))
    built = layers.RNN(PairCell())
    built((x1, x2))
    with pytest.raises(ValueError, match=r"expected 2 input tensors, got 1"):
        built(x1)


def test_bidirectional_refuses_several_inputs_by_name():
    x1, x2 = _data()
    with plait.saving.custom_object_scope({"PairCell": PairCell}):
        both = layers.Bidirectional(layers.RNN(PairCell()), name="both")
    with pytest.raises(ValueError, match=r"'both'.*got 2 inputs.*RNN alone"):
        both((x1, x2))
    with pytest.raises(ValueError, match=r"'both'.*got 2 inputs"):
        both((plait.Input((None, 6)), plait.Input((None, 2, 4))))
