"""Parse a file's JSON member and bound its nesting before anything walks it.

Configs are walked by recursive code (deserialization, Keras config import);
a crafted file nested a few hundred levels deep would end in a RecursionError
deep inside it. Real configs are shallow: a model nested in a model adds four
levels, so `MAX_JSON_DEPTH` leaves room for about twenty levels of nesting.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "check_json_depth", "loads"]

MAX_JSON_DEPTH = 100


def check_json_depth(value: Any, where: str) -> None:
    """Raise ValueError if `value` nests lists/dicts deeper than `MAX_JSON_DEPTH`.

    Iterative, so it cannot itself run out of stack.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(
                f"{where}: nested more than {MAX_JSON_DEPTH} levels deep; a model "
                "config is not (refused before it is read)."
            )
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def loads(text: str | bytes, where: str) -> Any:
    """`json.loads` that reports bad or over-deep JSON as ValueError naming `where`.

    Example:
        >>> loads('{"a": [1, 2]}', "config")
        {'a': [1, 2]}
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(
            f"{where} is not valid JSON ({type(err).__name__}: {str(err)[:200]})."
        ) from err
    check_json_depth(value, where)
    return value
