"""The one-way order of plait's parts, checked on every import of every module.

docs/ARCHITECTURE.md draws the order; `ORDER` below is the same list, and a test
checks that the two agree. A part may import the parts below it, never those
above it, except for the deferred imports listed in `UPWARD` (each one inside a
function, each one documented). Imports inside functions count: a deferred
import hides a dependency from import time, not from the design.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "plait"

# Lowest first. A part is a subpackage or a top-level module of plait; "plait"
# is the package's own __init__ (the public facade), which sits on top.
ORDER = [
    "version",
    "types",
    "tree",
    "utils",
    "datasets",
    "distribution",
    "activations",
    "initializers",
    "regularizers",
    "constraints",
    "dtype_policies",
    "graph",
    "layers",
    "ops",
    "random",
    "backend",
    "preprocessing",
    "losses",
    "metrics",
    "optimizers",
    "mixed_precision",
    "callbacks",
    "training",
    "models",
    "saving",
    "wrappers",
    "applications",
    "examples",
    "plait",
]

# The two allowed upward imports, by part; each only inside a function.
UPWARD = {
    # SymbolicTensor's operators (`x + y`, `x[0]`) record op layers.
    ("graph", "layers"): "plait.graph.symbolic",
    # Model.save/save_weights/load_weights/to_json/export, and the guide's
    # `from plait.models import load_model`, reach the file code above.
    ("models", "saving"): "plait.models",
}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_module(name):
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path):
    """Every plait module that `path` imports, anywhere in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            subs = [f"{module}.{alias.name}" for alias in node.names]
            modules = [s for s in subs if _is_module(s)]
            # `from plait import layers` imports plait.layers, not the facade.
            found.update(modules if modules and len(modules) == len(subs) else [module])
            found.update(modules)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return {m for m in found if m == "plait" or m.startswith("plait.")}


def _part(module):
    parts = module.split(".")
    return "plait" if len(parts) == 1 else parts[1]


SOURCES = sorted(PACKAGE.rglob("*.py"))
EDGES = sorted(
    (_module_name(path), target) for path in SOURCES for target in _imports(path)
)


def test_architecture_every_part_is_placed():
    parts = {_part(_module_name(path)) for path in SOURCES}
    assert sorted(parts - set(ORDER)) == []


def _upward(source, target):
    rank = {part: i for i, part in enumerate(ORDER)}
    return rank[_part(target)] > rank[_part(source)]


def test_architecture_imports_go_one_way():
    bad = [
        f"{source} -> {target}"
        for source, target in EDGES
        if _upward(source, target) and (_part(source), _part(target)) not in UPWARD
    ]
    assert bad == [], "upward imports (see docs/ARCHITECTURE.md):\n" + "\n".join(bad)


def _top_level_imports(path):
    """The plait modules `path` imports outside any function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_architecture_upward_imports_are_deferred_and_few():
    assert len(UPWARD) <= 2
    for (low, high), where in UPWARD.items():
        used = [(s, t) for s, t in EDGES if (_part(s), _part(t)) == (low, high)]
        assert used, f"stale allowance {low} -> {high}"
        for source, target in used:
            assert source.startswith(where), f"{source} -> {target} is not allowed"
            path = ROOT.joinpath(*source.split("."))
            path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
            assert target not in _top_level_imports(path), (
                f"{source} imports {target} at module level; defer it"
            )


def test_architecture_doc_draws_the_same_order():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- order -->(.*?)<!-- /order -->", text, re.S)
    assert table is not None, "docs/ARCHITECTURE.md lost its order table"
    listed = re.findall(r"^\|\s*\d+\s*\|\s*`([\w.]+)`", table.group(1), re.M)
    # Rows run top-down; types and version share rank 0 (neither imports the other).
    assert listed == [p for p in reversed(ORDER) if p not in ("types", "version")] + [
        "types",
        "version",
    ]


@pytest.mark.parametrize("package", ["plait.graph", "plait.layers"])
def test_architecture_nothing_above_is_loaded(package):
    import subprocess
    import sys

    code = (
        f"import sys, {package}; print(*sorted(m for m in sys.modules "
        "if m.startswith(('plait.training', 'plait.models', 'plait.saving'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
