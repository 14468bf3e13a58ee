"""Typed configs: YAML + ``key.sub=value`` overrides → validated dataclasses → saved with every run.

Every config in polyalign is a plain dataclass whose fields carry a one-line doc (the string literal
under the field) and whose ``validate()`` checks what types cannot. This module turns nested dicts
into such dataclasses with strict checking: an unknown key, a wrong type or a missing field is an
`InputError` naming the file and the field path (``sources[2].count``) and what was expected.
"""

from __future__ import annotations

import dataclasses
import re
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from polyalign.errors import InputError

__all__ = ["load_config", "from_dict", "to_dict", "save_config", "apply_overrides", "read_yaml"]

T = TypeVar("T")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, turning every failure into an `InputError` naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except UnicodeDecodeError as err:
        raise InputError(f"not valid UTF-8 (byte offset {err.start})", where=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", where=where) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping of fields at the top level, got {type(data).__name__}", where=str(path))
    return data


def apply_overrides(data: dict[str, Any], overrides: typing.Iterable[str]) -> dict[str, Any]:
    """Apply ``a.b=value`` / ``list.0.field=value`` overrides; values are parsed as YAML scalars/flows."""
    for item in overrides:
        if "=" not in item:
            raise InputError(f"override {item!r}: expected key.sub=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        parts = key.strip().split(".")
        node: Any = data
        for depth, part in enumerate(parts[:-1]):
            node = _step(node, part, ".".join(parts[: depth + 1]), create=True)
        last = parts[-1]
        if isinstance(node, list):
            node[_list_index(node, last, key)] = value
        else:
            node[last] = value
    return data


def _list_index(node: list, part: str, key: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise InputError(f"override {key!r}: {part!r} is not an index of a list of {len(node)}")
    return int(part)


def _step(node: Any, part: str, key: str, *, create: bool) -> Any:
    if isinstance(node, list):
        return node[_list_index(node, part, key)]
    if not isinstance(node, dict):
        raise InputError(f"override {key!r}: cannot descend into a {type(node).__name__}")
    if part not in node or node[part] is None:
        node[part] = {}
    return node[part]


def load_config(cls: type[T], path: str | Path | None = None, overrides: typing.Iterable[str] = (),
                *, base: dict[str, Any] | None = None) -> T:
    """Build a validated config of type ``cls`` from a YAML file and command-line overrides.

    Args:
        cls: the config dataclass.
        path: YAML recipe; None to start from ``base`` (or defaults) only.
        overrides: ``key.sub=value`` strings, applied after the file.
        base: a mapping to start from instead of (or under) the file's.
    """
    data = dict(base or {})
    if path is not None:
        data.update(read_yaml(path))
    data = apply_overrides(data, overrides)
    return from_dict(cls, data, where=str(path) if path is not None else "config")


def from_dict(cls: type[T], data: Any, *, where: str = "config", field_path: str = "") -> T:
    """Convert a nested mapping to the dataclass ``cls``, strictly, then run its ``validate()``."""
    obj = _convert(cls, data, where, field_path)
    _validate_tree(obj, where, field_path)
    return obj


def _validate_tree(obj: Any, where: str, field_path: str) -> None:
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            _validate_tree(getattr(obj, f.name), where, _join(field_path, f.name))
        if hasattr(obj, "validate"):
            try:
                obj.validate()
            except InputError as err:
                if err.where:
                    raise
                label = f"{where}: {field_path}" if field_path else where
                raise InputError(str(err), where=label) from None
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            _validate_tree(item, where, f"{field_path}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            _validate_tree(item, where, _join(field_path, str(key)))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp))
    if origin in (list, tuple):
        return f"a list of {_type_name(get_args(tp)[0])}" if get_args(tp) else "a list"
    if origin is dict:
        return "a mapping"
    if tp is type(None):
        return "null"
    if dataclasses.is_dataclass(tp):
        return "a mapping of fields"
    return getattr(tp, "__name__", str(tp))


def _fail(where: str, field_path: str, expected: str, value: Any) -> typing.NoReturn:
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    raise InputError(f"field {field_path or '(top level)'}: expected {expected}, got {shown}", where=where)


def _convert(tp: Any, value: Any, where: str, field_path: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(arg, value, where, field_path)
            except InputError as err:
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        _fail(where, field_path, _type_name(tp), value)
    if origin is Literal:
        if value not in get_args(tp):
            _fail(where, field_path, f"one of {_type_name(tp)}", value)
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            _fail(where, field_path, "a mapping of fields", value)
        return _convert_dataclass(tp, value, where, field_path)
    if origin in (list, tuple):
        (item_tp, *_) = get_args(tp) or (Any,)
        if not isinstance(value, list):
            _fail(where, field_path, _type_name(tp), value)
        return [_convert(item_tp, v, where, f"{field_path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        key_tp, val_tp = get_args(tp) or (str, Any)
        if not isinstance(value, dict):
            _fail(where, field_path, "a mapping", value)
        return {str(k): _convert(val_tp, v, where, _join(field_path, str(k))) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            _fail(where, field_path, "true or false", value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(where, field_path, "an integer", value)
        return value
    if tp is float:
        # PyYAML reads 1e-5 (no dot) as a string; accept it as the number everyone means.
        if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(where, field_path, "a number", value)
        return float(value)
    if tp is str:
        if isinstance(value, (dict, list)) or value is None:
            _fail(where, field_path, "a string", value)
        return str(value)
    return value


def _convert_dataclass(cls: Any, data: dict[str, Any], where: str, field_path: str) -> Any:
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(str(key), fields, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"unknown field {_join(field_path, str(key))!r}{hint}; "
                         f"expected one of: {', '.join(fields)}", where=where)
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], where, _join(field_path, name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InputError(f"missing required field {_join(field_path, name)!r}", where=where)
    return cls(**kwargs)


def to_dict(obj: Any) -> Any:
    """A config as plain YAML/JSON-ready data (dataclasses, lists and dicts, recursively)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def save_config(obj: Any, out_dir: str | Path, name: str = "config.yaml") -> Path:
    """Write the resolved config into a run's output directory and return the file's path."""
    path = Path(out_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(to_dict(obj), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
