"""The custom-object registry under Keras's `keras.utils` names."""

import pytest

import plait
from plait.utils import custom_objects as co

pytestmark = pytest.mark.usefixtures("clean_registry")


def test_keras_utils_names_are_the_saving_ones():
    assert (
        plait.utils.register_keras_serializable
        is plait.saving.register_keras_serializable
    )
    assert plait.utils.get_custom_objects() is plait.saving.get_custom_objects()
    assert plait.utils.custom_object_scope is plait.saving.custom_object_scope


def test_registered_function_is_found_by_name_and_in_scopes():
    @plait.utils.register_keras_serializable(package="demo")
    def triple(x):
        return 3 * x

    assert plait.utils.get_registered_name(triple) == "demo>triple"
    assert plait.utils.get_registered_object("demo>triple") is triple
    assert plait.utils.get_custom_objects()["demo>triple"] is triple

    def swish2(x):
        return x

    assert plait.utils.get_registered_object("swish2") is None
    with plait.utils.CustomObjectScope({"swish2": swish2}):
        assert plait.utils.get_registered_object("swish2") is swish2
    assert plait.utils.get_registered_object("swish2") is None


def test_registration_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"`package` may not contain '>'"):
        co.register_serializable(package="a>b")
    with pytest.raises(ValueError, match=r"a lambda has no name"):
        co.register_serializable()(lambda x: x)
