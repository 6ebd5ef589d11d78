"""Schema rules of the registry YAML: shape, types, enum members, unique ids, and only our namespaces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import yaml

# The attribute contract other parts of genai-lens code against: names, types and enum values are decided.
DECIDED_ATTRIBUTES: dict[str, tuple[str, list[str]]] = {
    "gen_ai.usage.cost": ("double", []),
    "genai_lens.cost.input": ("double", []),
    "genai_lens.cost.output": ("double", []),
    "genai_lens.cost.cache_read": ("double", []),
    "genai_lens.cost.cache_creation": ("double", []),
    "genai_lens.cost.source": ("string", ["genai_prices", "overrides", "span"]),
    "genai_lens.cost.model_unknown": ("boolean", []),
    "genai_lens.cost.pricing_version": ("string", []),
    "genai_lens.redaction.count": ("int", []),
    "genai_lens.redaction.types": (
        "string[]",
        [
            "email",
            "phone",
            "credit_card",
            "iban",
            "us_ssn",
            "ipv4",
            "ipv6",
            "secret",
            "custom",
            "ner_person",
            "ner_location",
        ],
    ),
    "genai_lens.anomaly.flags": (
        "string[]",
        [
            "latency_outlier",
            "ttft_outlier",
            "input_tokens_outlier",
            "output_tokens_outlier",
            "cost_outlier",
            "empty_completion",
            "truncated",
            "content_filter",
            "error",
        ],
    ),
    "genai_lens.anomaly.score": ("double", []),
    "genai_lens.normalize.source_dialect": (
        "string",
        [
            "openllmetry",
            "openllmetry_legacy",
            "openinference",
            "openlit",
            "otel_genai_legacy",
            "otel_genai",
            "genai_otel_instrument",
            "vercel_ai",
            "anthropic_native",
        ],
    ),
    "genai_lens.stream.end_reason": ("string", ["exhausted", "closed", "error", "garbage_collected"]),
}

Document = dict


def test_registry_is_valid_and_defines_the_decided_attributes(generator: ModuleType) -> None:
    attributes = {a.name: a for group in generator.load_registry() for a in group.attributes}
    for name, (type_name, values) in DECIDED_ATTRIBUTES.items():
        assert name in attributes, f"{name} is missing from the registry"
        assert attributes[name].type == type_name, name
        assert [m.value for m in attributes[name].members] == values, name
        assert attributes[name].stability == "development"


def test_only_sanctioned_name_outside_our_namespace(generator: ModuleType) -> None:
    names = [a.name for group in generator.load_registry() for a in group.attributes]
    foreign = [n for n in names if not n.startswith("genai_lens.")]
    assert foreign == ["gen_ai.usage.cost"]


def test_every_group_and_attribute_has_the_weaver_fields(generator: ModuleType) -> None:
    """Read the raw YAML (not the generator's view) so a field the generator defaults cannot hide."""
    for path in generator.registry_files(generator.REGISTRY_DIR):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in document["groups"]:
            assert group["type"] == "attribute_group"
            assert group["id"].startswith("registry.genai_lens.")
            for attribute in group["attributes"]:
                assert {"id", "type", "stability", "brief", "examples"} <= set(attribute), attribute["id"]
                if isinstance(attribute["type"], dict):
                    for member in attribute["type"]["members"]:
                        assert {"id", "value", "brief", "stability"} <= set(member), member


def _attribute(document: Document, name: str) -> dict:
    return next(a for g in document["groups"] for a in g["attributes"] if a["id"] == name)


def _group(document: Document, group_id: str) -> dict:
    return next(g for g in document["groups"] if g["id"] == group_id)


def _rename_to_otel(doc: Document) -> None:
    _attribute(doc, "genai_lens.cost.output")["id"] = "gen_ai.usage.output_tokens"


def _duplicate_attribute(doc: Document) -> None:
    _group(doc, "registry.genai_lens.anomaly")["attributes"].append(
        dict(_attribute(doc, "genai_lens.cost.input"))
    )


def _duplicate_group(doc: Document) -> None:
    doc["groups"].append(
        {
            **_group(doc, "registry.genai_lens.stream"),
            "attributes": [
                {**_attribute(doc, "genai_lens.stream.end_reason"), "id": "genai_lens.stream.other"}
            ],
        }
    )


def _foreign_group_id(doc: Document) -> None:
    _group(doc, "registry.genai_lens.stream")["id"] = "registry.stream"


def _drop_brief(doc: Document) -> None:
    del _attribute(doc, "genai_lens.anomaly.score")["brief"]


def _duplicate_member_value(doc: Document) -> None:
    members = _attribute(doc, "genai_lens.cost.source")["type"]["members"]
    members.append({**members[0], "id": "genai_prices_again"})


def _wrong_example_type(doc: Document) -> None:
    _attribute(doc, "genai_lens.redaction.count")["examples"] = ["three"]


def _stable(doc: Document) -> None:
    _attribute(doc, "genai_lens.cost.input")["stability"] = "stable"


def _misspelt_key(doc: Document) -> None:
    attribute = _attribute(doc, "genai_lens.cost.input")
    attribute["breif"] = attribute.pop("brief")


def _array_members_on_scalar(doc: Document) -> None:
    _attribute(doc, "genai_lens.anomaly.score")["annotations"] = {
        "genai_lens": {"array_members": [{"id": "x", "value": "x", "brief": "X."}]}
    }


def _unknown_type(doc: Document) -> None:
    _attribute(doc, "genai_lens.anomaly.score")["type"] = "float"


def _bad_member_id(doc: Document) -> None:
    _attribute(doc, "genai_lens.stream.end_reason")["type"]["members"][0]["id"] = "Exhausted Stream"


def _member_without_stability(doc: Document) -> None:
    del _attribute(doc, "genai_lens.cost.source")["type"]["members"][1]["stability"]


def _array_member_duplicate(doc: Document) -> None:
    members = _attribute(doc, "genai_lens.anomaly.flags")["annotations"]["genai_lens"]["array_members"]
    members.append(dict(members[0]))


def _python_name_clash(doc: Document) -> None:
    _group(doc, "registry.genai_lens.cost")["attributes"].append(
        {**_attribute(doc, "genai_lens.cost.input"), "id": "genai_lens.cost_input"}
    )


BROKEN_REGISTRIES: dict[str, tuple[Callable[[Document], None], str]] = {
    "otel name": (_rename_to_otel, "not ours to define"),
    "duplicate attribute": (_duplicate_attribute, "defined more than once"),
    "duplicate group": (_duplicate_group, "duplicate group id"),
    "group outside registry.genai_lens": (_foreign_group_id, "must start with `registry.genai_lens.`"),
    "missing brief": (_drop_brief, "`brief` is required"),
    "duplicate enum value": (_duplicate_member_value, "duplicate member value 'genai_prices'"),
    "example of the wrong type": (_wrong_example_type, "example 'three' is not of type int"),
    "stable attribute": (_stable, "must be `development`"),
    "misspelt key": (_misspelt_key, "unknown keys ['breif']"),
    "array members on a scalar": (_array_members_on_scalar, "only for `string[]` attributes"),
    "unknown type": (_unknown_type, "unknown type 'float'"),
    "member id not snake_case": (_bad_member_id, "`id` must be snake_case"),
    "enum member without stability": (_member_without_stability, "member #1: `stability` must be one of"),
    "two names, one Python constant": (_python_name_clash, "generate the Python name GENAI_LENS_COST_INPUT"),
    "duplicate array member": (_array_member_duplicate, "duplicate member id 'latency_outlier'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_REGISTRIES))
def test_broken_registry_is_rejected_with_a_clear_message(
    case: str, registry_copy: Path, generator: ModuleType
) -> None:
    mutate, expected = BROKEN_REGISTRIES[case]
    model_file = registry_copy / "model" / "genai_lens.yaml"
    document = yaml.safe_load(model_file.read_text(encoding="utf-8"))
    mutate(document)
    model_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    with pytest.raises(generator.RegistryError) as error:
        generator.load_registry(registry_copy)
    assert expected in str(error.value)


def test_unparseable_yaml_names_the_file(registry_copy: Path, generator: ModuleType) -> None:
    (registry_copy / "model" / "broken.yaml").write_text("groups:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(generator.RegistryError, match=r"broken\.yaml: not valid YAML"):
        generator.load_registry(registry_copy)


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (None, "registry manifest is missing"),
        ("schema_url: https://genai-lens.invalid/schemas/latest\n", "ending in a x.y.z version"),
        ("name: genai_lens\nsemconv_version: 0.1.0\nschema_base_url: https://x.invalid/\n", "unknown keys"),
    ],
)
def test_manifest_is_checked(
    manifest: str | None, expected: str, registry_copy: Path, generator: ModuleType
) -> None:
    path = registry_copy / "manifest.yaml"
    if manifest is None:
        path.unlink()
    else:
        path.write_text(manifest, encoding="utf-8")
    with pytest.raises(generator.RegistryError, match=expected):
        generator.load_registry(registry_copy)
