"""The service's parts alone: codec, disk queue, bounded queue, backoff, console line, metrics merge."""

from __future__ import annotations

import gzip
import io
import json
import random
import time
from pathlib import Path

import pytest
from serve_helpers import encode_spans, make_spans, span_ids

from genai_lens.processor.stats import Stats
from genai_lens.server.admin import render_prometheus
from genai_lens.server.config import RetryConfig
from genai_lens.server.console import ConsoleSender
from genai_lens.server.disk_queue import DiskLog
from genai_lens.server.exporter import parse_retry_after
from genai_lens.server.otlp_codec import (
    PayloadError,
    PayloadTooLarge,
    decode_request,
    decompress,
    gunzip_bounded,
    reject_invalid_spans,
)
from genai_lens.server.queue import BoundedQueue
from genai_lens.server.retry import Backoff
from genai_lens.server.workers import merge_metrics


def test_gunzip_is_bounded_and_handles_members_and_truncation() -> None:
    assert gunzip_bounded(gzip.compress(b"a" * 100) + gzip.compress(b"b" * 50), 150) == b"a" * 100 + b"b" * 50
    with pytest.raises(PayloadTooLarge):
        gunzip_bounded(gzip.compress(b"\0" * 10_000_000), 1024)
    with pytest.raises(PayloadError, match="truncated gzip"):
        gunzip_bounded(gzip.compress(b"x" * 1000)[:-10], 4096)
    with pytest.raises(PayloadError, match="invalid gzip"):
        gunzip_bounded(b"not gzip at all", 4096)
    with pytest.raises(PayloadError, match="unsupported Content-Encoding"):
        decompress(b"x", "br", 10)
    with pytest.raises(PayloadTooLarge):
        decompress(b"x" * 11, None, 10)


def test_otlp_json_ids_are_hex_and_bad_ids_become_partial_rejections() -> None:
    body = json.dumps(
        {
            "resourceSpans": [
                {
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": "5b8efff798038103d269b633813fc60c",
                                    "spanId": "eee19b7ec3c1b174",
                                    "kind": 2,
                                    "links": [
                                        {
                                            "traceId": "5b8efff798038103d269b633813fc60d",
                                            "spanId": "eee19b7ec3c1b175",
                                        }
                                    ],
                                    "unknownField": 1,
                                },
                                {"traceId": "5b8e", "spanId": "eee19b7ec3c1b176"},
                                {"traceId": "00000000000000000000000000000000", "spanId": "eee19b7ec3c1b177"},
                                {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "not-hex!"},
                            ]
                        }
                    ]
                }
            ]
        }
    ).encode()
    request = decode_request(body, "json")
    first = request.resource_spans[0].scope_spans[0].spans[0]
    assert first.trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    assert first.links[0].span_id.hex() == "eee19b7ec3c1b175"
    assert first.kind == 2
    rejected, message = reject_invalid_spans(request)
    assert rejected == 3
    assert "1 span(s): invalid trace_id length (got 2 bytes, want 16)" in message
    assert "1 span(s): invalid trace_id (all zeros)" in message
    assert "1 span(s): invalid span_id length (got 0 bytes, want 8)" in message
    assert [s.span_id.hex() for s in request.resource_spans[0].scope_spans[0].spans] == ["eee19b7ec3c1b174"]


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'{"resourceSpans": 5}',
        b'{"x": "\xff"}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": {}}]}]}]}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "x"}]}]}]}',
    ],
)
def test_bad_json_is_a_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_request(body, "json")


def test_payload_errors_do_not_echo_content() -> None:
    with pytest.raises(PayloadError) as info:
        decode_request(
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 5, "kind": "secret-value"}]}]}]}', "json"
        )
    assert "secret-value" not in str(info.value)


def _payload(count: int) -> tuple[bytes, list[str]]:
    spans = make_spans(count)
    return encode_spans(spans).SerializeToString(), span_ids(spans)


def test_disk_log_replays_unacked_records_and_truncates_a_torn_tail(tmp_path: Path) -> None:
    log = DiskLog(tmp_path, fsync="always", segment_bytes=300)
    assert log.recover() == []
    payloads = [bytes([i]) * 120 for i in range(6)]
    positions = [log.append(p) for p in payloads]
    assert len({seg for seg, _ in positions}) > 1  # rotated into several segments
    log.ack(positions[2])
    log.close()
    segments = sorted(tmp_path.glob("segment-*.log"))
    with open(segments[-1], "ab") as handle:  # a record cut short by kill -9
        handle.write(b"\x00\x00\x10\x00\xde\xad")
    again = DiskLog(tmp_path)
    replayed = again.recover()
    assert [p for p, _ in replayed] == payloads[3:]
    assert again.torn_records == 1
    assert not any(int(p.stem.split("-")[1]) < positions[2][0] for p in tmp_path.glob("segment-*.log"))
    again.ack(replayed[-1][1])
    again.close()
    assert DiskLog(tmp_path).recover() == []


def test_disk_log_stops_at_a_corrupt_record(tmp_path: Path) -> None:
    log = DiskLog(tmp_path)
    log.recover()
    log.append(b"first")
    log.append(b"second")
    log.close()
    segment = next(tmp_path.glob("segment-*.log"))
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0xFF  # flip a bit in the last payload: its CRC no longer matches
    segment.write_bytes(bytes(data))
    assert [p for p, _ in DiskLog(tmp_path).recover()] == [b"first"]


def test_bounded_queue_backpressure_batches_and_persistence(tmp_path: Path) -> None:
    stats = Stats()
    first, _ = _payload(3)
    queue = BoundedQueue(len(first) + 10, stats, DiskLog(tmp_path))
    assert queue.offer(first, 3) is None
    assert queue.offer(first, 3) == "queue_full"  # the caller answers with backpressure
    assert stats.get("genai_lens_queue_bytes") == len(first)
    batch = queue.take(max_spans=100, max_bytes=1 << 20, linger=0, wait=1)
    assert [item.spans for item in batch] == [3]
    assert queue.offer(first, 3) == "queue_full"  # in-flight bytes still count until acknowledged
    queue.close()
    replay = BoundedQueue(10, Stats(), DiskLog(tmp_path))
    assert len(replay) == 1 and replay.bytes_used == len(first)  # unacked → replayed
    replay.ack(replay.take(100, 1 << 20, 0, 1))
    assert replay.bytes_used == 0 and replay.has_room(5)
    replay.stop_accepting()
    assert replay.offer(b"x", 1) == "shutting_down"
    replay.close()
    assert len(BoundedQueue(10, Stats(), DiskLog(tmp_path))) == 0


def test_queue_take_respects_batch_limits() -> None:
    queue = BoundedQueue(1 << 20, Stats())
    for _ in range(5):
        queue.offer(b"x" * 10, 2)
    assert len(queue.take(max_spans=4, max_bytes=1 << 20, linger=0, wait=0)) == 2
    assert len(queue.take(max_spans=100, max_bytes=15, linger=0, wait=0)) == 1
    assert queue.take(100, 1, 0, 0)[0].payload == b"x" * 10  # one oversized item still goes alone
    started = time.monotonic()
    assert queue.take(100, 1 << 20, linger=0, wait=0.2) != []
    assert queue.take(100, 1 << 20, linger=0, wait=0.2) == []
    assert time.monotonic() - started >= 0.15


def test_backoff_grows_with_jitter_honors_server_hints_and_gives_up() -> None:
    config = RetryConfig(initial_interval=0.1, max_interval=1.0, max_elapsed=0, multiplier=2, jitter=0.2)
    backoff = Backoff(config, random.Random(7))
    delays = [backoff.next_delay() for _ in range(6)]
    for attempt, delay in enumerate(delays):
        base = min(1.0, 0.1 * 2**attempt)
        assert delay is not None and base * 0.8 <= delay <= base * 1.2
    assert backoff.next_delay(retry_after=3.5) == 3.5
    limited = Backoff(RetryConfig(initial_interval=1, max_interval=1, max_elapsed=0.5, jitter=0))
    assert limited.next_delay() is None


def test_retry_after_header_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: retry now
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_console_line_has_numbers_and_never_content() -> None:
    spans = make_spans(
        1,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 5,
            "gen_ai.usage.cost": 0.00125,
            "genai_lens.anomaly.flags": ["latency_high", "cost_high"],
            "gen_ai.input.messages": "tell me the secret plan",
        },
    ) + make_spans(1, name="plain http span")
    stream = io.StringIO()
    ConsoleSender(stream).send(encode_spans(spans).SerializeToString(), 2)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1  # the non-GenAI span is not printed
    line = lines[0]
    assert "op=chat model=gpt-4o in=10 out=5 cost=$0.001250" in line
    assert "flags=latency_high,cost_high" in line
    assert "secret plan" not in line


def test_prometheus_render_and_worker_merge() -> None:
    stats = Stats()
    stats.describe("a_total", "A things.")
    stats.add("a_total", 2, reason='quote"d')
    stats.set("b", 1.5)
    text = render_prometheus(stats)
    assert '# TYPE a_total counter\na_total{reason="quote\\"d"} 2\n' in text
    assert "b 1.5" in text
    merged = merge_metrics({0: text, 1: text})
    assert merged.count("# TYPE a_total counter") == 1
    assert 'a_total{reason="quote\\"d",worker="0"} 2' in merged
    assert 'b{worker="1"} 1.5' in merged
