"""The serve config: env substitution, defaults, errors naming the bad key's path, and the CLI around it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from serve_helpers import REPO, run_cli

from genai_lens.processor.registry import STAGES, build_pipeline, stage_class
from genai_lens.processor.stage import StageConfigError, StageContext
from genai_lens.server.config import (
    DEFAULT_PROCESSORS,
    ConfigError,
    build_config,
    exporter_from_url,
    parse_duration,
    parse_size,
)


def errors_of(data: object, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        build_config(data, env or {})
    return info.value.errors


def test_defaults_are_safe_and_useful() -> None:
    config = build_config({}, {})
    assert config.receivers.grpc_endpoint == "127.0.0.1:4317"
    assert config.receivers.http_endpoint == "127.0.0.1:4318"
    assert config.admin_endpoint == "127.0.0.1:8888"
    assert [p.name for p in config.processors] == list(DEFAULT_PROCESSORS)
    assert config.exporter.type == "console"
    assert config.queue.directory is None and config.workers == 1


def test_env_substitution_with_defaults_types_and_escapes() -> None:
    env = {"PORT_GRPC": "5317", "WORKERS": "3", "KEY": "abc$def"}
    config = build_config(
        {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:${env:PORT_GRPC}"}}}},
            "exporters": {
                "otlphttp": {
                    "endpoint": "http://${env:HOST:-collector}:4318",
                    "headers": {"x-honeycomb-team": "${env:KEY}", "x-lit": "$$5"},
                }
            },
            "service": {"workers": "${env:WORKERS}", "shutdown_timeout": "${env:T:-2s}"},
        },
        env,
    )
    assert config.receivers.grpc_endpoint == "0.0.0.0:5317"
    assert config.receivers.http_endpoint is None  # only grpc listed → http off
    assert config.exporter.endpoint == "http://collector:4318"
    assert config.exporter.headers == {"x-honeycomb-team": "abc$def", "x-lit": "$5"}
    assert config.workers == 3  # a whole-value reference keeps its YAML type
    assert config.shutdown_timeout == 2.0


def test_errors_name_the_path_of_every_bad_key() -> None:
    errors = errors_of(
        {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpiont": "x"}}, "max_request_bytes": "lots"}},
            "exporters": {
                "otlp": {"endpoint": "${env:MISSING}", "retry": {"multiplier": "x", "jitter": 3}},
                "zipkin": {},
            },
            "queue": {"fsync": "sometimes"},
            "service": {"workers": 0, "pipeline": {"processors": ["normalize", "nope", "normalize"]}},
            "extra": 1,
        }
    )
    text = "\n".join(errors)
    for expected in [
        "extra: unknown key",
        "receivers.otlp.protocols.grpc.endpiont: unknown key (allowed: endpoint, tls)",
        "receivers.otlp.max_request_bytes: expected a positive size",
        "exporters.otlp.endpoint: environment variable MISSING is not set",
        "exporters.otlp.retry.multiplier: expected a number",
        "exporters.otlp.retry.jitter: must be between 0 and 1",
        "exporters.zipkin: unknown exporter type 'zipkin'",
        "queue.fsync: expected one of always, never, got 'sometimes'",
        "service.workers: must be >= 1, got 0",
        "service.pipeline.processors[1]: unknown processor 'nope'",
        "service.pipeline.processors[2]: 'normalize' is listed twice",
    ]:
        assert expected in text, f"missing {expected!r} in:\n{text}"


def test_exporter_choice() -> None:
    two = {"otlp/a": {"endpoint": "127.0.0.1:1"}, "otlphttp/b": {"endpoint": "http://127.0.0.1:2"}}
    assert "several exporters are configured" in "\n".join(errors_of({"exporters": two}))
    assert "'c' is not under exporters" in "\n".join(
        errors_of({"exporters": two, "service": {"pipeline": {"exporter": "c"}}})
    )
    chosen = build_config({"exporters": two, "service": {"pipeline": {"exporter": "otlphttp/b"}}}, {})
    assert (chosen.exporter.name, chosen.exporter.type) == ("otlphttp/b", "otlphttp")
    assert "expected an http(s):// URL" in "\n".join(
        errors_of({"exporters": {"otlphttp": {"endpoint": "x:1"}}})
    )
    assert "exporters.console.a: unknown key" in "\n".join(errors_of({"exporters": {"console": {"a": 1}}}))


def test_processor_order_and_enabled_flag() -> None:
    config = build_config(
        {"processors": {"redact": {"enabled": False}, "cost": {"overrides_file": "p.yaml"}}}, {}
    )
    assert [p.name for p in config.processors] == ["normalize", "cost", "anomaly"]
    assert dict(config.processors[1].config) == {"overrides_file": "p.yaml"}
    ordered = build_config({"service": {"pipeline": {"processors": ["cost", "normalize"]}}}, {})
    assert [p.name for p in ordered.processors] == ["cost", "normalize"]


def test_durations_and_sizes() -> None:
    assert parse_duration("250ms") == 0.25 and parse_duration("2m") == 120 and parse_duration(3) == 3.0
    assert parse_duration("soon") is None and parse_duration(-1) is None
    assert parse_size("4MiB") == 4 * 1024 * 1024 and parse_size("1KB") == 1000 and parse_size(7) == 7
    assert parse_size("big") is None


def test_forward_urls() -> None:
    http = exporter_from_url("https://ingest.example:4318")
    assert (http.type, http.endpoint) == ("otlphttp", "https://ingest.example:4318/v1/traces")
    assert exporter_from_url("http://h:1/custom/path").endpoint == "http://h:1/custom/path"
    grpc_plain = exporter_from_url("grpc://127.0.0.1:4317")
    assert (grpc_plain.type, grpc_plain.endpoint, grpc_plain.tls.insecure) == ("otlp", "127.0.0.1:4317", True)
    assert exporter_from_url("grpcs://h:443").tls.insecure is False
    with pytest.raises(ConfigError, match="unsupported URL"):
        exporter_from_url("ftp://h:1")


def test_registry_reports_missing_and_unknown_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(STAGES, "ghost", "genai_lens.processor.does_not_exist:GhostStage")
    with pytest.raises(
        StageConfigError, match="processor 'ghost': cannot import genai_lens.processor.does_not_exist"
    ):
        stage_class("ghost")
    with pytest.raises(StageConfigError, match="unknown processor"):
        stage_class("nonexistent")
    with pytest.raises(StageConfigError, match="is not a Stage class"):
        stage_class("genai_lens.server.config:ServeConfig")
    with pytest.raises(StageConfigError) as info:
        build_pipeline([("serve_test_stages:TagStage", {"valu": 1}), ("ghost", {})], StageContext())
    assert "unknown key(s) valu" in str(info.value) and "processor 'ghost'" in str(info.value)


def test_validate_accepts_the_documented_example() -> None:
    result = run_cli("validate", "--config", str(REPO / "examples" / "serve-config.yaml"))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_validate_reports_config_and_stage_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"service": {"admin": {"endpoint": "nowhere"}}}))
    result = run_cli("validate", "--config", str(bad))
    assert result.returncode != 0
    assert "service.admin.endpoint: expected HOST:PORT" in result.stderr
    stage_bad = tmp_path / "stage.yaml"
    stage_bad.write_text(
        yaml.safe_dump(
            {
                "processors": {"serve_test_stages:TagStage": {"value": 5}},
                "service": {"pipeline": {"processors": ["serve_test_stages:TagStage"]}},
            }
        )
    )
    result = run_cli("validate", "--config", str(stage_bad))
    assert result.returncode != 0
    assert "processor 'tag': value must be a string" in result.stderr
    assert run_cli("validate", "--config", str(tmp_path / "missing.yaml")).returncode != 0
    (tmp_path / "broken.yaml").write_text("receivers: [unclosed")
    broken = run_cli("validate", "--config", str(tmp_path / "broken.yaml"))
    assert broken.returncode != 0 and "not valid YAML" in broken.stderr


def test_serve_refuses_a_bad_config_at_start(serve) -> None:
    process = serve({"exporters": {"otlp": {"endpoint": "h:1", "timeout": "forever"}}}, start=False)
    process.start_no_wait()
    assert process.wait(30) == 2
    assert "exporters.otlp.timeout: expected a duration" in process.stderr()


def test_a_port_in_use_is_a_clear_start_error(serve) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for flag in ("--grpc-endpoint", "--http-endpoint"):
            args = {
                "--grpc-endpoint": "127.0.0.1:0",
                "--http-endpoint": "127.0.0.1:0",
                flag: f"127.0.0.1:{port}",
            }
            process = serve(
                None,
                *[x for pair in args.items() for x in pair],
                "--admin-endpoint",
                "127.0.0.1:0",
                start=False,
            )
            process.start_no_wait()
            assert process.wait(30) == 1
            assert (
                f"cannot start: OTLP/{'gRPC' if 'grpc' in flag else 'HTTP'} receiver on 127.0.0.1:{port}"
                in (process.stderr())
            )
