"""The Layer contract and Keras 2's node API (GUIDE.md section 5)."""

import numpy as np
import pytest
import torch

import plait
from plait.layers import Conv2D, Dense, Dropout, Embedding, Input, Layer
from tests.layers.test_layer_cases import check_weights_round_trip


class Scale(Layer):
    """A user layer: only __init__, build and call."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, inputs):
        return inputs * self.w * self.factor


class ModeProbe(Layer):
    def call(self, inputs, training=None):
        return inputs + (1.0 if training else 0.0)


# ---------------------------------------------------------------- user subclass
def test_base_user_subclass_in_functional_model():
    x = Input(shape=(3,))
    layer = Scale(3.0)
    model = plait.Model(x, Dense(2)(layer(x)))
    assert layer.built
    assert layer.w.shape == (3,)
    out = model.predict(np.ones((2, 3), np.float32), verbose=0)
    assert out.shape == (2, 2)
    torch.testing.assert_close(layer(torch.ones(1, 3)), torch.full((1, 3), 3.0))


def test_base_user_subclass_eager_builds_on_first_call():
    layer = Scale()
    assert not layer.built
    layer(torch.ones(2, 4))
    assert layer.built
    assert [tuple(w.shape) for w in layer.weights] == [(4,)]


def test_base_eager_numpy_input():
    out = Scale()(np.ones((1, 2)))
    assert isinstance(out, torch.Tensor)
    assert out.dtype == torch.float32


# ---------------------------------------------------------------- weights
def test_base_add_weight_keras2_order():
    layer = Layer()
    w = layer.add_weight("kernel", (2, 3), "zeros", trainable=False)
    assert isinstance(w, torch.nn.Parameter)
    assert tuple(w.shape) == (2, 3)
    assert not w.requires_grad
    assert layer.non_trainable_weights == [w]


def test_base_add_weight_keras3_order():
    layer = Layer()
    w = layer.add_weight((4,), initializer="ones", name="bias")
    torch.testing.assert_close(w.detach(), torch.ones(4))
    assert "bias" in dict(layer.named_parameters())


def test_base_add_weight_default_initializers():
    layer = Layer()
    w = layer.add_weight("w", (50, 50))
    assert w.abs().max() <= (6 / 100) ** 0.5 + 1e-6  # glorot_uniform
    assert w.std() > 0
    i = layer.add_weight("i", (3,), dtype="int32")
    assert i.dtype == torch.int32
    assert i.sum() == 0
    assert not i.requires_grad


def test_base_add_weight_unknown_kwarg_rejected():
    with pytest.raises(TypeError, match="add_weight"):
        Layer().add_weight("w", (2,), colour="red")


def test_base_weights_order_trainable_then_non_trainable():
    layer = Layer()
    a = layer.add_weight("a", (1,), trainable=False)
    b = layer.add_weight("b", (2,))
    assert layer.weights == [b, a]
    assert layer.trainable_weights == [b]
    assert layer.non_trainable_weights == [a]


def test_base_state_dict_uses_weight_names():
    d = Dense(2, name="d")
    d(torch.ones(1, 3))
    assert list(d.state_dict()) == ["kernel", "bias"]


def test_base_trainable_false_freezes_and_unfreezing_works():
    d = Dense(2)
    d(torch.ones(1, 3))
    d.trainable = False
    assert all(not p.requires_grad for p in d.weights)
    assert d.trainable_weights == []
    assert len(d.non_trainable_weights) == 2
    d.trainable = True
    assert all(p.requires_grad for p in d.weights)
    assert len(d.trainable_weights) == 2


def test_base_trainable_false_in_constructor():
    d = Dense(2, trainable=False)
    d(torch.ones(1, 3))
    assert d.trainable_weights == []
    assert not d.kernel.requires_grad


def test_base_freezing_is_recursive_through_nested_models():
    inner_in = Input(shape=(3,))
    inner_dense = Dense(3, name="inner_dense")
    inner = plait.Model(inner_in, inner_dense(inner_in), name="inner")
    x = Input(shape=(3,))
    outer_dense = Dense(1, name="outer_dense")
    outer = plait.Model(x, outer_dense(inner(x)))
    assert len(outer.trainable_weights) == 4
    inner.trainable = False
    assert not inner_dense.kernel.requires_grad
    assert len(outer.trainable_weights) == 2
    assert len(outer.non_trainable_weights) == 2
    outer.trainable = False
    assert outer.trainable_weights == []
    outer.trainable = True
    assert inner_dense.trainable
    assert inner_dense.kernel.requires_grad
    assert len(outer.trainable_weights) == 4


def test_base_frozen_layer_is_not_updated_by_training_step():
    x = Input(shape=(3,))
    frozen = Dense(3, trainable=False)
    model = plait.Model(x, Dense(1)(frozen(x)))
    before = frozen.get_weights()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    for b, a in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(b, a)


def test_base_non_trainable_weight_stays_frozen_after_unfreeze():
    layer = Layer()
    stat = layer.add_weight("stat", (2,), trainable=False)
    layer.trainable = False
    layer.trainable = True
    assert not stat.requires_grad


def test_base_get_set_weights_round_trip():
    d = Dense(3)
    d(torch.ones(1, 2))
    kernel = np.arange(6, dtype=np.float32).reshape(2, 3)
    bias = np.array([1.0, 2.0, 3.0], np.float32)
    d.set_weights([kernel, bias])
    got = d.get_weights()
    np.testing.assert_array_equal(got[0], kernel)
    np.testing.assert_array_equal(got[1], bias)
    torch.testing.assert_close(d(torch.ones(1, 2)), torch.tensor([[4.0, 7.0, 10.0]]))
    got[0][0, 0] = 100.0  # get_weights returns copies
    assert d.get_weights()[0][0, 0] == 0.0


def test_base_set_weights_wrong_count():
    d = Dense(3, name="dw")
    d(torch.ones(1, 2))
    with pytest.raises(
        ValueError,
        match=r"^Dense layer 'dw': expected 2 weight arrays \['kernel', 'bias'\], got 1\.$",
    ):
        d.set_weights([np.zeros((2, 3))])


def test_base_set_weights_wrong_shape():
    d = Dense(3, name="ds")
    d(torch.ones(1, 2))
    with pytest.raises(
        ValueError,
        match=r"^Dense layer 'ds': weight 'kernel' expects shape \(2, 3\), got \(3, 2\)\.$",
    ):
        d.set_weights([np.zeros((3, 2)), np.zeros(3)])
    np.testing.assert_array_equal(d.get_weights()[1], np.zeros(3))


def test_base_set_weights_is_atomic():
    d = Dense(3)
    d(torch.ones(1, 2))
    before = d.get_weights()
    with pytest.raises(ValueError, match="bias"):
        d.set_weights([np.ones((2, 3)), np.ones(4)])
    np.testing.assert_array_equal(d.get_weights()[0], before[0])


def test_base_weights_constructor_argument():
    k = np.ones((2, 3), np.float32)
    b = np.zeros(3, np.float32)
    d = Dense(3, weights=[k, b])
    d(Input(shape=(2,)))
    np.testing.assert_array_equal(d.get_weights()[0], k)


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: plait.layers.LSTM(3), (4, 2)),
        (lambda: plait.layers.GRU(3, reset_after=False), (4, 2)),
        (lambda: plait.layers.Bidirectional(plait.layers.GRU(3)), (4, 2)),
        (lambda: plait.layers.ConvLSTM2D(2, 3, padding="same"), (2, 5, 5, 1)),
    ],
    ids=["lstm", "gru_v2", "bidirectional_gru", "conv_lstm2d"],
)
def test_base_weights_round_trip_in_a_model(make, shape):
    # Gate layouts live in the cell's table, two or three levels below the model.
    x = Input(shape=shape)
    model = plait.Model(x, Dense(2)(make()(x)))
    weights = model.get_weights()
    assert [w.shape for w in weights] == [
        w.shape for layer in model.layers for w in layer.get_weights()
    ]
    check_weights_round_trip(model, weights)


def test_base_count_params():
    d = Dense(3)
    d(Input(shape=(4,)))
    assert d.count_params() == 4 * 3 + 3


def test_base_count_params_unbuilt_error():
    with pytest.raises(
        ValueError, match=r"^Dense layer 'dc': count_params\(\) needs the layer built"
    ):
        Dense(2, name="dc").count_params()


# ---------------------------------------------------------------- construction
def test_base_unknown_kwarg_rejected():
    with pytest.raises(
        TypeError, match=r"Dense: unexpected keyword argument \['unitz'\]"
    ):
        Dense(2, unitz=3)


def test_base_keras2_input_kwargs_accepted():
    assert Dense(2, input_shape=(3,))._batch_input_shape == (None, 3)
    assert Dense(2, input_dim=5)._batch_input_shape == (None, 5)
    assert Dense(2, batch_input_shape=(4, 3))._batch_input_shape == (4, 3)
    assert Dense(2, input_shape=(3,), batch_size=8)._batch_input_shape == (8, 3)


def test_base_auto_names(fresh_names):
    assert [Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert Embedding(2, 2).name == "embedding"
    assert Dropout(0.1).name == "dropout"
    assert Scale().name == "scale"


def test_base_auto_name_per_class_counter(fresh_names):
    Dense(1)
    assert Dropout(0.1).name == "dropout"
    assert Dense(1).name == "dense_1"


@pytest.mark.parametrize("bad", ["a/b", "a.b"])
def test_base_name_rejects_separators(bad):
    with pytest.raises(ValueError, match=r"without '/' or '\.'"):
        Dense(1, name=bad)


def test_base_name_must_be_string():
    with pytest.raises(TypeError, match="non-empty str"):
        Dense(1, name=3)


def test_base_dense_rejects_nonpositive_units():
    with pytest.raises(
        ValueError, match=r"expected `units` to be a positive int, got units=0"
    ):
        Dense(0)


def test_base_layers_start_in_eval_mode():
    assert not Dense(2).training
    assert not Dropout(0.5).training


def test_base_training_none_follows_module_mode():
    layer = ModeProbe()
    x = torch.zeros(1, 2)
    assert layer(x).sum() == 0
    layer.train()
    assert layer(x).sum() == 2
    assert layer(x, training=False).sum() == 0
    layer.eval()
    assert layer(x, training=True).sum() == 2


def test_base_training_none_follows_model_train():
    x = Input(shape=(2,))
    model = plait.Model(x, ModeProbe()(x))
    data = torch.zeros(1, 2)
    assert model(data).sum() == 0
    model.train()
    assert model(data).sum() == 2
    model.eval()
    assert model(data).sum() == 0


def test_base_extra_repr_shows_config():
    d = Dense(3, activation="relu", name="rep")
    assert "units=3" in repr(d)
    assert "activation='relu'" in repr(d)


def test_base_to_device_and_dtype_moves_weights():
    d = Dense(2)
    d(torch.ones(1, 3))
    d.to(torch.float64)
    assert d.kernel.dtype == torch.float64
    assert d(torch.ones(1, 3, dtype=torch.float64)).dtype == torch.float64


# ---------------------------------------------------------------- input_spec
def test_base_input_spec_last_axis_error_message():
    d = Dense(4, name="dense_2")
    d(Input(shape=(64,)))
    with pytest.raises(
        ValueError,
        match=r"^Dense layer 'dense_2': expected input last axis 64 \(from its first "
        r"call\), got shape \(None, 32\)\.$",
    ):
        d(Input(shape=(32,)))


def test_base_input_spec_checked_on_eager_call():
    d = Dense(4, name="de")
    d(torch.ones(1, 3))
    with pytest.raises(
        ValueError, match=r"^Dense layer 'de': expected input last axis 3"
    ):
        d(torch.ones(1, 5))


def test_base_input_spec_min_ndim_message():
    with pytest.raises(
        ValueError,
        match=r"^Dense layer 'dn': expected input with at least 2 dims, got shape \(None,\)\.$",
    ):
        Dense(2, name="dn")(Input(batch_shape=(None,)))


def test_base_input_spec_ndim_message():
    with pytest.raises(
        ValueError,
        match=r"^RepeatVector layer 'rv': expected input with 2 dims, got shape "
        r"\(None, 3, 4\)\.$",
    ):
        plait.layers.RepeatVector(2, name="rv")(Input(shape=(3, 4)))


def test_base_input_spec_wrong_input_count_message():
    from plait.layers.input_spec import InputSpec

    layer = Layer(name="two")
    layer.input_spec = [InputSpec(ndim=2), InputSpec(ndim=2)]
    with pytest.raises(
        ValueError, match=r"^Layer layer 'two': expected 2 input tensors, got 1"
    ):
        layer(Input(shape=(3,)))


@pytest.mark.parametrize(
    ("call", "got"),
    [
        (lambda layer: layer(None), "None"),
        (lambda layer: layer(inputs=None), "None"),
        (lambda layer: layer(), "no inputs"),
    ],
    ids=["none", "inputs_none", "nothing"],
)
def test_base_call_names_missing_inputs(call, got):
    with pytest.raises(
        TypeError,
        match=r"^Dense layer 'd': expected `inputs` \(the first argument\) to be a "
        rf"SymbolicTensor \(from plait.Input\(\) or another layer\) or a tensor, got {got}\.$",
    ):
        call(Dense(3, name="d"))


def test_base_error_inside_user_call_is_prefixed_symbolic():
    class Broken(Layer):
        def call(self, inputs):
            raise ValueError("boom")

    with pytest.raises(
        ValueError, match=r"^Broken layer 'broken\w*' on input shape \(None, 3\): boom$"
    ):
        Broken()(Input(shape=(3,)))


def test_base_error_inside_user_call_is_prefixed_eager():
    class Broken(Layer):
        def call(self, inputs):
            raise ValueError("boom")

    with pytest.raises(
        ValueError, match=r"^Broken layer 'broken\w*' on input shape \(2, 3\): boom$"
    ):
        Broken()(torch.ones(2, 3))


def test_base_error_prefix_keeps_cause():
    class Broken(Layer):
        def call(self, inputs):
            raise TypeError("bad type")

    with pytest.raises(TypeError) as info:
        Broken()(Input(shape=(3,)))
    assert isinstance(info.value.__cause__, TypeError)
    assert str(info.value.__cause__) == "bad type"


def test_base_nested_layer_error_prefixed_once():
    class Inner(Layer):
        def call(self, inputs):
            raise ValueError("deep")

    class Outer(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = Inner(name="in1")

        def call(self, inputs):
            return self.inner(inputs)

    with pytest.raises(ValueError, match="deep") as info:
        Outer(name="out1")(torch.ones(1, 2))
    assert str(info.value).count("layer '") == 1


# ---------------------------------------------------------------- sub-layers
def test_base_sublayers_tracked_as_modules():
    class Block(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first = Dense(3)
            self.rest = [Dense(3), Dense(2)]

        def call(self, inputs):
            x = self.first(inputs)
            for layer in self.rest:
                x = layer(x)
            return x

    block = Block()
    x = Input(shape=(4,))
    y = block(x)
    assert y.shape == (None, 2)
    assert len(block.weights) == 6
    assert isinstance(block.rest, torch.nn.ModuleList)
    model = plait.Model(x, y)
    assert len(list(model.parameters())) == 6
    block.trainable = False
    assert model.trainable_weights == []


# ---------------------------------------------------------------- node API
def test_node_api_single_node():
    x = Input(shape=(3,), name="nx")
    d = Dense(2)
    y = d(x)
    assert d.input is x
    assert d.output is y
    assert d.input_shape == (None, 3)
    assert d.output_shape == (None, 2)
    assert d.input_mask is None
    assert d.output_mask is None
    assert d.get_input_at(0) is x
    assert d.get_output_at(0) is y
    assert d.get_input_shape_at(0) == (None, 3)
    assert d.get_output_shape_at(0) == (None, 2)
    assert d.get_input_mask_at(0) is None
    assert d.get_output_mask_at(0) is None
    assert len(d.inbound_nodes) == 1


def test_node_api_multiple_nodes_attribute_error():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    d = Dense(2, name="shared_d")
    ya, yb = d(a), d(b)
    for attr in ("input", "output", "input_mask", "output_mask"):
        with pytest.raises(AttributeError, match=rf"get_{attr}_at\(node_index\)"):
            _ = getattr(d, attr)
    with pytest.raises(
        AttributeError,
        match=r"Layer 'shared_d' has multiple inbound nodes.*get_output_at\(node_index\)",
    ):
        _ = d.output
    assert d.get_input_at(0) is a
    assert d.get_input_at(1) is b
    assert d.get_output_at(0) is ya
    assert d.get_output_at(1) is yb


def test_node_api_multiple_nodes_same_shape_is_defined():
    d = Dense(2)
    d(Input(shape=(3,)))
    d(Input(shape=(3,)))
    assert d.input_shape == (None, 3)
    assert d.output_shape == (None, 2)


def test_node_api_multiple_nodes_different_shapes_error():
    layer = plait.layers.Flatten(name="fl")
    layer(Input(shape=(2, 3)))
    layer(Input(shape=(4, 3)))
    with pytest.raises(AttributeError, match=r"get_input_shape_at\(node_index\)"):
        _ = layer.input_shape
    with pytest.raises(AttributeError, match=r"get_output_shape_at\(node_index\)"):
        _ = layer.output_shape
    assert layer.get_input_shape_at(1) == (None, 4, 3)
    assert layer.get_output_shape_at(0) == (None, 6)


def test_node_api_never_called_runtime_error():
    d = Dense(2, name="lonely")
    for attr in (
        "input",
        "output",
        "input_shape",
        "output_shape",
        "input_mask",
        "output_mask",
    ):
        with pytest.raises(RuntimeError, match=r"Layer 'lonely' has never been called"):
            _ = getattr(d, attr)
    with pytest.raises(RuntimeError, match="never been called"):
        d.get_output_at(0)


def test_node_api_eager_calls_add_no_node():
    d = Dense(2)
    d(torch.ones(1, 3))
    with pytest.raises(RuntimeError, match="never been called"):
        _ = d.output


def test_node_api_bad_node_index_value_error():
    d = Dense(2, name="di")
    d(Input(shape=(3,)))
    for index in (1, -1, "0"):
        with pytest.raises(ValueError, match=r"Layer 'di': asked for output at node"):
            d.get_output_at(index)
    with pytest.raises(ValueError, match="only 1 inbound node"):
        d.get_input_shape_at(3)


def test_node_api_masks():
    ids = Input(shape=(4,), dtype="int32")
    emb = Embedding(5, 2, mask_zero=True)
    e = emb(ids)
    d = Dense(3)
    y = d(e)
    assert emb.input_mask is None
    assert emb.output_mask is e._mask
    assert d.input_mask is e._mask
    assert d.output_mask is y._mask
    assert d.get_output_mask_at(0).shape == (None, 4)


def test_node_api_multi_input_layer():
    a, b = Input(shape=(3,)), Input(shape=(2,))
    cat = plait.layers.Concatenate()
    out = cat([a, b])
    assert cat.input == [a, b]
    assert cat.input_shape == [(None, 3), (None, 2)]
    assert cat.output is out


def test_node_api_model_as_layer():
    x = Input(shape=(3,))
    inner = plait.Model(x, Dense(2)(x))
    assert inner.input is x
    assert inner.output_shape == (None, 2)
    y = inner(Input(shape=(3,)))
    assert inner.get_output_at(1) is y
    assert inner.get_output_shape_at(1) == (None, 2)


def test_node_api_conv2d_guide_example():
    a = Input(shape=(32, 32, 3))
    b = Input(shape=(64, 64, 3))
    conv = Conv2D(16, (3, 3), padding="same")
    conv(a)
    conv(b)
    assert conv.get_input_shape_at(0) == (None, 32, 32, 3)
    assert conv.get_input_shape_at(1) == (None, 64, 64, 3)
    assert conv.get_output_shape_at(0) == (None, 32, 32, 16)
    assert conv.get_output_shape_at(1) == (None, 64, 64, 16)
    with pytest.raises(AttributeError, match=r"get_input_shape_at\(node_index\)"):
        _ = conv.input_shape


def test_node_api_input_layer_input_is_its_output():
    x = Input(shape=(3,), name="nx0")
    h = Dense(4, name="h")(x)
    model = plait.Model(x, Dense(2, name="o")(h))
    first = model.layers[0]
    assert first.input is x
    assert first.output is x
    assert first.input_shape == (None, 3)
    assert first.get_input_at(0) is x
    assert first.input_mask is None
    # The Keras idiom: a feature extractor from layers[0].input.
    features = plait.Model(model.layers[0].input, model.layers[-2].output)
    assert features.output_shape == (None, 4)


def test_a_layer_alone_follows_its_calls_training_default_until_a_mode_is_set():
    x = torch.rand(8, 6, 6, 3)
    drop = plait.layers.Dropout(0.5)  # `training=None`: inference, as Keras
    assert torch.equal(drop(x), x)
    flip = plait.layers.RandomFlip(seed=0)  # `training=True`: augments, as Keras
    assert not torch.equal(flip(x), x)

    class Augmented(plait.Model):  # a sublayer called without `training=`
        def __init__(self):
            super().__init__()
            self.flip = plait.layers.RandomFlip(seed=0)

        def call(self, inputs):
            return self.flip(inputs)

    fresh = Augmented()
    np.testing.assert_array_equal(fresh.predict(x.numpy(), verbose=0), x.numpy())
    model = Augmented()
    assert not torch.equal(model(x), x)  # nothing set: the default
    model.eval()  # predict/evaluate, or the user
    assert torch.equal(model(x), x)
    np.testing.assert_array_equal(model.predict(x.numpy(), verbose=0), x.numpy())
    model.train()
    assert not torch.equal(model(x), x)

    class Flip(Layer):  # in a functional model: predict runs its program
        def __init__(self):
            super().__init__()
            self.flip = plait.layers.RandomFlip(seed=0)

        def call(self, inputs):
            return self.flip(inputs)

    inputs = Input((6, 6, 3))
    functional = plait.Model(inputs, Flip()(inputs))
    np.testing.assert_array_equal(functional.predict(x.numpy(), verbose=0), x.numpy())


def test_training_given_to_a_call_reaches_the_layers_its_call_calls():
    class Block(Layer):  # passes no `training` on, as Keras users write it
        def __init__(self):
            super().__init__()
            self.drop = Dropout(0.5)

        def call(self, inputs):
            return self.drop(inputs)

    class Net(plait.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.kept = Dropout(0.5)

        def call(self, inputs):
            return self.block(inputs) + self.kept(inputs, training=False)

    x = torch.ones(64, 32)
    net = Net()
    dropped = net(x, training=True)  # Keras's call context: the Block drops
    assert set(dropped.unique().tolist()) == {1.0, 3.0}  # 0 or 2, plus the kept 1
    assert torch.equal(net(x), 2 * x)  # nothing given: the modules' mode (eval)
    assert torch.equal(net(x, training=False), 2 * x)

    class Boom(Layer):
        def call(self, inputs):
            raise ValueError("boom")

    class Outer(Layer):
        def __init__(self):
            super().__init__()
            self.boom = Boom()

        def call(self, inputs):
            return self.boom(inputs)

    with pytest.raises(ValueError, match="boom"):  # the context ends with the call
        Outer()(x, training=True)
    assert torch.equal(Dropout(0.5)(x), x)


def test_first_call_argument_by_its_own_name_eager_and_symbolic():
    # Keras's call(query=..., value=...): the first argument by its name.
    class Twice(plait.layers.Layer):
        def call(self, a):
            return a * 2

    x = torch.ones(2, 3)
    assert torch.equal(Twice()(a=x), x * 2)
    assert Twice()(a=plait.Input((3,))).shape == (None, 3)
    mha = plait.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    q, v = plait.Input((3, 8)), plait.Input((5, 8))
    model = plait.Model([q, v], mha(query=q, value=v))
    qs, vs = torch.rand(2, 3, 8), torch.rand(2, 5, 8)
    torch.testing.assert_close(model([qs, vs]), mha(qs, vs))
    torch.testing.assert_close(mha(query=qs, value=vs), mha(qs, vs))


def test_compute_output_shape_with_one_shape_per_call_argument():
    # Keras's form for a call of several tensors (keras.io's captcha CTCLayer).
    class Pick(Layer):
        def call(self, a, b):
            return b

        def compute_output_shape(self, a_shape, b_shape):
            return b_shape

    a, b = Input((2,)), Input((5,))
    assert Pick()(a, b).shape == (None, 5)
    assert Pick()(a, b=Input((7,))).shape == (None, 7)
    model = plait.Model([a, b], Pick()(a, b))
    x = [torch.zeros(1, 2), torch.ones(1, 5)]
    assert torch.equal(model(x), x[1])
