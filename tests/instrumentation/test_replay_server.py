"""The cassette replay server: decoding, matching, streaming, and clear errors."""

from __future__ import annotations

import http.client
import json
import time

import pytest

from genai_lens.replay import UNMATCHED_STATUS, CassetteError, ReplayServer, load_cassette


def post(server: ReplayServer, path: str, body: dict) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    return connection.getresponse()


def test_gzip_body_is_served_decoded_with_consistent_headers(replay):
    server = replay("openai/chat_basic_gpt35.yaml")
    response = post(server, "/v1/chat/completions", server.interactions[0].request_json)
    body = response.read()
    assert response.status == 200
    assert response.getheader("Content-Encoding") is None
    assert int(response.getheader("Content-Length")) == len(body)
    assert json.loads(body)["object"] == "chat.completion"


def test_repeated_recordings_replay_in_order_then_repeat(replay):
    server = replay("openai/chat_basic_gpt35.yaml")
    request = server.interactions[1].request_json
    ids = [json.loads(post(server, "/v1/chat/completions", request).read())["id"] for _ in range(5)]
    assert len(set(ids[:4])) == 4  # the four recordings, each once
    assert ids[4] in ids[:4]  # then the best match again rather than an error


def test_most_similar_body_wins(replay):
    server = replay("openai/chat_vision_image_url_and_400.yaml")
    request = server.interactions[2].request_json
    assert request["model"] == "gpt-4o-mini"
    response = post(server, "/v1/chat/completions", request)
    assert response.status == 400
    assert server.requests[0].matched is server.interactions[2]


def test_unmatched_request_gets_a_clear_error(replay):
    server = replay("openai/chat_basic_gpt35.yaml")
    response = post(server, "/v1/embeddings", {"input": "x"})
    error = json.loads(response.read())["error"]
    assert response.status == UNMATCHED_STATUS
    assert error["type"] == "genai_lens_replay_unmatched"
    assert "/v1/embeddings" in error["message"]
    assert server.requests[0].matched is None and server.requests[0].json == {"input": "x"}


def test_event_stream_is_sent_event_by_event(replay):
    server = replay("openai/chat_streaming_include_usage_gpt4.yaml", chunk_delay=0.05)
    response = post(server, "/v1/chat/completions", server.interactions[0].request_json)
    assert response.getheader("Transfer-Encoding") == "chunked"
    start = time.monotonic()
    first = response.read1()
    first_at = time.monotonic() - start
    rest = response.read()
    total = time.monotonic() - start
    assert first.startswith(b"data: ") and first.endswith(b"\n\n") and first.count(b"data: ") == 1
    assert rest.endswith(b"data: [DONE]\n\n")
    assert total > first_at + 0.2  # later events really arrived later


def test_directory_of_cassettes(tmp_path):
    (tmp_path / "bad.yaml").write_text("just: a mapping\n")
    with pytest.raises(CassetteError, match="not a VCR cassette"):
        ReplayServer(tmp_path)
    with pytest.raises(CassetteError, match="cannot read"):
        load_cassette(tmp_path / "missing.yaml")


def test_base_url_before_start_is_an_error():
    server = ReplayServer([])
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.base_url
