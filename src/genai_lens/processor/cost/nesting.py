"""Find GenAI spans that only wrap another GenAI span reporting the same call (pitfall 8).

With two instrumentations active (a framework's and a provider SDK's, or OpenInference on top of contrib)
one model call shows up as an outer and an inner span with identical usage. Pricing both doubles the cost,
so only the innermost is priced. Only spans of the same export batch are seen: an inner span exported in
an earlier batch than its wrapper cannot be matched.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

from genai_lens.processor.span_view import SpanView

SpanKey = tuple[bytes, bytes]
_MAX_DEPTH = 256  # parent chains are short; the bound only guards against malformed cyclic ids


def span_key(span: SpanView) -> SpanKey:
    return span.span.trace_id, span.span.span_id


def wrapper_duplicates(spans: Sequence[SpanView], calls: Mapping[SpanKey, Hashable]) -> set[SpanKey]:
    """Keys of ``calls`` that have a descendant in ``calls`` with an equal identity (usage) value.

    ``spans`` is the whole batch, so the ancestor walk also crosses non-GenAI spans in between.
    """
    if len(calls) < 2:
        return set()
    parent_of = {span_key(s): s.span.parent_span_id for s in spans}
    wrappers: set[SpanKey] = set()
    for key, identity in calls.items():
        trace_id = key[0]
        parent = parent_of.get(key)
        for _ in range(_MAX_DEPTH):
            if not parent:
                break
            ancestor = (trace_id, parent)
            if calls.get(ancestor, _MISSING) == identity:
                wrappers.add(ancestor)
            parent = parent_of.get(ancestor)
    return wrappers


_MISSING = object()
