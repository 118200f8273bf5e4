"""Repository gates: file-size caps, layering, and no code-execution primitives."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "plait"
SOURCES = sorted(PACKAGE.rglob("*.py"))
HARD_CAP = 800  # lines per file, docstrings included (STYLE.md section 1)


def _rel(path):
    return str(path.relative_to(PACKAGE.parent))


def test_repo_has_sources():
    assert len(SOURCES) > 20


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_repo_file_size_cap(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= HARD_CAP, f"{_rel(path)} has {n} lines; the hard cap is {HARD_CAP}"


# `plait/__init__.py` imports the whole public API (models, hence training), so the
# layering is checked on each package's own imports: the `plait` package object is
# created without running its __init__, then only the package under test is loaded.
_LOAD_ALONE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location(
    "plait", {init!r}, submodule_search_locations=[{root!r}]
)
sys.modules["plait"] = importlib.util.module_from_spec(spec)
def loaded(prefix):
    return sorted(m for m in sys.modules if m.startswith(prefix))
import plait.graph
print("graph", *loaded("plait.training"), *loaded("plait.layers"))
import plait.layers
print("layers", *loaded("plait.training"), *loaded("plait.models"))
"""


def test_repo_layering():
    """plait.graph loads neither training nor layers; plait.layers no models."""
    code = _LOAD_ALONE.format(init=str(PACKAGE / "__init__.py"), root=str(PACKAGE))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[:2] == ["graph", "layers"], out.stdout


# Builtin eval/exec calls (not `.eval()` methods) and pickle imports.
_BANNED = re.compile(
    r"^\s*(import pickle|from pickle|import dill)|(?<![\w.])(eval|exec)\(", re.M
)


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_repo_no_pickle_eval_exec(path):
    text = path.read_text(encoding="utf-8")
    found = [m.group(0).strip() for m in _BANNED.finditer(text)]
    assert not found, f"{_rel(path)} uses {found}"
