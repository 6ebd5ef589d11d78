"""The shared layer's version tolerance and content switch, on the real openai SDK classes."""

from __future__ import annotations

import jsonschema
import pytest
from openai.resources.embeddings import Embeddings

from genai_lens.instrumentation._genai import Patches
from genai_lens.instrumentation._genai.content import capture_content_enabled, output_message, text_part


def passthrough(wrapped, instance, args, kwargs):
    return wrapped(*args, **kwargs)


def test_patches_skip_what_an_sdk_version_lacks():
    patches = Patches()
    assert patches.wrap("openai.resources.no_such_module", "Thing.create", passthrough) is False
    assert patches.wrap("openai.resources.embeddings", "NoSuchClass.create", passthrough) is False
    assert patches.wrap("openai.resources.embeddings", "Embeddings.no_such_method", passthrough) is False
    assert len(patches) == 0


def test_patches_wrap_once_and_restore_exactly():
    original = Embeddings.__dict__["create"]
    patches = Patches()
    try:
        assert patches.wrap("openai.resources.embeddings", "Embeddings.create", passthrough)
        assert patches.wrap("openai.resources", "Embeddings.create", passthrough)  # same class, other path
        assert len(patches) == 1
        assert Embeddings.__dict__["create"] is not original
        assert Embeddings.__dict__["create"].__wrapped__ is original
    finally:
        patches.unwrap_all()
    assert Embeddings.__dict__["create"] is original


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        (None, False),
        ("", False),
        ("false", False),
        ("no_content", False),
        ("event_only", False),
        ("true", True),
        ("True", True),
        ("1", True),
        ("span_only", True),
        ("span_and_event", True),
    ],
)
def test_capture_switch(value, enabled):
    environ = {} if value is None else {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": value}
    assert capture_content_enabled(environ) is enabled


def test_output_message_without_finish_reason_is_marked_error(genai_schemas):
    message = output_message([text_part("partial")], None)
    jsonschema.validate([message], genai_schemas["gen_ai.output.messages"])
    assert message["finish_reason"] == "error"
