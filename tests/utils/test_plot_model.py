"""plot_model / model_to_dot: the DOT graph of the guide's models, and image files."""

import inspect
import shutil
import sys
import types

import pytest
import torch

from plait.examples import guide
from plait.layers import Dense, Input
from plait.models import Model, Sequential
from plait.utils import model_to_dot, plot_model

pydot = pytest.importorskip("pydot")
pytestmark = pytest.mark.usefixtures("fresh_names")  # the guide's layer names
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed"
)


def _label(item):
    return item.get("label").strip('"').split("\\n")


def _labelled(graph):
    """The graph's layer nodes (not the `node [...]` defaults entry)."""
    return [n for n in graph.get_nodes() if n.get("label") is not None]


def _names(graph):
    """Node name -> the layer name on the first line of its label."""
    found = {}
    for node in _labelled(graph):
        found[node.get_name()] = _label(node)[0].split(" (")[0]
    for sub in graph.get_subgraphs():
        found.update(_names(sub))
    return found


def _edges(graph, names):
    """Every edge as (source layer name, target layer name), repeats kept."""
    pairs = [
        (names[e.get_source()], names[e.get_destination()]) for e in graph.get_edges()
    ]
    for sub in graph.get_subgraphs():
        pairs += _edges(sub, names)
    return sorted(pairs)


def test_plot_model_signatures_match_keras_3():
    plot = inspect.signature(plot_model).parameters
    assert {k: v.default for k, v in plot.items() if k not in ("model", "kwargs")} == {
        "to_file": "model.png",
        "show_shapes": False,
        "show_dtype": False,
        "show_layer_names": False,
        "rankdir": "TB",
        "expand_nested": False,
        "dpi": 200,
        "show_layer_activations": False,
        "show_trainable": False,
    }
    to_dot = inspect.signature(model_to_dot).parameters
    assert list(to_dot)[1:] == [
        "show_shapes",
        "show_dtype",
        "show_layer_names",
        "rankdir",
        "expand_nested",
        "dpi",
        "subgraph",
        "show_layer_activations",
        "show_trainable",
        "kwargs",
    ]
    assert to_dot["show_layer_names"].default is True


def test_plot_model_multi_input_multi_output_graph():
    model = guide.headline_model()
    graph = model_to_dot(model)
    names = _names(graph)
    assert sorted(names.values()) == sorted(layer.name for layer in model.layers)
    assert _edges(graph, names) == sorted(
        [
            ("main_input", "embedding"),
            ("embedding", "lstm"),
            ("lstm", "concatenate"),
            ("aux_input", "concatenate"),
            ("concatenate", "dense"),
            ("dense", "dense_1"),
            ("dense_1", "dense_2"),
            ("dense_2", "main_output"),
            ("lstm", "aux_output"),
        ]
    )
    assert graph.get("rankdir") == "TB"
    assert str(graph.get("dpi")) == "200"


def test_plot_model_labels_shapes_dtypes_activations_trainable():
    model = guide.headline_model()
    model.get_layer("aux_output").trainable = False
    graph = model_to_dot(
        model,
        show_shapes=True,
        show_dtype=True,
        show_layer_activations=True,
        show_trainable=True,
        rankdir="LR",
    )
    labels = {_label(n)[0]: _label(n)[1:] for n in _labelled(graph)}
    assert labels["main_input (InputLayer)"] == [
        "Input shape: (None, 100)",
        "Output shape: (None, 100)",
        "Input dtype: int32",
        "Output dtype: int32",
        "Trainable: True",
    ]
    assert labels["concatenate (Concatenate)"][:2] == [
        "Input shape: [(None, 32), (None, 5)]",
        "Output shape: (None, 37)",
    ]
    assert labels["aux_output (Dense)"][0] == "Activation: sigmoid"
    assert labels["aux_output (Dense)"][-1] == "Trainable: False"
    assert labels["embedding (Embedding)"][2:4] == [
        "Input dtype: int32",
        "Output dtype: float32",
    ]
    assert graph.get("rankdir") == "LR"
    plain = model_to_dot(model, show_layer_names=False)
    assert sorted(_label(n)[0] for n in _labelled(plain)) == sorted(
        type(layer).__name__ for layer in model.layers
    )


def test_plot_model_shared_layer_is_one_node_with_an_edge_per_call():
    model = guide.tweet_model()
    graph = model_to_dot(model, show_shapes=True)
    names = _names(graph)
    lstm = next(layer for layer in model.layers if type(layer).__name__ == "LSTM")
    assert list(names.values()).count(lstm.name) == 1
    edges = _edges(graph, names)
    inputs = [t.node.layer.name for t in model.inputs]
    concat = model.layers[-2].name
    assert edges.count((lstm.name, concat)) == 2
    assert sorted(e for e in edges if e[1] == lstm.name) == sorted(
        (name, lstm.name) for name in inputs
    )
    node = next(n for n in _labelled(graph) if names.get(n.get_name()) == lstm.name)
    assert "Input shape: (None, 140, 256)" in _label(node)


def test_plot_model_shared_layer_with_different_shapes_reads_multiple():
    a, b = Input(shape=(3,)), Input(shape=(4, 3))
    shared = Dense(2, name="shared_dense")
    model = Model([a, b], [shared(a), shared(b)])
    graph = model_to_dot(model, show_shapes=True)
    node = next(n for n in _labelled(graph) if _label(n)[0].startswith("shared_dense"))
    assert _label(node)[1:] == ["Input shape: multiple", "Output shape: multiple"]


def test_plot_model_nested_model_is_one_node():
    model, vision = guide.shared_vision_model()
    graph = model_to_dot(model)
    names = _names(graph)
    assert graph.get_subgraphs() == []
    assert list(names.values()).count(vision.name) == 1
    assert "conv2d" not in " ".join(names.values())
    edges = _edges(graph, names)
    concat = model.layers[-2].name
    assert edges.count((vision.name, concat)) == 2
    assert sorted(src for src, dst in edges if dst == vision.name) == sorted(
        t.node.layer.name for t in model.inputs
    )


def test_plot_model_expand_nested_draws_a_cluster():
    model, vision = guide.shared_vision_model()
    graph = model_to_dot(model, expand_nested=True)
    (cluster,) = graph.get_subgraphs()
    assert cluster.get_name() == f"cluster_{id(vision)}"
    assert cluster.get("label").strip('"') == vision.name
    names = _names(graph)
    inner = {_names(cluster)[n.get_name()] for n in _labelled(cluster)}
    vision_input = vision.inputs[0].node.layer.name
    assert inner == {vision_input} | {layer.name for layer in vision.layers}
    assert vision.name not in names.values()
    edges = _edges(graph, names)
    flatten = vision.layers[-1].name
    concat = model.layers[-2].name
    assert edges.count((flatten, concat)) == 2
    for t in model.inputs:
        assert (t.node.layer.name, vision_input) in edges


def test_plot_model_subgraph_returns_a_cluster():
    model = guide.mlp()
    cluster = model_to_dot(model, subgraph=True)
    assert isinstance(cluster, pydot.Cluster)
    assert len(_edges(cluster, _names(cluster))) == len(model.layers) - 1


def test_plot_model_sequential_is_a_chain():
    model = Sequential([Input(shape=(4,)), Dense(3), Dense(2)])
    graph = model_to_dot(model)
    names = _names(graph)
    edges = _edges(graph, names)
    assert len(edges) == len(names) - 1
    chain = [layer.name for layer in model.layers]
    assert (chain[0], chain[1]) in edges


def test_plot_model_rejects_unbuilt_model_unknown_kwargs_and_extension(tmp_path):
    with pytest.raises(ValueError, match="expected a built model"):
        model_to_dot(Sequential([Dense(2)]))
    model = guide.mlp()
    with pytest.raises(TypeError, match=r"expected no other keyword.*layer_range"):
        model_to_dot(model, layer_range=["a", "b"])
    with pytest.raises(ValueError, match=r"to_file=\.\.\.\): expected an extension"):
        plot_model(model, to_file=str(tmp_path / "model.bmp"))


def test_plot_model_without_pydot_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match=r"pip install pydot"):
        model_to_dot(guide.mlp())


def test_plot_model_writes_dot_text_without_graphviz(tmp_path):
    path = tmp_path / "model.dot"
    plot_model(guide.mlp(), to_file=str(path), show_shapes=True)
    text = path.read_text()
    assert text.startswith("digraph")
    assert "Output shape: (None, 10)" in text


@needs_dot
@pytest.mark.parametrize(
    ("ext", "magic"), [("png", b"\x89PNG"), ("svg", b"<svg"), ("pdf", b"%PDF")]
)
def test_plot_model_writes_image_by_extension(tmp_path, ext, magic):
    model, _ = guide.shared_vision_model()
    path = tmp_path / f"model.{ext}"
    plot_model(model, to_file=str(path), show_shapes=True, expand_nested=True)
    data = path.read_bytes()
    assert magic in data[:400]


def test_plot_model_image_without_graphviz_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match="Graphviz"):
        plot_model(guide.mlp(), to_file=str(tmp_path / "model.png"))


def test_plot_model_expand_nested_twice_and_multi_output_nested():
    inner = Sequential([Input(shape=(4,)), Dense(3, name="d1")], name="inner")
    x = Input(shape=(4,), name="x")
    h = inner(x)
    mid = Model(x, [Dense(2, name="left")(h), Dense(5, name="right")(h)], name="mid")
    y = Input(shape=(4,), name="y")
    left, right = mid(y)
    outer = Model(y, [Dense(1, name="out_l")(left), Dense(1, name="out_r")(right)])
    graph = model_to_dot(outer, expand_nested=True)
    (mid_cluster,) = graph.get_subgraphs()
    (inner_cluster,) = mid_cluster.get_subgraphs()
    assert mid_cluster.get("label").strip('"') == "mid"
    assert inner_cluster.get("label").strip('"') == "inner"
    inner_input = inner.inputs[0].node.layer.name
    assert set(_names(inner_cluster).values()) == {inner_input, "d1"}
    edges = _edges(graph, _names(graph))
    assert edges == sorted(
        [
            ("y", "x"),
            ("x", inner_input),
            (inner_input, "d1"),
            ("d1", "left"),
            ("d1", "right"),
            ("left", "out_l"),
            ("right", "out_r"),
        ]
    )
    collapsed = model_to_dot(outer)
    assert _edges(collapsed, _names(collapsed)) == sorted(
        [("y", "mid"), ("mid", "out_l"), ("mid", "out_r")]
    )


def test_plot_model_subclassed_model_draws_its_layers_unlinked():
    class TwoDense(Model):
        def __init__(self):
            super().__init__()
            self.first = Dense(3, name="first")
            self.second = Dense(1, name="second")

        def call(self, x):
            return self.second(self.first(x))

    model = TwoDense()
    model(torch.zeros(2, 4))
    graph = model_to_dot(model)
    assert sorted(_names(graph).values()) == ["first", "second"]
    assert graph.get_edges() == []


@needs_dot
def test_plot_model_returns_an_ipython_image_when_ipython_is_there(
    tmp_path, monkeypatch
):
    shown = []
    display = types.SimpleNamespace(
        Image=lambda filename: shown.append(filename) or "image"
    )
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(display=display))
    path = tmp_path / "model.svg"
    assert plot_model(guide.mlp(), to_file=str(path)) == "image"
    assert shown == [str(path)]
    assert plot_model(guide.mlp(), to_file=str(tmp_path / "model.pdf")) is None
