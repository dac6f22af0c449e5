"""A fast yes/no check of a case against the bundled JSON Schema.

jsonschema's validator walks the whole schema for every case and costs a few milliseconds per
case: most of the time of screening a directory. This module compiles the schema once into nested
closures that only answer "valid?". It understands the keywords the case schema uses; on any other
keyword it compiles to "don't know" (False). False never refuses a case: the loader then runs
jsonschema, which decides and words the error. True must mean that jsonschema accepts the case,
which a differential test checks on the examples and on generated variants.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

Check = Callable[[Any], bool]


class _Unsupported(Exception):
    pass


def _never(_: Any) -> bool:
    return False


def _always(_: Any) -> bool:
    return True


def _is_number(x: Any) -> bool:
    return (type(x) is int) or (type(x) is Decimal)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


_VALID_DATES: set[str] = set()


def _is_date(x: str) -> bool:
    if x in _VALID_DATES:  # the same dates recur across cases
        return True
    if _DATE.fullmatch(x) is None:
        return False
    try:
        date.fromisoformat(x)
    except ValueError:
        return False
    if len(_VALID_DATES) > 100_000:
        _VALID_DATES.clear()
    _VALID_DATES.add(x)
    return True


_TYPES: dict[str, Check] = {
    "object": lambda x: type(x) is dict,
    "array": lambda x: type(x) is list,
    "string": lambda x: type(x) is str,
    "boolean": lambda x: type(x) is bool,
    "integer": lambda x: type(x) is int,
    "number": _is_number,
    "null": lambda x: x is None,
}

_KNOWN = frozenset(
    (
        "$schema",
        "$id",
        "$ref",
        "$defs",
        "title",
        "description",
        "type",
        "enum",
        "const",
        "required",
        "properties",
        "additionalProperties",
        "allOf",
        "anyOf",
        "not",
        "if",
        "then",
        "else",
        "dependentSchemas",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
    )
)


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}
        self.compiling: set[str] = set()

    def ref(self, pointer: str) -> Check:
        check = self.refs.get(pointer)
        if check is None:
            if not pointer.startswith("#/$defs/") or "/" in pointer[len("#/$defs/") :]:
                raise _Unsupported(pointer)
            if pointer in self.compiling:
                # A recursive reference: bound late, once the definition is compiled.
                return lambda x: self.refs[pointer](x)
            self.compiling.add(pointer)
            check = self.refs[pointer] = self.compile(self.root["$defs"][pointer[len("#/$defs/") :]])
        return check

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        unknown = set(schema) - _KNOWN
        if unknown:
            raise _Unsupported(", ".join(sorted(unknown)))
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        if "type" in schema:
            checks.append(self._type(schema["type"]))
        if "enum" in schema:
            checks.append(self._enum(schema["enum"]))
        if "const" in schema:
            checks.append(self._enum([schema["const"]]))
        checks.extend(self._object(schema))
        checks.extend(self._array(schema))
        checks.extend(self._string(schema))
        checks.extend(self._number(schema))
        if "allOf" in schema:
            checks.extend(self._all_of(schema["allOf"]))
        if "anyOf" in schema:
            alternatives = [self.compile(s) for s in schema["anyOf"]]
            checks.append(lambda x: any(a(x) for a in alternatives))
        if "not" in schema:
            negated = self.compile(schema["not"])
            checks.append(lambda x: not negated(x))
        if "if" in schema:
            cond = self.compile(schema["if"])
            then = self.compile(schema.get("then", True))
            other = self.compile(schema.get("else", True))
            checks.append(lambda x: then(x) if cond(x) else other(x))
        return _all(checks)

    def _all_of(self, subs: list[Any]) -> list[Check]:
        """allOf; its `if <key> is one of …, then …` members become one lookup on the key's value."""
        checks: list[Check] = []
        tables: dict[str, dict[str, list[Check]]] = {}
        for sub in subs:
            found = _discriminated(sub)
            if found is None:
                checks.append(self.compile(sub))
                continue
            key, values = found
            then = self.compile(sub["then"])
            table = tables.setdefault(key, {})
            for value in values:
                table.setdefault(value, []).append(then)
        for key, table in tables.items():
            every = [c for cs in table.values() for c in cs]
            checks.append(_dispatch(key, {v: tuple(cs) for v, cs in table.items()}, tuple(every)))
        return checks

    def _type(self, kind: str | list[str]) -> Check:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        tests = [_TYPES[k] for k in kinds]
        if len(tests) == 1:
            return tests[0]
        return lambda x: any(t(x) for t in tests)

    def _enum(self, values: list[Any]) -> Check:
        if all(type(v) is str for v in values):
            allowed = frozenset(values)
            return lambda x: type(x) is str and x in allowed
        if all(type(v) is bool for v in values):
            flags = tuple(values)
            return lambda x: type(x) is bool and x in flags
        raise _Unsupported(f"enum {values!r}")

    def _object(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        required = tuple(schema.get("required", ()))
        props = {k: self.compile(v) for k, v in schema.get("properties", {}).items()}
        closed = schema.get("additionalProperties", True)
        if closed not in (True, False):
            raise _Unsupported("additionalProperties schema")
        dependent = {k: self.compile(v) for k, v in schema.get("dependentSchemas", {}).items()}
        if not (required or props or closed is False or dependent):
            return checks
        allowed = frozenset(props)

        def check(x: Any) -> bool:
            if type(x) is not dict:
                return True  # object keywords ignore other types
            for key in required:
                if key not in x:
                    return False
            for key, value in x.items():
                prop = props.get(key)
                if prop is None:
                    if closed is False and key not in allowed:
                        return False
                elif not prop(value):
                    return False
            for key, sub in dependent.items():
                if key in x and not sub(x):
                    return False
            return True

        checks.append(check)
        return checks

    def _array(self, schema: dict[str, Any]) -> list[Check]:
        if not any(k in schema for k in ("items", "minItems", "maxItems", "uniqueItems")):
            return []
        items = self.compile(schema["items"]) if "items" in schema else _always
        lo = schema.get("minItems", 0)
        hi = schema.get("maxItems")
        unique = schema.get("uniqueItems", False)

        def check(x: Any) -> bool:
            if type(x) is not list:
                return True
            n = len(x)
            if n < lo or (hi is not None and n > hi):
                return False
            if unique:
                # Strings only: jsonschema's equality of numbers and booleans is subtler.
                if not all(type(v) is str for v in x) or len(set(x)) != n:
                    return False
            return all(items(v) for v in x)

        return [check]

    def _string(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "pattern" in schema:
            search = re.compile(schema["pattern"]).search
            checks.append(lambda x: type(x) is not str or search(x) is not None)
        if "format" in schema:
            if schema["format"] != "date":
                raise _Unsupported(f"format {schema['format']}")
            checks.append(lambda x: type(x) is not str or _is_date(x))
        lo = schema.get("minLength")
        hi = schema.get("maxLength")
        if lo is not None or hi is not None:
            lo_n = lo or 0
            checks.append(lambda x: type(x) is not str or (lo_n <= len(x) and (hi is None or len(x) <= hi)))
        return checks

    def _number(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if key in schema:
                bound = schema[key]
                if not _is_number(bound):
                    raise _Unsupported(f"{key} {bound!r}")
                checks.append(_bound_check(key, bound))
        return checks


def _bound_check(key: str, b: int | Decimal) -> Check:
    if key == "minimum":
        return lambda x: not _is_number(x) or x >= b
    if key == "maximum":
        return lambda x: not _is_number(x) or x <= b
    if key == "exclusiveMinimum":
        return lambda x: not _is_number(x) or x > b
    return lambda x: not _is_number(x) or x < b


def _discriminated(sub: Any) -> tuple[str, list[str]] | None:
    """(key, values) for `{"if": {"properties": {key: {enum|const}}, "required": [key]}, "then": …}`."""
    if not isinstance(sub, dict) or set(sub) != {"if", "then"}:
        return None
    cond = sub["if"]
    if not isinstance(cond, dict) or set(cond) != {"properties", "required"}:
        return None
    props, required = cond["properties"], cond["required"]
    if not isinstance(props, dict) or len(props) != 1 or list(props) != required:
        return None
    (key,) = props
    test = props[key]
    if not isinstance(test, dict) or len(test) != 1:
        return None
    if "const" in test:
        values = [test["const"]]
    elif "enum" in test:
        values = test["enum"]
    else:
        return None
    if not all(type(v) is str for v in values):
        return None
    return key, values


def _dispatch(key: str, table: dict[str, tuple[Check, ...]], every: tuple[Check, ...]) -> Check:
    def check(x: Any) -> bool:
        if type(x) is not dict:
            # The `if` holds vacuously for a non-object: every `then` applies.
            return all(c(x) for c in every)
        value = x.get(key)
        if type(value) is not str:
            return True  # absent or not a string: no `if` holds
        for c in table.get(value, ()):
            if not c(x):
                return False
        return True

    return check


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda x: a(x) and b(x)
    frozen = tuple(checks)

    def check(x: Any) -> bool:
        for c in frozen:
            if not c(x):
                return False
        return True

    return check


def compile_schema(schema: dict[str, Any]) -> Check:
    """A yes/no validator of `schema`, or one that always answers "don't know" (False)."""
    try:
        return _Compiler(schema).compile(schema)
    except (_Unsupported, KeyError, TypeError, re.error):
        return _never


_CHECK: Check | None = None


def fast_valid(data: Any) -> bool:
    """True only if `data` is valid against the bundled schema; False means "ask jsonschema"."""
    global _CHECK
    if _CHECK is None:
        from .loader import schema

        _CHECK = compile_schema(schema())
    return _CHECK(data)
