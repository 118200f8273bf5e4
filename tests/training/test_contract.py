"""The trainer's contract with the model (plait.training.contract) and the frozen plan."""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import plait
from plait.layers import Dense, Input
from plait.training.steps import Plan

TRAINING = Path(plait.__file__).parent / "training"


class TwoHeads(plait.Model):
    def __init__(self):
        super().__init__()
        self.a = Dense(1)
        self.b = Dense(2)

    def call(self, inputs):
        first, second = inputs
        return [self.a(first), self.b(second)]


def test_subclassed_model_learns_its_outputs_from_the_first_batch():
    model = TwoHeads()
    assert model._known_output_names() is None
    assert model._output_shapes() is None
    assert model._output_producers() is None
    assert model._training_program(frozenset()) is None
    model.compile("sgd", ["mse", "mse"])
    x = [np.ones((4, 3), dtype="float32"), np.ones((4, 5), dtype="float32")]
    model.train_on_batch(x, [np.ones((4, 1)), np.ones((4, 2))])
    assert model._known_output_names() == ["output_1", "output_2"]
    assert model._output_shapes() == [(None, 1), (None, 2)]
    assert model._plan.program is None
    assert model._plan.x_struct == [None, None]  # the nesting `call` is given


def test_functional_answers_from_its_graph_without_data():
    inputs = Input(shape=(3,))
    hidden = Dense(4, activation="relu")(inputs)
    out = Dense(2, activation="sigmoid", name="probs")(hidden)
    model = plait.Model(inputs, [out, hidden])
    assert model._known_output_names() == ["probs", hidden.node.layer.name]
    assert model._n_inputs() == 1
    assert model._output_shapes() == [(None, 2), (None, 4)]
    assert model._output_producers()[0] is model.get_layer("probs")
    program, with_masks = model._training_program(frozenset({0}))
    assert with_masks
    x = torch.rand(5, 3)
    logits = program(x, False)[0]
    torch.testing.assert_close(torch.sigmoid(logits), model(x)[0])
    run, pack = model._predict_program()
    packed = pack(list(run(x, False)))
    assert isinstance(packed, list)
    assert len(packed) == 2


def test_unbuilt_sequential_builds_from_the_first_data():
    model = plait.Sequential([Dense(2)])
    assert model._known_output_names() is None
    assert model._n_inputs() == 1
    flat = model._flat_inputs_of(np.zeros((3, 5), dtype="float32"))
    assert [tuple(t.shape) for t in flat] == [(3, 5)]
    assert model._known_output_names() == [model.layers[0].name]
    assert model._output_shapes() == [(None, 2)]


def test_the_step_plan_is_frozen_and_lists_each_penalty_once():
    inputs = Input(shape=(3,))
    shared = Dense(2, kernel_regularizer="l2", kernel_constraint="non_neg")
    model = plait.Model(inputs, shared(shared(Dense(2)(inputs))))
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    plan = model._plan
    assert isinstance(plan, Plan)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.n_out = 2
    assert [p for p, _, _ in plan.regularizers] == [shared.kernel]
    assert [p for p, _, _ in plan.constraints] == [shared.kernel]
    assert plan.layers[0] is model


@pytest.mark.parametrize(
    "name", ["contract.py", "steps.py", "compiled.py", "trainer.py"]
)
def test_the_loops_do_not_probe_the_model(name):
    text = (TRAINING / name).read_text(encoding="utf-8")
    found = re.findall(r"hasattr\(|__dict__|type: ignore", text)
    assert not found, f"plait/training/{name} has {found}"
