"""Tests for plait.utils.registry: names, aliases, Keras's get rules, configs."""

import pytest

from plait.utils.registry import Registry


class Shape:
    def __init__(self, sides=3):
        self.sides = sides

    def get_config(self):
        return {"sides": self.sides}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _shapes(**options):
    registry = Registry("shape", Shape, **options)

    @registry.register("tri", "three")
    class Triangle(Shape):
        pass

    registry.add(Shape, named=False)  # configs only
    return registry, Triangle


def test_registry_names_and_aliases():
    registry, triangle = _shapes()
    for name in ("Triangle", "tri", "three"):
        assert type(registry.get(name)) is triangle
    assert registry.name_of(triangle) == "Triangle"
    assert registry.get_class("Shape") is Shape
    with pytest.raises(
        ValueError,
        match=r"^Unknown shape 'Shape'; expected one of \['Triangle', 'three', 'tri'\]\.$",
    ):
        registry.get("Shape")  # registered for configs only


def test_registry_get_follows_keras_rules():
    registry, triangle = _shapes()
    shape = Shape(4)
    assert registry.get(None) is None
    assert registry.get(shape) is shape
    assert type(registry.get(triangle)) is triangle
    built = registry.get({"class_name": "Triangle", "config": {"sides": 5}})
    assert type(built) is triangle
    assert built.sides == 5
    with pytest.raises(
        TypeError,
        match=r"^Expected a shape name, config dict, class or callable, got int 3\.$",
    ):
        registry.get(3)
    with pytest.raises(TypeError, match=r"got type <class 'int'>"):
        registry.get(int)  # a class, but not a Shape


def test_registry_without_base_passes_callables_and_rejects_dicts():
    registry = Registry("activation")
    registry.add(abs, "absolute")
    assert registry.get("absolute") is abs
    assert registry.get(round) is round
    with pytest.raises(
        TypeError, match=r"^Expected an activation name or callable, got dict \{\}\.$"
    ):
        registry.get({})


def test_registry_make_wrap_and_ignore_case():
    registry = Registry(
        "shape",
        Shape,
        make=lambda name, cls: cls(sides=len(name)),
        wrap=lambda fn: Shape(fn()),
        ignore_case=True,
    )
    registry.add(Shape, "polygon")
    assert registry.get("POLYGON").sides == 7
    assert registry.get(lambda: 9).sides == 9
    assert registry.get_class("shape") is Shape


def test_registry_deserialize_never_imports_and_prefers_custom_objects():
    registry, _triangle = _shapes()

    class Square(Shape):
        pass

    with pytest.raises(
        ValueError,
        match=r"^Unknown shape class 'os\.system'; expected one of \['Shape', "
        r"'Triangle'\] or a Shape subclass passed in custom_objects\.$",
    ):
        registry.deserialize({"class_name": "os.system", "config": {}})
    custom = {"Square": Square}
    assert type(registry.deserialize({"class_name": "Square"}, custom)) is Square
    assert type(registry.deserialize("sq", {"sq": Square})) is Square
    with pytest.raises(TypeError, match=r"^deserialize: expected a name or a"):
        registry.deserialize(["Triangle"])


def test_registry_serialize():
    registry, triangle = _shapes()
    assert registry.serialize(None) is None
    assert registry.serialize(triangle(4)) == {
        "class_name": "Triangle",
        "config": {"sides": 4},
    }

    class Custom(Shape):
        _plait_registered_name = "Custom>Custom"

    assert registry.serialize(Custom()) == "Custom>Custom"
    with pytest.raises(
        ValueError, match=r"^cannot serialize shape .*neither a built-in"
    ):
        registry.serialize(type("Other", (Shape,), {})())
    loose, _ = _shapes(any_subclass=True)
    assert loose.serialize(Custom())["class_name"] == "Custom"
