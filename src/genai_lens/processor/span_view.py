"""A span's attributes as a key → value map over the protobuf message, shared by every stage.

Stages work on OTLP protobuf messages directly (no conversion to SDK objects). Looking a key up in a
protobuf ``repeated KeyValue`` is a linear scan, so the pipeline builds one :class:`SpanView` per span
and every stage reads and writes through it; the index is kept in step with the message. Scalar values
read through :meth:`SpanView.get` are cached too (several stages read the same model and usage keys); a
stage that edits values behind the view's back (the message itself) must say so with
:meth:`SpanView.forget_values`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

AttributeValue = str | bool | int | float | bytes | list[Any] | dict[str, Any] | None


def any_to_python(value: AnyValue) -> AttributeValue:
    """Convert an OTLP ``AnyValue`` to the plain Python value it holds."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        return [any_to_python(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_to_python(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value
    return None


def python_to_any(value: AttributeValue, target: AnyValue) -> None:
    """Write a plain Python value into ``target`` (bool before int: ``True`` is an ``int``)."""
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, list | tuple):
        array = target.array_value
        del array.values[:]
        for item in value:
            python_to_any(item, array.values.add())
    elif isinstance(value, dict):
        kvlist = target.kvlist_value
        del kvlist.values[:]
        for key, item in value.items():
            python_to_any(item, kvlist.values.add(key=key).value)
    elif value is None:
        target.Clear()
    else:
        raise TypeError(f"unsupported attribute value type: {type(value).__name__}")


_SCALAR_FIELDS = {
    str: "string_value",
    bool: "bool_value",
    int: "int_value",
    float: "double_value",
    bytes: "bytes_value",
}
"""``AnyValue`` field per scalar type; exact types only (``bool`` is an ``int``; an ``int`` subclass would not
read back as itself, so it goes through :func:`python_to_any` uncached)."""


class SpanView:
    """One span plus its resource and scope, with an attribute index that stages share."""

    __slots__ = ("span", "resource", "scope", "_index", "_values", "_resource_index")

    def __init__(self, span: Span, resource: Resource, scope: InstrumentationScope) -> None:
        self.span = span
        self.resource = resource
        self.scope = scope
        # ``_index`` (key → position) is built on first use, by ``__getattr__``: a stage that never looks a
        # key up (redact walks the message itself) does not pay for it.
        self._values: dict[str, AttributeValue] = {}
        """Scalars converted by :meth:`get` (lists and dicts are not cached: callers may edit them)."""
        self._resource_index: dict[str, int] | None = None

    def __getattr__(self, name: str) -> Any:
        # Only called while a slot is unset: the first use of the index builds it, later uses read the slot.
        if name == "_index":
            index = {kv.key: i for i, kv in enumerate(self.span.attributes)}
            self._index = index
            return index
        raise AttributeError(name)

    # -- span attributes -------------------------------------------------------------------------
    def __contains__(self, key: str) -> bool:
        return key in self._index

    def keys(self) -> Iterator[str]:
        return iter(list(self._index))

    def get(self, key: str, default: AttributeValue = None) -> AttributeValue:
        values = self._values
        if key in values:
            return values[key]
        i = self._index.get(key)
        if i is None:
            return default
        value = any_to_python(self.span.attributes[i].value)
        if not isinstance(value, list | dict):
            values[key] = value
        return value

    def get_many(self, keys: tuple[str, ...], default: object = None) -> tuple[Any, ...]:
        """``tuple(self.get(key, default) for key in keys)``: the keys a stage reads together, in one call
        (one Rust call on a native view)."""
        get = self.get
        return tuple([get(key, default) for key in keys])

    @staticmethod
    def read_present(
        views: Sequence[Any], keys: tuple[str, ...], default: object, present: int
    ) -> list[tuple[Any, tuple[Any, ...]]]:
        """``(view, view.get_many(keys, default))`` of the views holding any of ``keys[:present]``, in
        order: the spans a stage works on, read in one pass (one Rust call for a native batch).
        ``default`` must be a sentinel no attribute holds: it is how an absent key is told apart."""
        probes = keys[:present]
        found = []
        for view in views:
            for key in probes:
                if key in view:
                    found.append((view, view.get_many(keys, default)))
                    break
        return found

    def prefixed_items(self, prefixes: tuple[str, ...]) -> list[tuple[str, AttributeValue]]:
        """``(key, value)`` of the attributes whose key starts with one of ``prefixes``, in message order
        (repeated keys included); the other values are not converted."""
        attributes = self.span.attributes
        return [(kv.key, any_to_python(kv.value)) for kv in attributes if kv.key.startswith(prefixes)]

    def map_array_strings(self, key: str, fix: Callable[[str], str]) -> bool:
        """Replace each string item of the array ``key`` by ``fix(item)`` in place (other items kept);
        ``False`` when ``key`` is absent or not an array. Cheaper than converting the list and back."""
        i = self._index.get(key)
        if i is None:
            return False
        value = self.span.attributes[i].value
        if not value.HasField("array_value"):
            return False
        self._values.pop(key, None)
        for item in value.array_value.values:
            if item.HasField("string_value"):
                fixed = fix(item.string_value)
                if fixed != item.string_value:
                    item.string_value = fixed
        return True

    def event_string(self, event_name: str, key: str) -> str | None:
        """The string value (``""`` for another kind) of ``key`` on the first event named ``event_name``
        that has it; ``None`` when there is none."""
        for event in self.span.events:
            if event.name == event_name:
                for kv in event.attributes:
                    if kv.key == key:
                        return kv.value.string_value
        return None

    def forget_values(self) -> None:
        """Drop the cached values: the span's attributes were edited in place."""
        self._values.clear()

    def items(self) -> Iterator[tuple[str, AttributeValue]]:
        for kv in self.span.attributes:
            yield kv.key, any_to_python(kv.value)

    def set(self, key: str, value: AttributeValue) -> None:
        i = self._index.get(key)
        if i is None:
            target = self.span.attributes.add(key=key).value
            self._index[key] = len(self.span.attributes) - 1
        else:
            target = self.span.attributes[i].value
        field = _SCALAR_FIELDS.get(type(value))
        if field is None:
            python_to_any(value, target)
            self._values.pop(key, None)
        else:  # the common case, without python_to_any's type tests
            setattr(target, field, value)
            # Write through: a later stage reading what an earlier one wrote gets it without a conversion.
            self._values[key] = value

    def set_many(self, keys: tuple[str, ...], values: tuple[AttributeValue, ...]) -> None:
        """``set(key, value)`` for each pair, in order (one Rust call on a native view)."""
        if len(keys) != len(values):
            raise ValueError("set_many: keys and values differ in length")
        for key, value in zip(keys, values, strict=True):
            self.set(key, value)

    def set_default(self, key: str, value: AttributeValue) -> bool:
        """Set ``key`` only when absent; return whether it was set."""
        if key in self._index:
            return False
        self.set(key, value)
        return True

    def delete(self, key: str) -> bool:
        self._values.pop(key, None)
        i = self._index.pop(key, None)
        if i is None:
            return False
        del self.span.attributes[i]
        for k, j in self._index.items():
            if j > i:
                self._index[k] = j - 1
        return True

    def delete_many(self, keys: Sequence[str]) -> int:
        """Remove several keys with one rebuild of the index (cheaper than repeated :meth:`delete`)."""
        doomed = {self._index[k] for k in keys if k in self._index}
        if not doomed:
            return 0
        self._values.clear()
        kept = [kv for i, kv in enumerate(self.span.attributes) if i not in doomed]
        copies = [KeyValue(key=kv.key, value=kv.value) for kv in kept]
        del self.span.attributes[:]
        self.span.attributes.extend(copies)
        self._index = {kv.key: i for i, kv in enumerate(self.span.attributes)}
        return len(doomed)

    # -- resource attributes ---------------------------------------------------------------------
    def resource_get(self, key: str, default: AttributeValue = None) -> AttributeValue:
        if self._resource_index is None:
            self._resource_index = {kv.key: i for i, kv in enumerate(self.resource.attributes)}
        i = self._resource_index.get(key)
        return default if i is None else any_to_python(self.resource.attributes[i].value)

    @property
    def resource_key(self) -> int:
        """Tells the span's resource apart from the other resources of the same batch (a hashable)."""
        return id(self.resource)  # the views of one batch hold their resources, so ids stay unique

    # -- convenience -----------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        if self.span.end_time_unix_nano <= self.span.start_time_unix_nano:
            return 0.0
        return (self.span.end_time_unix_nano - self.span.start_time_unix_nano) / 1e9

    @property
    def is_error(self) -> bool:
        return self.span.status.code == self.span.status.STATUS_CODE_ERROR
