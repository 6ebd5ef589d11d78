"""Every shipped pipeline config passes `otelcol validate` with the collector we build, and stays coherent."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from collector_harness import BUILDER_MANIFEST, CONFIG_DIR

pytestmark = pytest.mark.timeout(1800)  # the first test may trigger a cold collector build

PIPELINE_CONFIGS = sorted(p.name for p in CONFIG_DIR.glob("*.yaml") if p != BUILDER_MANIFEST)
SANDWICH_CONFIGS = ["agent.yaml", "honeycomb.yaml", "jaeger.yaml", "tempo.yaml"]
# Values for the variables without a default, as a deployment would set them.
REQUIRED_ENV = {
    "BACKEND_ENDPOINT": "backend.example:4317",
    "HONEYCOMB_API_KEY": "hcaik_test",
    "HONEYCOMB_DATASET": "genai-lens",
}
ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")


def validate(binary: Path, config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "validate", "--config", str(config)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_expected_configs_are_shipped() -> None:
    assert PIPELINE_CONFIGS == ["agent.yaml", "honeycomb.yaml", "jaeger.yaml", "scale-out.yaml", "tempo.yaml"]


@pytest.mark.parametrize("config", PIPELINE_CONFIGS)
def test_config_validates(otelcol_binary: Path, config: str) -> None:
    result = validate(otelcol_binary, CONFIG_DIR / config, REQUIRED_ENV)
    assert result.returncode == 0, f"{config} failed validation:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("config", ["agent.yaml", "scale-out.yaml"])
def test_missing_backend_endpoint_is_a_clear_validation_error(otelcol_binary: Path, config: str) -> None:
    env = {k: v for k, v in REQUIRED_ENV.items() if k != "BACKEND_ENDPOINT"}
    result = validate(otelcol_binary, CONFIG_DIR / config, env)
    assert result.returncode != 0
    assert "otlp_grpc/backend" in result.stderr and "endpoint" in result.stderr


def test_validate_rejects_an_unknown_setting(otelcol_binary: Path, tmp_path: Path) -> None:
    """Guards the guard: a typo in a shipped config would be caught, not silently accepted."""
    broken = tmp_path / "agent-typo.yaml"
    broken.write_text(
        (CONFIG_DIR / "agent.yaml").read_text().replace("retry_on_failure:", "retry_on_failur:", 1)
    )
    result = validate(otelcol_binary, broken, REQUIRED_ENV)
    assert result.returncode != 0
    assert "retry_on_failur" in result.stderr


def test_scale_out_replica_list_comes_from_env_as_a_yaml_list(otelcol_binary: Path) -> None:
    env = {**REQUIRED_ENV, "GENAI_LENS_REPLICAS": "[10.0.0.1:24317, 10.0.0.2:24317]"}
    assert validate(otelcol_binary, CONFIG_DIR / "scale-out.yaml", env).returncode == 0


@pytest.mark.parametrize("config", PIPELINE_CONFIGS)
def test_every_env_var_is_documented_in_the_header(config: str) -> None:
    text = (CONFIG_DIR / config).read_text()
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    used = {match.group(1) for match in ENV_REF.finditer(text)}
    assert used, f"{config} reads no environment variables"
    undocumented = {name for name in used if name not in header}
    assert not undocumented, f"{config} uses env vars its header does not list: {sorted(undocumented)}"


@pytest.mark.parametrize("config", SANDWICH_CONFIGS[1:])
def test_backend_variants_share_the_agent_intake(config: str) -> None:
    """The backend variants differ from agent.yaml only in the backend exporter of traces/out."""
    agent = yaml.safe_load((CONFIG_DIR / "agent.yaml").read_text())
    variant = yaml.safe_load((CONFIG_DIR / config).read_text())
    for section in ("extensions", "receivers", "processors"):
        assert variant[section] == agent[section], f"{config}: {section} drifted from agent.yaml"
    assert variant["exporters"]["otlp_grpc/genai_lens"] == agent["exporters"]["otlp_grpc/genai_lens"]
    assert variant["service"]["pipelines"]["traces/in"] == agent["service"]["pipelines"]["traces/in"]
    out = variant["service"]["pipelines"]["traces/out"]
    assert out["receivers"] == ["otlp/enriched"]
    assert len(out["exporters"]) == 1 and out["exporters"][0] in variant["exporters"]


def test_genai_lens_queue_is_persistent_and_retries_forever() -> None:
    agent = yaml.safe_load((CONFIG_DIR / "agent.yaml").read_text())
    exporter = agent["exporters"]["otlp_grpc/genai_lens"]
    assert exporter["sending_queue"]["storage"] in agent["service"]["extensions"]
    assert exporter["sending_queue"]["storage"].startswith("file_storage")
    assert exporter["retry_on_failure"]["enabled"] is True
    assert exporter["retry_on_failure"]["max_elapsed_time"] in ("0s", 0)


def test_honeycomb_sends_the_team_header_over_tls() -> None:
    honeycomb = yaml.safe_load((CONFIG_DIR / "honeycomb.yaml").read_text())["exporters"][
        "otlp_grpc/honeycomb"
    ]
    assert honeycomb["endpoint"] == "${env:HONEYCOMB_ENDPOINT:-api.honeycomb.io:443}"
    assert honeycomb["headers"]["x-honeycomb-team"] == "${env:HONEYCOMB_API_KEY}"
    assert honeycomb["headers"]["x-honeycomb-dataset"] == "${env:HONEYCOMB_DATASET}"
    assert "tls" not in honeycomb  # TLS on by default; never insecure towards a SaaS endpoint


def test_builder_manifest_pins_one_consistent_release() -> None:
    manifest = yaml.safe_load(BUILDER_MANIFEST.read_text())
    text = BUILDER_MANIFEST.read_text()
    ocb_version = re.search(r"^# *OCB_VERSION: *(v\S+)", text, re.MULTILINE)
    assert ocb_version is not None
    components = [
        entry["gomod"].split()
        for kind in ("receivers", "processors", "exporters", "extensions")
        for entry in manifest[kind]
    ]
    assert {version for _, version in components} == {ocb_version.group(1)}
    minor = int(ocb_version.group(1).split(".")[1])
    providers = {entry["gomod"].split()[1] for entry in manifest["providers"]}
    # Core modules v0.N.0 ship with stable modules v1.(N-94).0 (v0.161.0 ↔ v1.67.0).
    assert providers == {f"v1.{minor - 94}.0"}
