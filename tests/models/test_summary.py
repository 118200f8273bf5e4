"""model.summary(): names, types, shapes, params, connections and totals."""

import plait
from plait.layers import Dense, Input, concatenate


def _text(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines)


def test_summary_functional_table():
    a = Input(shape=(4,), name="in_a")
    b = Input(shape=(2,), name="in_b")
    h = Dense(3, name="hidden")(a)
    out = Dense(1, name="head")(concatenate([h, b], name="join"))
    model = plait.Model([a, b], out, name="two_towers")
    text = _text(model)
    assert 'Model: "two_towers"' in text
    for fragment in (
        "in_a (InputLayer)",
        "hidden (Dense)",
        "join (Concatenate)",
        "head (Dense)",
        "(None, 4)",
        "(None, 3)",
        "(None, 5)",
        "(None, 1)",
        "hidden[0][0]",
        "in_b[0][0]",
    ):
        assert fragment in text, fragment
    assert " 15 " in text  # hidden: 4 * 3 + 3
    assert " 6 " in text  # head: 5 * 1 + 1
    assert "Total params: 21 (84 B)" in text
    assert "Trainable params: 21" in text
    assert "Non-trainable params: 0" in text


def test_summary_counts_frozen_as_non_trainable():
    x = Input(shape=(4,))
    frozen = Dense(3, trainable=False)
    model = plait.Model(x, Dense(1)(frozen(x)))
    text = _text(model, show_trainable=True)
    assert "Total params: 19" in text
    assert "Trainable params: 4" in text
    assert "Non-trainable params: 15" in text


def test_summary_large_counts_use_thousands_separator():
    x = Input(shape=(784,))
    model = plait.Model(x, Dense(64)(x))
    assert "50,240" in _text(model)


def test_summary_nested_model_and_expand_nested():
    inner_in = Input(shape=(3,))
    inner = plait.Model(inner_in, Dense(2, name="inner_dense")(inner_in), name="inner")
    x = Input(shape=(3,))
    model = plait.Model(x, Dense(1, name="top")(inner(x)))
    text = _text(model)
    assert "inner (Functional)" in text
    assert "inner_dense" not in text
    assert "inner_dense (Dense)" in _text(model, expand_nested=True)


def test_summary_sequential_has_no_connections_column():
    model = plait.Sequential([Dense(2, input_shape=(3,), name="only")])
    text = _text(model)
    assert "only (Dense)" in text
    assert "Connected to" not in text
    assert "Total params: 8" in text


def test_summary_unbuilt_sublayer_params():
    model = plait.Sequential([Dense(2, input_shape=(3,))])
    assert "Param #" in _text(model)


def test_summary_prints_to_stdout(capsys):
    x = Input(shape=(3,))
    plait.Model(x, Dense(2, name="printed")(x), name="shown").summary()
    out = capsys.readouterr().out
    assert "shown" in out
    assert "printed (Dense)" in out
    assert "Total params: 8" in out


def test_summary_of_an_unbuilt_sequential_lists_what_it_knows():
    model = plait.Sequential(name="later")
    model.add(Dense(4, name="first"))
    model.add(Dense(2, name="second"))
    text = _text(model)
    assert 'Model: "later"' in text
    assert "first (Dense)" in text
    assert "second (Dense)" in text
    assert text.count("0 (unbuilt)") == 2
    assert "Total params: 0" in text
    model.build((None, 3))
    assert "Total params: 26" in _text(model)
