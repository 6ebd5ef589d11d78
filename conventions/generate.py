"""Generate src/genai_lens/semconv.py and conventions/attributes.md from the registry in conventions/.

The registry is in OpenTelemetry's semantic-convention YAML format (the one `weaver registry check`
reads), so the names genai-lens emits are defined once, in a form OTel tooling understands, and turned
into Python constants and a Markdown table without anyone hand-copying them.

Usage:
    python conventions/generate.py            # (re)write the generated files
    python conventions/generate.py --check    # exit 1, naming the stale files, when they are out of date

Only the standard library and PyYAML are needed, so CI can run it before anything else is installed.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

CONVENTIONS_DIR = Path(__file__).resolve().parent
REPO_ROOT = CONVENTIONS_DIR.parent
# The registry root, as weaver sees it (`weaver registry check -r conventions/`): a manifest plus every
# other YAML file below it.
REGISTRY_DIR = CONVENTIONS_DIR
MANIFEST_NAMES = ("manifest.yaml", "registry_manifest.yaml")  # weaver's current and legacy manifest names
MANIFEST_KEYS = frozenset({"schema_url", "description", "dependencies", "stability"})
SCHEMA_URL_PATTERN = re.compile(r"^https?://[^\s/]+(/[^\s/]+)*/\d+\.\d+\.\d+$")
PYTHON_OUTPUT = Path("src/genai_lens/semconv.py")
MARKDOWN_OUTPUT = Path("conventions/attributes.md")
REGENERATE_COMMAND = "python conventions/generate.py"

# Names outside our own namespace that we may define: OTel has no cost attribute, and this is the
# de-facto name OpenLIT writes and Langfuse reads.
SANCTIONED_FOREIGN_ATTRIBUTES = frozenset({"gen_ai.usage.cost"})
OWN_NAMESPACE_PREFIX = "genai_lens."
GROUP_ID_PREFIX = "registry.genai_lens."

PRIMITIVE_TYPES = frozenset(
    {"string", "int", "double", "boolean", "string[]", "int[]", "double[]", "boolean[]"}
)
STABILITY_LEVELS = frozenset({"development", "alpha", "beta", "release_candidate", "stable"})
GROUP_KEYS = frozenset({"id", "type", "brief", "display_name", "note", "attributes"})
ATTRIBUTE_KEYS = frozenset(
    {"id", "type", "stability", "brief", "note", "examples", "annotations", "deprecated", "requirement_level"}
)
MEMBER_KEYS = frozenset({"id", "value", "brief", "note", "stability", "deprecated"})
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MEMBER_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(ValueError):
    """The registry YAML does not follow the rules this project keeps; the message lists every problem."""


@dataclass(frozen=True)
class Member:
    """One allowed value of an enum attribute (or of an enum-valued array's elements)."""

    id: str
    value: str | int
    brief: str


@dataclass(frozen=True)
class Attribute:
    """One attribute definition, flattened to what the generators need."""

    name: str
    type: str  # primitive type name; for enums the type of the values ("string" or "int")
    brief: str
    note: str
    stability: str
    examples: tuple[object, ...]
    members: tuple[Member, ...]  # enum members, or allowed element values of an array attribute
    group_id: str


@dataclass(frozen=True)
class Group:
    """An attribute group of the registry."""

    id: str
    display_name: str
    brief: str
    attributes: tuple[Attribute, ...]


# ---------------------------------------------------------------- loading and validation


def registry_files(registry_dir: Path) -> list[Path]:
    """The registry's definition files, as weaver finds them (every YAML file but the manifest), sorted.

    The sort order is the order of the generated output, so output does not depend on the file system.
    """
    files = [
        path
        for pattern in ("*.yaml", "*.yml")
        for path in registry_dir.rglob(pattern)
        if path.is_file() and path.name not in MANIFEST_NAMES
    ]
    return sorted(files, key=lambda path: path.relative_to(registry_dir).as_posix())


def validate_manifest(registry_dir: Path) -> None:
    """Check the weaver manifest: present, current format, and a schema URL ending in a semver version."""
    path = registry_dir / MANIFEST_NAMES[0]
    if not path.is_file():
        raise RegistryError(f"{path}: registry manifest is missing")
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(manifest, dict):
        raise RegistryError(f"{path}: must be a mapping")
    errors = []
    unknown = set(manifest) - MANIFEST_KEYS
    if unknown:
        errors.append(
            f"unknown keys {sorted(unknown)} (weaver's manifest format has {sorted(MANIFEST_KEYS)})"
        )
    schema_url = manifest.get("schema_url")
    if not (isinstance(schema_url, str) and SCHEMA_URL_PATTERN.match(schema_url)):
        errors.append(f"`schema_url` must be an http(s) URL ending in a x.y.z version, got {schema_url!r}")
    if manifest.get("stability", "development") not in STABILITY_LEVELS:
        errors.append(f"unknown stability {manifest.get('stability')!r}")
    if errors:
        raise RegistryError(f"{path}: " + "; ".join(errors))


def load_raw_groups(registry_dir: Path) -> list[tuple[Path, dict]]:
    """Parse every registry file; each group is returned with the file it came from (for error messages)."""
    files = registry_files(registry_dir)
    if not files:
        raise RegistryError(f"no *.yaml registry files under {registry_dir}")
    groups: list[tuple[Path, dict]] = []
    for path in files:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RegistryError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
            raise RegistryError(f"{path}: top level must be a mapping with a `groups:` list")
        for group in document["groups"]:
            groups.append((path, group))
    return groups


def _is_string(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _check_members(where: str, members: object, errors: list[str]) -> None:
    if not isinstance(members, list) or not members:
        errors.append(f"{where}: `members` must be a non-empty list")
        return
    ids: set[str] = set()
    values: set[object] = set()
    value_types: set[type] = set()
    for index, member in enumerate(members):
        spot = f"{where} member #{index}"
        if not isinstance(member, dict):
            errors.append(f"{spot}: must be a mapping")
            continue
        unknown = set(member) - MEMBER_KEYS
        if unknown:
            errors.append(f"{spot}: unknown keys {sorted(unknown)}")
        member_id = member.get("id")
        if not (isinstance(member_id, str) and MEMBER_ID_PATTERN.match(member_id)):
            errors.append(f"{spot}: `id` must be snake_case, got {member_id!r}")
        elif member_id in ids:
            errors.append(f"{spot}: duplicate member id {member_id!r}")
        else:
            ids.add(member_id)
        value = member.get("value")
        if isinstance(value, bool) or not isinstance(value, str | int):
            errors.append(f"{spot}: `value` must be a string or an int, got {value!r}")
        else:
            value_types.add(type(value))
            if value in values:
                errors.append(f"{spot}: duplicate member value {value!r}")
            values.add(value)
        if not _is_string(member.get("brief")):
            errors.append(f"{spot}: `brief` is required")
        if member.get("stability") not in STABILITY_LEVELS:  # weaver requires it on every member
            errors.append(f"{spot}: `stability` must be one of {sorted(STABILITY_LEVELS)}")
    if len(value_types) > 1:
        errors.append(f"{where}: member values mix strings and ints")


def _example_matches(example: object, type_name: str) -> bool:
    if type_name.endswith("[]"):
        return isinstance(example, list) and all(_example_matches(item, type_name[:-2]) for item in example)
    if type_name == "string":
        return isinstance(example, str)
    if type_name == "boolean":
        return isinstance(example, bool)
    if type_name == "int":
        return isinstance(example, int) and not isinstance(example, bool)
    if type_name == "double":
        return isinstance(example, int | float) and not isinstance(example, bool)
    return False


def _check_attribute(where: str, attribute: object, errors: list[str]) -> None:
    if not isinstance(attribute, dict):
        errors.append(f"{where}: attribute must be a mapping")
        return
    name = attribute.get("id")
    where = f"{where} attribute {name!r}"
    unknown = set(attribute) - ATTRIBUTE_KEYS
    if unknown:
        errors.append(f"{where}: unknown keys {sorted(unknown)}")
    if not (isinstance(name, str) and NAME_PATTERN.match(name)):
        errors.append(f"{where}: `id` must be a dotted lower-case name")
    elif not (name.startswith(OWN_NAMESPACE_PREFIX) or name in SANCTIONED_FOREIGN_ATTRIBUTES):
        errors.append(
            f"{where}: not ours to define; attributes must be under `{OWN_NAMESPACE_PREFIX}*` or one of "
            f"{sorted(SANCTIONED_FOREIGN_ATTRIBUTES)}"
        )
    if attribute.get("stability") != "development":
        errors.append(f"{where}: `stability` must be `development` (nothing of ours is stable yet)")
    for key in ("brief",):
        if not _is_string(attribute.get(key)):
            errors.append(f"{where}: `{key}` is required and must be a non-empty string")
    if "note" in attribute and not _is_string(attribute["note"]):
        errors.append(f"{where}: `note` must be a non-empty string when present")

    type_spec = attribute.get("type")
    value_type: str | None = None
    if isinstance(type_spec, str):
        if type_spec not in PRIMITIVE_TYPES:
            errors.append(f"{where}: unknown type {type_spec!r}; expected one of {sorted(PRIMITIVE_TYPES)}")
        else:
            value_type = type_spec
    elif isinstance(type_spec, dict):
        if set(type_spec) != {"members"}:
            errors.append(f"{where}: an enum type must have exactly the key `members`")
        _check_members(where, type_spec.get("members"), errors)
        members = type_spec.get("members") or []
        first = members[0].get("value") if members and isinstance(members[0], dict) else None
        value_type = "int" if isinstance(first, int) and not isinstance(first, bool) else "string"
    else:
        errors.append(f"{where}: `type` must be a type name or an enum (`members:`)")

    annotations = attribute.get("annotations")
    if annotations is not None:
        own = annotations.get("genai_lens") if isinstance(annotations, dict) else None
        if not isinstance(own, dict) or set(own) != {"array_members"}:
            errors.append(f"{where}: `annotations` may only hold `genai_lens: {{array_members: [...]}}`")
        else:
            if type_spec != "string[]":
                errors.append(f"{where}: `array_members` is only for `string[]` attributes")
            _check_members(f"{where} array_members", own["array_members"], errors)

    examples = attribute.get("examples")
    if not isinstance(examples, list) or not examples:
        errors.append(f"{where}: `examples` must be a non-empty list")
    elif value_type is not None:
        for example in examples:
            if not _example_matches(example, value_type):
                errors.append(f"{where}: example {example!r} is not of type {value_type}")


def validate_raw_groups(raw_groups: Sequence[tuple[Path, dict]]) -> None:
    """Raise RegistryError listing every rule the registry breaks (shape, types, namespaces, uniqueness)."""
    errors: list[str] = []
    group_ids: set[str] = set()
    attribute_names: set[str] = set()
    constant_names: dict[str, str] = {}
    for path, group in raw_groups:
        where = f"{path.name}"
        if not isinstance(group, dict):
            errors.append(f"{where}: each group must be a mapping")
            continue
        group_id = group.get("id")
        where = f"{path.name} group {group_id!r}"
        unknown = set(group) - GROUP_KEYS
        if unknown:
            errors.append(f"{where}: unknown keys {sorted(unknown)}")
        if not (isinstance(group_id, str) and group_id.startswith(GROUP_ID_PREFIX)):
            errors.append(f"{where}: group `id` must start with `{GROUP_ID_PREFIX}`")
        elif group_id in group_ids:
            errors.append(f"{where}: duplicate group id")
        else:
            group_ids.add(group_id)
        if group.get("type") != "attribute_group":
            errors.append(f"{where}: `type` must be `attribute_group`")
        if not _is_string(group.get("brief")):
            errors.append(f"{where}: `brief` is required")
        attributes = group.get("attributes")
        if not isinstance(attributes, list) or not attributes:
            errors.append(f"{where}: `attributes` must be a non-empty list")
            continue
        for attribute in attributes:
            _check_attribute(where, attribute, errors)
            name = attribute.get("id") if isinstance(attribute, dict) else None
            if isinstance(name, str):
                if name in attribute_names:
                    errors.append(f"{where}: attribute {name!r} is defined more than once")
                elif constant_name(name) in constant_names:
                    errors.append(
                        f"{where}: attribute {name!r} and {constant_names[constant_name(name)]!r} would both "
                        f"generate the Python name {constant_name(name)}"
                    )
                attribute_names.add(name)
                constant_names.setdefault(constant_name(name), name)
    if errors:
        raise RegistryError("registry is invalid:\n  - " + "\n  - ".join(errors))


def _members(raw: Iterable[dict]) -> tuple[Member, ...]:
    return tuple(Member(id=m["id"], value=m["value"], brief=_flat(m["brief"])) for m in raw)


def load_registry(registry_dir: Path = REGISTRY_DIR) -> list[Group]:
    """Load and validate the registry; groups and attributes keep their order in the files."""
    validate_manifest(registry_dir)
    raw_groups = load_raw_groups(registry_dir)
    validate_raw_groups(raw_groups)
    groups = []
    for _path, raw in raw_groups:
        attributes = []
        for attr in raw["attributes"]:
            type_spec = attr["type"]
            if isinstance(type_spec, dict):
                members = _members(type_spec["members"])
                type_name = "int" if isinstance(members[0].value, int) else "string"
            else:
                annotations = attr.get("annotations") or {}
                members = _members(annotations.get("genai_lens", {}).get("array_members", []))
                type_name = type_spec
            attributes.append(
                Attribute(
                    name=attr["id"],
                    type=type_name,
                    brief=_flat(attr["brief"]),
                    note=_flat(attr.get("note", "")),
                    stability=attr["stability"],
                    examples=tuple(attr["examples"]),
                    members=members,
                    group_id=raw["id"],
                )
            )
        groups.append(
            Group(
                id=raw["id"],
                display_name=_flat(raw.get("display_name") or raw["id"]),
                brief=_flat(raw["brief"]),
                attributes=tuple(attributes),
            )
        )
    return groups


# ---------------------------------------------------------------- naming helpers


def _flat(text: str) -> str:
    """Collapse YAML folded/literal text to one line so output does not depend on how it was wrapped."""
    return " ".join(str(text).split())


def constant_name(attribute_name: str) -> str:
    """`genai_lens.anomaly.flags` -> `GENAI_LENS_ANOMALY_FLAGS`."""
    return attribute_name.upper().replace(".", "_")


def enum_class_name(attribute_name: str) -> str:
    """`genai_lens.anomaly.flags` -> `GenaiLensAnomalyFlagsValues`."""
    words = re.split(r"[._]", attribute_name)
    return "".join(word.capitalize() for word in words if word) + "Values"


def member_name(member: Member) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "_", member.id).upper()
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"_{name}"
    return name


# ---------------------------------------------------------------- Python output

_PY_WIDTH = 106  # line-length 110 less the indentation and quotes docstrings can carry


def _docstring(lines: list[str], indent: str = "") -> list[str]:
    """A triple-quoted docstring whose text is wrapped to the project's line length."""
    wrapped: list[str] = []
    for paragraph in lines:
        if paragraph == "":
            wrapped.append("")
            continue
        safe = paragraph.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        wrapped.extend(textwrap.wrap(safe, width=_PY_WIDTH - len(indent), break_on_hyphens=False) or [""])
    if len(wrapped) == 1 and len(indent) + len(wrapped[0]) + 6 <= 110:
        return [f'{indent}"""{wrapped[0]}"""']
    body = [f"{indent}{line}" if line else "" for line in wrapped]
    return [f'{indent}"""{body[0].lstrip()}', *body[1:], f'{indent}"""']


def _python_literal(value: str | int) -> str:
    """A double-quoted literal, as ruff format writes it (JSON string escapes are valid Python)."""
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."


def render_python(groups: Sequence[Group]) -> str:
    out: list[str] = [
        f"# Generated from conventions/ by `{REGENERATE_COMMAND}`. Do not edit by hand.",
        '"""Attribute names and allowed values that genai-lens emits and OpenTelemetry does not define.',
        "",
        "Standard `gen_ai.*` names come from `opentelemetry.semconv`; this module holds only our registry.",
        '"""',
        "",
        "from enum import Enum",
        "from typing import Final",
    ]
    has_string_enums = any(a.members and a.type != "int" for group in groups for a in group.attributes)
    if has_string_enums:
        out += ["", "", "class _StringValues(str, Enum):"]
        out += _docstring(
            ["Base of the value enums: a member is its string, also under `str()` and in f-strings."],
            indent="    ",
        )
        out += ["", "    def __str__(self) -> str:", "        return str.__str__(self)"]
    for index, group in enumerate(groups):
        # isort wants one blank line between the imports and a comment; after code, sections get two.
        out += [""] if index == 0 and not has_string_enums else ["", ""]
        out += textwrap.wrap(
            f"{group.display_name}: {group.brief}",
            width=108,
            initial_indent="# ",
            subsequent_indent="# ",
            break_on_hyphens=False,
        )
        for attr in group.attributes:
            out += ["", f'{constant_name(attr.name)}: Final = "{attr.name}"']
            doc = [_sentence(attr.brief)]
            if attr.note:
                doc += ["", _sentence(attr.note)]
            type_label = f"{attr.type} enum" if attr.members and not attr.type.endswith("[]") else attr.type
            doc += ["", f"Type: {type_label}. Stability: {attr.stability}."]
            if attr.members:
                doc += [f"Values: see `{enum_class_name(attr.name)}`."]
            out += _docstring(doc)
        for attr in group.attributes:
            if not attr.members:
                continue
            base = "int, Enum" if attr.type == "int" else "_StringValues"
            what = "elements" if attr.type.endswith("[]") else "values"
            out += ["", "", f"class {enum_class_name(attr.name)}({base}):"]
            out += _docstring([f"Allowed {what} of `{attr.name}`."], indent="    ")
            for member in attr.members:
                out += ["", f"    {member_name(member)} = {_python_literal(member.value)}"]
                out += _docstring([_sentence(member.brief)], indent="    ")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- Markdown output


def _cell(text: str) -> str:
    return _flat(text).replace("|", "\\|")


def _example_text(example: object) -> str:
    if isinstance(example, bool):
        return f"`{str(example).lower()}`"
    if isinstance(example, list):
        return "`[" + ", ".join(_example_text(e).strip("`") for e in example) + "]`"
    if isinstance(example, str):
        return f'`"{example}"`'
    if isinstance(example, float):
        return f"`{format(Decimal(repr(example)), 'f')}`"  # 3e-05 reads better as 0.00003
    return f"`{example!r}`"


def render_markdown(groups: Sequence[Group]) -> str:
    out: list[str] = [
        f"<!-- Generated from conventions/ by `{REGENERATE_COMMAND}`. Do not edit by hand. -->",
        "",
        "# genai-lens attributes",
        "",
        "Attributes that genai-lens emits and the OpenTelemetry semantic conventions do not define.",
        "Standard `gen_ai.*` attributes are OpenTelemetry's and are documented there; the only `gen_ai.*`",
        "name here, `gen_ai.usage.cost`, is not in OpenTelemetry but is the de-facto name OpenLIT and",
        "Langfuse use. All attributes are at stability `development`.",
    ]
    for group in groups:
        out += ["", f"## {group.display_name}", "", f"`{group.id}`: {group.brief}", ""]
        out += [
            "| Attribute | Type | Description | Examples | Stability |",
            "|---|---|---|---|---|",
        ]
        for attr in group.attributes:
            description = _cell(attr.brief)
            if attr.note:
                description += " " + _cell(attr.note)
            type_cell = attr.type
            if attr.members:
                type_cell += " (enum)" if not attr.type.endswith("[]") else " (values below)"
            examples = "; ".join(_example_text(e) for e in attr.examples)
            out.append(f"| `{attr.name}` | {type_cell} | {description} | {examples} | {attr.stability} |")
        for attr in group.attributes:
            if not attr.members:
                continue
            out += ["", f"Values of `{attr.name}`:", "", "| Value | Description |", "|---|---|"]
            for member in attr.members:
                out.append(f"| `{member.value}` | {_cell(member.brief)} |")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- entry point


def render_all(registry_dir: Path = REGISTRY_DIR) -> dict[Path, str]:
    """Every generated file (path relative to the repository root) with its content."""
    groups = load_registry(registry_dir)
    return {PYTHON_OUTPUT: render_python(groups), MARKDOWN_OUTPUT: render_markdown(groups)}


def stale_outputs(registry_dir: Path = REGISTRY_DIR, out_root: Path = REPO_ROOT) -> list[Path]:
    """Generated files under out_root that are missing or differ from what the registry produces."""
    stale = []
    for relative, content in render_all(registry_dir).items():
        target = out_root / relative
        if not target.is_file() or target.read_text(encoding="utf-8") != content:
            stale.append(relative)
    return stale


def write_outputs(registry_dir: Path = REGISTRY_DIR, out_root: Path = REPO_ROOT) -> list[Path]:
    """Write every generated file under out_root; returns the ones whose content changed."""
    changed = []
    for relative, content in render_all(registry_dir).items():
        target = out_root / relative
        if target.is_file() and target.read_text(encoding="utf-8") == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8", newline="\n")
        changed.append(relative)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if a generated file is stale"
    )
    parser.add_argument(
        "--registry", type=Path, default=REGISTRY_DIR, help="registry root (holds manifest.yaml)"
    )
    parser.add_argument(
        "--out-root", type=Path, default=REPO_ROOT, help="root the output paths are relative to"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_outputs(args.registry, args.out_root)
            if stale:
                names = ", ".join(str(p) for p in stale)
                print(
                    f"conventions: generated files are stale: {names}\n"
                    f"Run `{REGENERATE_COMMAND}` and commit the result.",
                    file=sys.stderr,
                )
                return 1
            print("conventions: generated files are up to date")
            return 0
        changed = write_outputs(args.registry, args.out_root)
    except RegistryError as exc:
        print(f"conventions: {exc}", file=sys.stderr)
        return 2
    print("conventions: wrote " + (", ".join(str(p) for p in changed) if changed else "nothing (up to date)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
