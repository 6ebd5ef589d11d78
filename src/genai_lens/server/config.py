"""The ``serve`` configuration: collector-style YAML, ``${env:VAR}`` substitution, and validation.

Everything is checked when the service starts, and every error names the dotted path of the bad key
(``exporters.otlp.retry.multiplier: expected a number``) so a typo fails fast instead of on the first span.
The shape is documented, with every key, in ``examples/serve-config.yaml``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from genai_lens.processor.registry import STAGES

DEFAULT_PROCESSORS = ("redact", "normalize", "cost", "anomaly")
"""Redact first: normalize copies content into ``gen_ai.*.messages`` while keeping the originals, so running
redact after it would scan every piece of content twice; everything normalize writes is derived from what
redact already scanned."""
DEFAULT_GRPC_ENDPOINT = "127.0.0.1:4317"
DEFAULT_HTTP_ENDPOINT = "127.0.0.1:4318"
DEFAULT_ADMIN_ENDPOINT = "127.0.0.1:8888"
EXPORTER_TYPES = ("otlp", "otlphttp", "console")


class ConfigError(ValueError):
    """The configuration is wrong; ``errors`` holds one message per bad key, each starting with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


# -- value types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerTLS:
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class ClientTLS:
    """TLS towards a backend; ``insecure`` means plaintext (gRPC) — https URLs always use TLS."""

    insecure: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False


@dataclass(frozen=True)
class ReceiverConfig:
    grpc_endpoint: str | None = DEFAULT_GRPC_ENDPOINT
    http_endpoint: str | None = DEFAULT_HTTP_ENDPOINT
    grpc_tls: ServerTLS | None = None
    http_tls: ServerTLS | None = None
    bearer_token: str | None = None
    max_request_bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True)
class BatchConfig:
    max_spans: int = 512
    max_bytes: int = 4 * 1024 * 1024
    flush_interval: float = 0.2


@dataclass(frozen=True)
class RetryConfig:
    initial_interval: float = 0.5
    max_interval: float = 30.0
    max_elapsed: float = 300.0  # 0 = retry until delivered (or shutdown)
    multiplier: float = 2.0
    jitter: float = 0.2


@dataclass(frozen=True)
class ExporterConfig:
    name: str = "console"
    type: str = "console"
    endpoint: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    compression: str = "gzip"
    timeout: float = 10.0
    tls: ClientTLS = field(default_factory=ClientTLS)
    batch: BatchConfig = field(default_factory=BatchConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)


@dataclass(frozen=True)
class QueueConfig:
    max_bytes: int = 64 * 1024 * 1024
    directory: Path | None = None
    fsync: str = "always"
    segment_bytes: int = 16 * 1024 * 1024
    retry_after: float = 1.0


@dataclass(frozen=True)
class ProcessorSpec:
    name: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class ServeConfig:
    receivers: ReceiverConfig = field(default_factory=ReceiverConfig)
    processors: tuple[ProcessorSpec, ...] = tuple(ProcessorSpec(n, {}) for n in DEFAULT_PROCESSORS)
    exporter: ExporterConfig = field(default_factory=ExporterConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    admin_endpoint: str | None = DEFAULT_ADMIN_ENDPOINT
    workers: int = 1
    shutdown_timeout: float = 10.0
    log_level: str = "info"

    def with_overrides(self, **changes: Any) -> ServeConfig:
        return replace(self, **changes)


# -- environment substitution ----------------------------------------------------------------------

_ENV_REF = re.compile(r"\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def substitute_env(value: Any, env: Mapping[str, str], path: str, errors: list[str]) -> Any:
    """Replace ``${env:VAR}`` / ``${env:VAR:-default}`` in every string; ``$$`` is a literal ``$``.

    A string that is exactly one reference is re-read as a YAML scalar (so ``workers: ${env:N}`` is an int),
    as the collector does.
    """
    if isinstance(value, dict):
        return {k: substitute_env(v, env, _join(path, str(k)), errors) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, env, f"{path}[{i}]", errors) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        errors.append(f"{path}: environment variable {name} is not set (use ${{env:{name}:-default}})")
        return ""

    whole = _ENV_REF.fullmatch(value)
    result = _ENV_REF.sub(one, value)
    if whole and whole.group(0) != "$$":
        try:
            loaded = yaml.safe_load(result) if result else ""
        except yaml.YAMLError:
            return result
        return loaded if isinstance(loaded, str | int | float | bool) or loaded is None else result
    return result


# -- a small path-tracking reader ------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Section:
    """Reads typed keys from one mapping, collecting errors that name the full path."""

    def __init__(self, data: Any, path: str, errors: list[str], allowed: set[str]) -> None:
        self.path = path
        self.errors = errors
        if data is None:
            data = {}
        if not isinstance(data, dict):
            errors.append(f"{path}: expected a mapping, got {type(data).__name__}")
            data = {}
        self.data: dict[str, Any] = data
        for key in sorted(set(map(str, data)) - allowed):
            errors.append(f"{_join(path, key)}: unknown key (allowed: {', '.join(sorted(allowed))})")

    def has(self, key: str) -> bool:
        return key in self.data

    def at(self, key: str) -> str:
        return _join(self.path, key)

    def raw(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def section(self, key: str, allowed: set[str]) -> _Section:
        return _Section(self.data.get(key), self.at(key), self.errors, allowed)

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.errors.append(f"{self.at(key)}: expected a string, got {type(value).__name__}")
        return default

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if isinstance(value, bool):
            return value
        self.errors.append(f"{self.at(key)}: expected true or false, got {value!r}")
        return default

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors.append(f"{self.at(key)}: expected an integer, got {value!r}")
            return default
        if value < minimum:
            self.errors.append(f"{self.at(key)}: must be >= {minimum}, got {value}")
            return default
        return value

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors.append(f"{self.at(key)}: expected a number, got {value!r}")
            return default
        if value < minimum:
            self.errors.append(f"{self.at(key)}: must be >= {minimum}, got {value}")
            return default
        return float(value)

    def duration(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        seconds = parse_duration(value)
        if seconds is None:
            self.errors.append(
                f"{self.at(key)}: expected a duration like 500ms, 5s, 2m or a number of seconds, "
                f"got {value!r}"
            )
            return default
        return seconds

    def size(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        size = parse_size(value)
        if size is None or size <= 0:
            self.errors.append(
                f"{self.at(key)}: expected a positive size like 4MiB, 512KiB or a byte count, got {value!r}"
            )
            return default
        return size

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            self.errors.append(f"{self.at(key)}: expected one of {', '.join(choices)}, got {value!r}")
            return default
        return str(value)

    def endpoint(self, key: str, default: str | None) -> str | None:
        value = self.string(key, default)
        if value is not None and parse_host_port(value) is None:
            self.errors.append(f"{self.at(key)}: expected HOST:PORT (port 0-65535), got {value!r}")
            return default
        return value

    def path_value(self, key: str, must_exist: bool = True) -> Path | None:
        value = self.string(key)
        if value is None:
            return None
        path = Path(value).expanduser()
        if must_exist and not path.is_file():
            self.errors.append(f"{self.at(key)}: file not found: {value}")
        return path


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}


def parse_duration(value: Any) -> float | None:
    """Seconds from ``500ms``/``5s``/``2m``/``1h`` or a plain number of seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value)
    if not match:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}[match.group(2)]
    return float(match.group(1)) * scale


def parse_size(value: Any) -> int | None:
    """Bytes from ``4MiB``/``512KB``/``1000`` (binary and decimal units)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    match = _SIZE.match(value)
    if not match:
        return None
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]


def parse_host_port(value: str) -> tuple[str, int] | None:
    """``(host, port)`` from ``HOST:PORT``, ``[::1]:PORT`` or ``:PORT`` (all interfaces)."""
    if value.startswith("["):
        host, sep, port = value[1:].partition("]:")
    else:
        host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        return None
    return (host or "0.0.0.0"), int(port)


# -- the schema ------------------------------------------------------------------------------------


def _server_tls(section: _Section, key: str) -> ServerTLS | None:
    if not section.has(key):
        return None
    tls = section.section(key, {"cert_file", "key_file"})
    cert, key_file = tls.path_value("cert_file"), tls.path_value("key_file")
    if cert is None or key_file is None:
        section.errors.append(f"{tls.path}: both cert_file and key_file are required")
        return None
    return ServerTLS(cert, key_file)


def _receivers(root: _Section) -> ReceiverConfig:
    receivers = root.section("receivers", {"otlp"})
    otlp = receivers.section("otlp", {"protocols", "auth", "max_request_bytes"})
    protocols = otlp.section("protocols", {"grpc", "http"})
    defaults = ReceiverConfig()
    grpc_endpoint = http_endpoint = None
    grpc_tls = http_tls = None
    explicit = protocols.has("grpc") or protocols.has("http")
    if protocols.has("grpc") or not explicit:
        grpc = protocols.section("grpc", {"endpoint", "tls"})
        grpc_endpoint = grpc.endpoint("endpoint", DEFAULT_GRPC_ENDPOINT)
        grpc_tls = _server_tls(grpc, "tls")
    if protocols.has("http") or not explicit:
        http = protocols.section("http", {"endpoint", "tls"})
        http_endpoint = http.endpoint("endpoint", DEFAULT_HTTP_ENDPOINT)
        http_tls = _server_tls(http, "tls")
    auth = otlp.section("auth", {"bearer_token"})
    token = auth.string("bearer_token")
    if token is not None and not token.strip():
        root.errors.append(f"{auth.at('bearer_token')}: must not be empty (remove the key to turn auth off)")
        token = None
    return ReceiverConfig(
        grpc_endpoint=grpc_endpoint,
        http_endpoint=http_endpoint,
        grpc_tls=grpc_tls,
        http_tls=http_tls,
        bearer_token=token,
        max_request_bytes=otlp.size("max_request_bytes", defaults.max_request_bytes),
    )


def _exporter(name: str, section: _Section) -> ExporterConfig:
    kind = name.split("/", 1)[0]
    endpoint = section.string("endpoint")
    if not endpoint:
        section.errors.append(f"{section.at('endpoint')}: required for the {kind} exporter")
        endpoint = ""
    elif kind == "otlp":
        scheme = urlsplit(endpoint).scheme if "://" in endpoint else ""
        bare = endpoint.split("://", 1)[1] if scheme else endpoint
        if scheme not in ("", "http", "https", "grpc", "grpcs") or parse_host_port(bare.rstrip("/")) is None:
            section.errors.append(
                f"{section.at('endpoint')}: expected HOST:PORT (or grpc[s]://HOST:PORT), got {endpoint!r}"
            )
    else:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            section.errors.append(f"{section.at('endpoint')}: expected an http(s):// URL, got {endpoint!r}")
    headers_raw = section.raw("headers", {}) or {}
    headers: dict[str, str] = {}
    if not isinstance(headers_raw, dict):
        section.errors.append(f"{section.at('headers')}: expected a mapping of header name to value")
    else:
        for key, value in headers_raw.items():
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                section.errors.append(f"{section.at('headers')}.{key}: expected a string value")
            else:
                headers[str(key).lower() if kind == "otlp" else str(key)] = str(value)
    tls_section = section.section(
        "tls", {"insecure", "ca_file", "cert_file", "key_file", "insecure_skip_verify"}
    )
    tls = ClientTLS(
        insecure=tls_section.boolean("insecure", False),
        ca_file=tls_section.path_value("ca_file"),
        cert_file=tls_section.path_value("cert_file"),
        key_file=tls_section.path_value("key_file"),
        insecure_skip_verify=tls_section.boolean("insecure_skip_verify", False),
    )
    if (tls.cert_file is None) != (tls.key_file is None):
        section.errors.append(f"{tls_section.path}: cert_file and key_file go together (client certificate)")
    b = section.section("batch", {"max_spans", "max_bytes", "flush_interval"})
    d = BatchConfig()
    batch = BatchConfig(
        max_spans=b.integer("max_spans", d.max_spans, minimum=1),
        max_bytes=b.size("max_bytes", d.max_bytes),
        flush_interval=b.duration("flush_interval", d.flush_interval),
    )
    r = section.section("retry", {"initial_interval", "max_interval", "max_elapsed", "multiplier", "jitter"})
    rd = RetryConfig()
    retry = RetryConfig(
        initial_interval=r.duration("initial_interval", rd.initial_interval),
        max_interval=r.duration("max_interval", rd.max_interval),
        max_elapsed=r.duration("max_elapsed", rd.max_elapsed),
        multiplier=r.number("multiplier", rd.multiplier, minimum=1.0),
        jitter=r.number("jitter", rd.jitter),
    )
    if retry.jitter > 1:
        section.errors.append(f"{r.at('jitter')}: must be between 0 and 1, got {retry.jitter}")
    return ExporterConfig(
        name=name,
        type=kind,
        endpoint=endpoint,
        headers=headers,
        compression=section.choice("compression", "gzip", ("gzip", "none")),
        timeout=section.duration("timeout", 10.0),
        tls=tls,
        batch=batch,
        retry=retry,
    )


_EXPORTER_KEYS = {
    "otlp": {"endpoint", "headers", "compression", "timeout", "tls", "batch", "retry"},
    "otlphttp": {"endpoint", "headers", "compression", "timeout", "tls", "batch", "retry"},
    "console": set(),
}


def _exporters(root: _Section) -> dict[str, ExporterConfig]:
    raw = root.raw("exporters", {}) or {}
    if not isinstance(raw, dict):
        root.errors.append(f"exporters: expected a mapping, got {type(raw).__name__}")
        return {}
    result: dict[str, ExporterConfig] = {}
    for name in raw:
        kind = str(name).split("/", 1)[0]
        path = f"exporters.{name}"
        if kind not in EXPORTER_TYPES:
            root.errors.append(
                f"{path}: unknown exporter type '{kind}' (known: {', '.join(EXPORTER_TYPES)}; "
                f"name several of one type as type/name, e.g. otlp/honeycomb)"
            )
            continue
        section = _Section(raw[name], path, root.errors, _EXPORTER_KEYS[kind])
        if kind == "console":
            result[str(name)] = ExporterConfig(name=str(name), type="console")
            continue
        result[str(name)] = _exporter(str(name), section)
    return result


def _processors(root: _Section, pipeline: _Section) -> tuple[ProcessorSpec, ...]:
    raw = root.raw("processors", {}) or {}
    if not isinstance(raw, dict):
        root.errors.append(f"processors: expected a mapping, got {type(raw).__name__}")
        raw = {}
    configs: dict[str, dict[str, Any]] = {}
    disabled: set[str] = set()
    for name, cfg in raw.items():
        path = f"processors.{name}"
        if cfg is None:
            cfg = {}
        if not isinstance(cfg, dict):
            root.errors.append(f"{path}: expected a mapping, got {type(cfg).__name__}")
            continue
        cfg = dict(cfg)
        enabled = cfg.pop("enabled", True)
        if not isinstance(enabled, bool):
            root.errors.append(f"{path}.enabled: expected true or false, got {enabled!r}")
        elif not enabled:
            disabled.add(str(name))
        configs[str(name)] = cfg
    if pipeline.has("processors"):
        order = pipeline.raw("processors")
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            root.errors.append(f"{pipeline.at('processors')}: expected a list of processor names")
            return ()
        seen: set[str] = set()
        for i, name in enumerate(order):
            if name in seen:
                root.errors.append(f"{pipeline.at('processors')}[{i}]: '{name}' is listed twice")
            elif name not in STAGES and ":" not in name:
                root.errors.append(
                    f"{pipeline.at('processors')}[{i}]: unknown processor '{name}' "
                    f"(known: {', '.join(sorted(STAGES))})"
                )
            seen.add(name)
        names = [n for n in order if n not in disabled]
    else:
        names = [n for n in DEFAULT_PROCESSORS if n not in disabled]
        names += [n for n in configs if n not in DEFAULT_PROCESSORS and n not in disabled]
    for name in configs:
        if name not in STAGES and ":" not in name:
            root.errors.append(f"processors.{name}: unknown processor (known: {', '.join(sorted(STAGES))})")
    return tuple(ProcessorSpec(name, configs.get(name, {})) for name in names)


def build_config(data: Any, env: Mapping[str, str] | None = None) -> ServeConfig:
    """Check a parsed YAML document and turn it into a :class:`ServeConfig` (raises :class:`ConfigError`)."""
    errors: list[str] = []
    data = substitute_env(data if data is not None else {}, os.environ if env is None else env, "", errors)
    root = _Section(data, "", errors, {"receivers", "processors", "exporters", "queue", "service"})
    receivers = _receivers(root)
    service = root.section("service", {"pipeline", "admin", "workers", "shutdown_timeout", "log_level"})
    pipeline = service.section("pipeline", {"processors", "exporter"})
    processors = _processors(root, pipeline)

    exporters = _exporters(root)
    chosen = pipeline.string("exporter")
    if chosen is not None:
        if chosen not in exporters:
            known = ", ".join(exporters) or "none configured"
            errors.append(
                f"service.pipeline.exporter: '{chosen}' is not under exporters (configured: {known})"
            )
            exporter = ExporterConfig()
        else:
            exporter = exporters[chosen]
    elif len(exporters) > 1:
        errors.append("service.pipeline.exporter: several exporters are configured; name the one to use")
        exporter = ExporterConfig()
    else:
        exporter = next(iter(exporters.values()), ExporterConfig())

    q = root.section("queue", {"max_bytes", "directory", "fsync", "segment_bytes", "retry_after"})
    qd = QueueConfig()
    directory = q.string("directory")
    queue = QueueConfig(
        max_bytes=q.size("max_bytes", qd.max_bytes),
        directory=Path(directory).expanduser() if directory else None,
        fsync=q.choice("fsync", qd.fsync, ("always", "never")),
        segment_bytes=q.size("segment_bytes", qd.segment_bytes),
        retry_after=q.duration("retry_after", qd.retry_after),
    )
    admin = service.section("admin", {"endpoint"})
    admin_off = admin.has("endpoint") and admin.raw("endpoint") in ("", None)  # an empty endpoint: no admin
    admin_endpoint = None if admin_off else admin.endpoint("endpoint", DEFAULT_ADMIN_ENDPOINT)
    config = ServeConfig(
        receivers=receivers,
        processors=processors,
        exporter=exporter,
        queue=queue,
        admin_endpoint=admin_endpoint,
        workers=service.integer("workers", 1, minimum=1),
        shutdown_timeout=service.duration("shutdown_timeout", 10.0),
        log_level=service.choice("log_level", "info", ("debug", "info", "warning", "error")),
    )
    if config.receivers.grpc_endpoint is None and config.receivers.http_endpoint is None:
        errors.append("receivers.otlp.protocols: enable at least one of grpc, http")
    if errors:
        raise ConfigError(errors)
    return config


def load_config(path: str | Path | None, env: Mapping[str, str] | None = None) -> ServeConfig:
    """Read and check a YAML file; ``None`` gives the defaults (all stages, console exporter)."""
    if path is None:
        return build_config({}, env)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read config file: {exc.strerror or exc}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from exc
    return build_config(data, env)


def exporter_from_url(url: str, base: ExporterConfig | None = None) -> ExporterConfig:
    """The exporter for ``--forward URL``: http(s):// is OTLP/HTTP (path /v1/traces), grpc[s]:// OTLP/gRPC."""
    base = base if base is not None and base.type != "console" else ExporterConfig()
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ConfigError([f"--forward: no host in {url!r}"])
        path = parts.path if parts.path not in ("", "/") else "/v1/traces"
        endpoint = f"{parts.scheme}://{parts.netloc}{path}"
        return replace(base, name="otlphttp", type="otlphttp", endpoint=endpoint)
    if parts.scheme in ("grpc", "grpcs"):
        if parse_host_port(parts.netloc) is None:
            raise ConfigError([f"--forward: expected grpc://HOST:PORT, got {url!r}"])
        tls = replace(base.tls, insecure=parts.scheme == "grpc")
        return replace(base, name="otlp", type="otlp", endpoint=parts.netloc, tls=tls)
    raise ConfigError([f"--forward: unsupported URL {url!r} (use http://, https://, grpc:// or grpcs://)"])
