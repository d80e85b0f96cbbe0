"""The machinery behind `Scenario`: typed, unit-checked, documented parameters.

A scenario section is a frozen dataclass deriving from `Section`; each field is declared with
`param(...)` (default, unit, bounds, source, meaning) or a `dataclasses.field` whose
metadata is `table(...)` (a nested table). From
these declarations this module

- checks every value when a section is built (`Section.__post_init__`): bounds, choices, lengths;
- parses a TOML table into a section (`parse_section`), converting ``"15 min"`` to the field's
  canonical unit and refusing unknown keys, wrong types and wrong units;
- dumps a section back to TOML values (`dump_section`) and renders a commented file
  (`render_toml`), which is how ``scenarios/default.toml`` is produced.

Rules: the TOML key of a dimensional field is its Python name without the unit suffix
(``max_distance_m`` ↔ ``max_distance = "2 m"``); every error names the dotted key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import operator
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from notifica.sim._units import TIME_OF_DAY, UnitError, format_quantity, parse_quantity

__all__ = [
    "Invalid",
    "Section",
    "dump_section",
    "iter_params",
    "param",
    "parse_section",
    "render_toml",
    "table",
    "toml_key",
]

#: Python-name suffix of each canonical unit.
_SUFFIX = {
    "m": "_m",
    "s": "_s",
    "min": "_min",
    "d": "_d",
    "dB": "_db",
    "dBm": "_dbm",
    "yr": "_yr",
    "/min": "_per_min",
    "/m": "_per_m",
    "/d": "_per_d",
    TIME_OF_DAY: "_s",
}


class Invalid(ValueError):
    """A section value is out of range; `key` is the field's TOML key within its section."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def param(
    default: Any,
    *,
    source: str,
    doc: str,
    unit: str | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple[str, ...] | None = None,
    length: int | None = None,
) -> Any:
    """Declare a scenario parameter (see the module docstring)."""
    meta = {"unit": unit, "ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices}
    meta |= {"length": length, "source": source, "doc": doc}
    return dataclasses.field(default=default, metadata=meta)


def table(doc: str) -> dict[str, Any]:
    """Metadata of a nested table: ``field(default_factory=..., metadata=table("what it is"))``."""
    return {"section": True, "doc": doc}


def toml_key(field: dataclasses.Field[Any]) -> str:
    """The TOML key of a field: its name without the canonical-unit suffix."""
    unit = field.metadata.get("unit")
    if unit is None:
        return field.name
    suffix = _SUFFIX[unit]
    if not field.name.endswith(suffix):  # pragma: no cover - a declaration bug
        raise TypeError(f"{field.name}: a field in {unit!r} must end with {suffix!r}")
    return field.name[: -len(suffix)]


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


class Section:
    """Base of scenario sections: checks bounds and choices of every field when built."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            if field.metadata.get("section"):
                continue
            _check_value(field, getattr(self, field.name))
        self.check()

    def check(self) -> None:
        """Cross-field rules of the section; raise `Invalid` naming the key at fault."""


def _bounds_message(meta: Mapping[str, Any], number: float) -> str | None:
    if math.isnan(number):
        return "must be a number, got NaN"
    checks: tuple[tuple[str, Callable[[float, float], bool], str], ...] = (
        ("ge", operator.ge, "≥"),
        ("gt", operator.gt, ">"),
        ("le", operator.le, "≤"),
        ("lt", operator.lt, "<"),
    )
    for name, holds, words in checks:
        bound = meta.get(name)
        if bound is not None and not holds(number, bound):
            unit = meta.get("unit")
            return f"must be {words} {_show(bound, unit)}, got {_show(number, unit)}"
    return None


def _show(number: float, unit: str | None) -> str:
    return format_quantity(number, unit) if unit else f"{number:g}"


def _check_value(field: dataclasses.Field[Any], value: Any) -> None:
    key, meta = toml_key(field), field.metadata
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise Invalid(key, f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
    numbers: list[float] = []
    if isinstance(value, int | float) and not isinstance(value, bool):
        numbers = [value]
    elif isinstance(value, tuple) and value and isinstance(value[0], int | float):
        if meta.get("length") is not None and len(value) != meta["length"]:
            raise Invalid(key, f"must have {meta['length']} values, got {len(value)}")
        numbers = list(value)
    elif isinstance(value, tuple) and value and isinstance(value[0], tuple):
        numbers = [share for _, share in value]
    for number in numbers:
        message = _bounds_message(meta, float(number))
        if message:
            raise Invalid(key, message)


def parse_section(cls: type[Section], raw: object, path: str, base: Section | None = None) -> Any:
    """Build section `cls` from a TOML table; what `raw` omits comes from `base`.

    `base` defaults to ``cls()``; nested tables start from the base's own value of that field,
    so ``[contacts.household]`` with one key keeps every other household default.

    Raises:
        Invalid: with the full dotted key (``path`` + field) at fault.
    """
    if not isinstance(raw, Mapping):
        raise Invalid(path, f"expected a table, got {type(raw).__name__}")
    if base is None:
        base = cls()
    fields = {toml_key(f): f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields))
        raise Invalid(_join(path, unknown[0]), f"unknown key (known keys here: {known})")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        field = fields[key]
        full = _join(path, key)
        if field.metadata.get("section"):
            values[field.name] = parse_section(
                hints[field.name], value, full, getattr(base, field.name)
            )
        else:
            values[field.name] = _convert(hints[field.name], field, value, full)
    try:
        return dataclasses.replace(cast(Any, base), **values)
    except Invalid as exc:
        raise Invalid(_join(path, exc.key), exc.message) from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _convert(kind: Any, field: dataclasses.Field[Any], value: Any, key: str) -> Any:
    unit = field.metadata.get("unit")
    origin = typing.get_origin(kind)
    if kind is bool:
        if not isinstance(value, bool):
            raise Invalid(key, f"expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(key, f"expected a whole number, got {value!r}")
        return value
    if kind is float:
        return _number(value, unit, key)
    if kind is str:
        if not isinstance(value, str):
            raise Invalid(key, f"expected a string, got {value!r}")
        return value
    if kind is dt.date:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise Invalid(key, f"expected a date like 2020-10-05, got {value!r}")
        return value
    if origin is tuple and typing.get_args(kind)[-1] is Ellipsis:
        item = typing.get_args(kind)[0]
        if typing.get_origin(item) is tuple:  # a table of name = number
            if not isinstance(value, Mapping) or not value:
                raise Invalid(key, f"expected a non-empty table of name = number, got {value!r}")
            return tuple((str(k), _number(v, unit, f"{key}.{k}")) for k, v in value.items())
        if not isinstance(value, list):
            raise Invalid(key, f"expected a list of numbers, got {value!r}")
        if item is int:
            bad = [v for v in value if isinstance(v, bool) or not isinstance(v, int)]
            if bad:
                raise Invalid(key, f"expected a list of whole numbers, got {bad[0]!r} in it")
            return tuple(value)
        return tuple(_number(v, unit, key) for v in value)
    raise TypeError(f"{key}: unsupported parameter type {kind!r}")  # pragma: no cover


def _number(value: Any, unit: str | None, key: str) -> float:
    if unit is not None:
        try:
            return parse_quantity(value, unit)
        except UnitError as exc:
            raise Invalid(key, str(exc)) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(key, f"expected a number, got {value!r}")
    return float(value)


def dump_section(instance: Section) -> dict[str, Any]:
    """The TOML values of a section (the inverse of `parse_section`)."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(instance):  # type: ignore[arg-type]
        value = getattr(instance, field.name)
        unit = field.metadata.get("unit")
        if field.metadata.get("section"):
            out[toml_key(field)] = dump_section(value)
        elif isinstance(value, tuple) and value and isinstance(value[0], tuple):
            out[toml_key(field)] = {k: _dump_number(v, unit) for k, v in value}
        elif isinstance(value, tuple):
            out[toml_key(field)] = [_dump_number(v, unit) for v in value]
        elif isinstance(value, float):
            out[toml_key(field)] = _dump_number(value, unit)
        else:
            out[toml_key(field)] = value
    return out


def _dump_number(value: float, unit: str | None) -> Any:
    return format_quantity(value, unit) if unit else value


def iter_params(cls: type, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field[Any]]]:
    """Every leaf parameter of a section class, depth first, with its dotted key."""
    hints = _hints(cls)
    for field in dataclasses.fields(cls):
        key = _join(prefix, toml_key(field))
        if field.metadata.get("section"):
            yield from iter_params(hints[field.name], key)
        else:
            yield key, field


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def render_toml(instance: Section, header: str) -> str:
    """A complete, commented TOML file for `instance`: meaning, unit and source of each key."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _render(instance, "", lines)
    return "\n".join(lines).rstrip() + "\n"


def _render(instance: Section, path: str, lines: list[str]) -> None:
    leaves: list[dataclasses.Field[Any]] = []
    tables: list[dataclasses.Field[Any]] = []
    for field in dataclasses.fields(instance):  # type: ignore[arg-type]
        (tables if field.metadata.get("section") else leaves).append(field)
    dumped = dump_section(instance)
    if leaves and path:
        lines += ["", f"[{path}]"]
    for field in leaves:
        key = toml_key(field)
        lines.append(f"# {field.metadata['doc']}")
        lines.append(f"# source: {field.metadata['source']}")
        lines.append(f"{key} = {_toml_value(dumped[key])}")
    for field in tables:
        sub = _join(path, toml_key(field))
        if field.metadata.get("doc"):
            lines += ["", f"# --- {sub}: {field.metadata['doc']}"]
        _render(getattr(instance, field.name), sub, lines)
