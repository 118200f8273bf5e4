"""Graph ordering and graph errors: deterministic order, disconnected graphs, depth."""

import time

import numpy as np
import pytest

import plait
from plait.layers import Dense, Input, concatenate


def _diamond():
    x = Input(shape=(4,), name="x")
    a = Dense(3, name="a")(x)
    b = Dense(3, name="b")(x)
    c = Dense(3, name="c")(a)
    out = concatenate([c, b], name="cat")
    return plait.Model(x, out)


def test_topology_layer_order_is_deterministic():
    names = [[layer.name for layer in _diamond().layers] for _ in range(3)]
    assert names[0] == names[1] == names[2]
    order = names[0]
    assert order[0] == "x"
    assert order[-1] == "cat"
    assert order.index("a") < order.index("c")


def test_topology_nodes_run_producers_first():
    model = _diamond()
    seen = set()
    for node in model._topology.nodes:
        for t in node.input_tensors:
            assert id(t.node) in seen or t.node.layer._is_input_layer
        seen.add(id(node))


def test_topology_disconnected_graph_names_tensor_and_layer(fresh_names):
    main_input = Input(shape=(4,), name="main_input")
    aux_input = Input(shape=(5,), name="aux_input")
    x = Dense(3)(main_input)
    out = concatenate([x, aux_input])
    with pytest.raises(
        ValueError,
        match=r"^Graph disconnected: tensor 'aux_input' is needed by layer "
        r"'concatenate' but is not in Model inputs \['main_input'\]\.$",
    ):
        plait.Model(main_input, out)


def test_topology_disconnected_is_detected_at_any_depth():
    a = Input(shape=(2,), name="a_in")
    b = Input(shape=(2,), name="b_in")
    x = Dense(2, name="da")(a)
    y = Dense(2, name="db")(b)
    z = plait.layers.add([x, y], name="sum")
    out = Dense(1, name="head")(z)
    with pytest.raises(ValueError, match="tensor 'b_in' is needed by layer 'db'"):
        plait.Model(a, out)


def test_topology_duplicate_layer_names_rejected():
    x = Input(shape=(2,))
    y = Dense(2, name="same")(x)
    z = Dense(2, name="same")(y)
    with pytest.raises(ValueError, match="Duplicate layer name 'same'"):
        plait.Model(x, z)


def test_topology_duplicate_input_rejected():
    x = Input(shape=(2,), name="dup")
    with pytest.raises(ValueError, match="the same tensor appears twice"):
        plait.Model([x, x], Dense(1)(x))


def test_topology_output_equal_to_input_is_allowed():
    x = Input(shape=(2,))
    model = plait.Model(x, [x, Dense(1)(x)])
    a = np.ones((3, 2), np.float32)
    out = model.predict(a, verbose=0)
    np.testing.assert_array_equal(out[0], a)


def test_topology_model_inputs_not_list_of_tensors_rejected():
    with pytest.raises(
        TypeError, match=r"expected SymbolicTensor\(s\) from plait\.Input"
    ):
        plait.Model(np.ones((10, 784)), Dense(1)(Input(shape=(2,))))


def test_topology_unused_input_is_kept():
    a, b = Input(shape=(2,), name="used"), Input(shape=(3,), name="unused")
    model = plait.Model([a, b], Dense(1)(a))
    assert [layer.name for layer in model.layers][:2] == ["used", "unused"]
    out = model.predict([np.ones((2, 2)), np.ones((2, 3))], verbose=0)
    assert out.shape == (2, 1)


def test_topology_intermediate_tensor_as_input_cuts_graph():
    x = Input(shape=(4,))
    h = Dense(3, name="h1")(x)
    out = Dense(2, name="h2")(h)
    model = plait.Model(h, out)
    assert [layer.name for layer in model.layers] == ["h2"]
    got = model.predict(np.ones((2, 3), np.float32), verbose=0)
    assert got.shape == (2, 2)


def _chain(n):
    x = Input(shape=(2,))
    y = x
    for _ in range(n):
        y = Dense(2)(y)
    return x, y


def test_topology_2000_layer_chain_builds_and_predicts():
    x, y = _chain(2000)
    model = plait.Model(x, y)
    assert len(model.layers) == 2001
    out = model.predict(np.ones((2, 2), np.float32), verbose=0)
    assert out.shape == (2, 2)


@pytest.mark.slow  # 3-5 s alone, much more on a loaded machine
def test_topology_10000_layer_chain_builds_and_predicts():
    start = time.perf_counter()
    x, y = _chain(10_000)
    model = plait.Model(x, y)
    out = model.predict(np.ones((2, 2), np.float32), verbose=0)
    assert out.shape == (2, 2)
    assert np.isfinite(out).all()
    assert time.perf_counter() - start < 120


def test_topology_output_that_is_another_input_is_disconnected():
    a, b = Input(shape=(2,), name="in_a"), Input(shape=(2,), name="in_b")
    with pytest.raises(
        ValueError,
        match=r"^Graph disconnected: tensor 'in_b' is needed as a Model output but is "
        r"not in Model inputs \['in_a'\]\.$",
    ):
        plait.Model(a, [Dense(1)(a), b])


def test_topology_duplicate_input_names_rejected():
    a, b = Input(shape=(2,), name="same"), Input(shape=(2,), name="same")
    with pytest.raises(ValueError, match="Duplicate layer name 'same'"):
        plait.Model([a, b], plait.layers.add([a, b]))
