"""``genai-lens`` command line: ``serve`` (the OTLP enrichment service), ``validate``, ``demo``."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

from genai_lens.server.config import (
    ConfigError,
    ServeConfig,
    exporter_from_url,
    load_config,
    parse_host_port,
)


def _endpoint(value: str) -> str:
    if parse_host_port(value) is None:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return value


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genai-lens", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="receive OTLP traces, enrich GenAI spans, forward OTLP")
    serve.add_argument("--config", type=Path, help="YAML config (see examples/serve-config.yaml)")
    serve.add_argument(
        "--grpc-endpoint", type=_endpoint, help="OTLP/gRPC listen HOST:PORT (default 127.0.0.1:4317)"
    )
    serve.add_argument(
        "--http-endpoint", type=_endpoint, help="OTLP/HTTP listen HOST:PORT (default 127.0.0.1:4318)"
    )
    serve.add_argument(
        "--admin-endpoint", type=_endpoint, help="/healthz and /metrics HOST:PORT (default 127.0.0.1:8888)"
    )
    serve.add_argument(
        "--forward",
        metavar="URL",
        help="backend: http(s)://host:port[/path] (OTLP/HTTP), grpc://host:port or grpcs://host:port",
    )
    serve.add_argument("--workers", type=_positive, help="worker processes sharing the ports (SO_REUSEPORT)")
    # Internal: used by the --workers supervisor to start each worker.
    serve.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)
    serve.add_argument("--ready-file", type=Path, default=None, help=argparse.SUPPRESS)

    validate = commands.add_parser("validate", help="check a serve config (and every stage's settings)")
    validate.add_argument("--config", type=Path, required=True)

    # Demo hook: the demo lives in genai_lens.demo (written separately) and is imported only when asked for.
    demo = commands.add_parser("demo", help="run the end-to-end demo")
    demo.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def apply_overrides(config: ServeConfig, args: argparse.Namespace) -> ServeConfig:
    """Command-line flags win over the config file."""
    receivers = config.receivers
    if args.grpc_endpoint:
        receivers = replace(receivers, grpc_endpoint=args.grpc_endpoint)
    if args.http_endpoint:
        receivers = replace(receivers, http_endpoint=args.http_endpoint)
    config = replace(config, receivers=receivers)
    if args.admin_endpoint:
        config = replace(config, admin_endpoint=args.admin_endpoint)
    if args.forward:
        config = replace(config, exporter=exporter_from_url(args.forward, config.exporter))
    if args.workers:
        config = replace(config, workers=args.workers)
    return config


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _config_errors(exc: Exception) -> None:
    errors = exc.errors if isinstance(exc, ConfigError) else str(exc).splitlines()
    print("genai-lens: invalid configuration:", file=sys.stderr)
    for error in errors:
        print(f"  - {error}", file=sys.stderr)


def cmd_serve(args: argparse.Namespace) -> int:
    from genai_lens.processor.stage import StageConfigError

    try:
        config = apply_overrides(load_config(args.config), args)
    except ConfigError as exc:
        _config_errors(exc)
        return 2
    _setup_logging(config.log_level)
    if config.workers > 1 and args.worker_index is None:
        from genai_lens.processor.registry import build_pipeline
        from genai_lens.processor.stage import StageContext
        from genai_lens.server.workers import Supervisor

        try:  # check the stage configs once here rather than N times in crashing workers
            build_pipeline([(p.name, p.config) for p in config.processors], StageContext()).close()
        except StageConfigError as exc:
            _config_errors(exc)
            return 2
        return Supervisor(config, args.argv).run()
    from genai_lens.server.service import Service

    worker_index = args.worker_index or 0
    try:
        service = Service(config, worker_index=worker_index, reuse_port=args.worker_index is not None)
    except StageConfigError as exc:
        _config_errors(exc)
        return 2
    try:
        return service.run(args.ready_file)
    except OSError as exc:
        logging.getLogger("genai_lens.server").error("cannot start: %s", exc)
        return 1


def cmd_validate(args: argparse.Namespace) -> int:
    from genai_lens.processor.registry import build_pipeline
    from genai_lens.processor.stage import StageConfigError, StageContext
    from genai_lens.processor.stats import Stats

    try:
        config = load_config(args.config)
        pipeline = build_pipeline(
            [(p.name, p.config) for p in config.processors], StageContext(stats=Stats())
        )
    except (ConfigError, StageConfigError) as exc:
        _config_errors(exc)
        return 1
    pipeline.close()
    print(
        f"{args.config}: valid (processors: {', '.join(p.name for p in config.processors) or 'none'}; "
        f"exporter: {config.exporter.name})"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    # DEMO HOOK: the demo is written separately as genai_lens.demo.main (a module with main(argv), or a
    # function main in genai_lens.demo); it is imported only here so serve/validate never depend on it.
    import importlib

    try:
        target = importlib.import_module("genai_lens.demo.main")
    except ModuleNotFoundError as exc:
        if exc.name not in ("genai_lens.demo", "genai_lens.demo.main"):
            raise
        try:
            target = importlib.import_module("genai_lens.demo")
        except ModuleNotFoundError:
            print("genai-lens demo: the demo is not installed in this build", file=sys.stderr)
            return 1
    run = getattr(target, "main", None)
    run = getattr(run, "main", run)
    if not callable(run):
        print("genai-lens demo: genai_lens.demo has no main()", file=sys.stderr)
        return 1
    return int(run(args.args) or 0)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # --workers re-runs these for each worker
    handlers = {"serve": cmd_serve, "validate": cmd_validate, "demo": cmd_demo}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
