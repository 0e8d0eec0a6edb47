"""One base for result objects: `Result.to_dict` gives the JSON-ready dict that `save_json` writes.

A result is a frozen dataclass that subclasses `Result`. Its default ``to_dict(arrays=True)``
writes every dataclass field, in field order, converted with `to_jsonable` (arrays and tuples
become lists, non-finite floats the strings "inf", "-inf", "nan"); a field that is itself a
`Result` (or a tuple of them) is written with its own ``to_dict(arrays)``. Class attributes
(not fields) adjust it:

- ``_omit``: fields never written (eigenvectors, parameter pytrees, back references);
- ``_then``: fields or properties written after the other fields, in this order;
- ``_arrays``: fields or properties written last, and only when ``arrays=True``;
- ``_keys``: the full key order instead (fields or properties), when it is none of the above;
- ``_rename``: attribute name -> key in the dict.

A class whose dict has another structure (nested groups, flattened members, conditional keys)
overrides ``to_dict`` and may still use `jsonable` for its values.
"""

from __future__ import annotations

from dataclasses import fields
from types import MappingProxyType

from landscape.common.provenance import to_jsonable

__all__ = ["Result", "jsonable"]


def jsonable(value, arrays: bool = True):
    """`to_jsonable`, except that a `Result` (also inside a tuple or list) is written by its ``to_dict(arrays)``."""
    if isinstance(value, Result):
        return value.to_dict(arrays)
    if isinstance(value, (list, tuple)) and any(isinstance(v, Result) for v in value):
        return [jsonable(v, arrays) for v in value]
    return to_jsonable(value)


class Result:
    """Base of the frozen result dataclasses: a default ``to_dict`` and its hooks (module docstring)."""

    _omit: tuple[str, ...] = ()
    _then: tuple[str, ...] = ()
    _arrays: tuple[str, ...] = ()
    _keys: tuple[str, ...] | None = None
    _rename = MappingProxyType({})

    @classmethod
    def _dict_keys(cls, arrays: bool) -> tuple[str, ...]:
        if cls._keys is not None:
            keys = cls._keys
        else:
            skip = set(cls._omit) | set(cls._then) | set(cls._arrays)
            keys = tuple(f.name for f in fields(cls) if f.name not in skip) + cls._then
        return keys + cls._arrays if arrays else keys

    def to_dict(self, arrays: bool = True) -> dict:
        """The JSON-ready dict of this result (``arrays=False``: without the ``_arrays`` entries)."""
        return {self._rename.get(k, k): jsonable(getattr(self, k), arrays) for k in self._dict_keys(arrays)}
