"""Replay recorded provider HTTP traffic (VCR.py cassettes) from a loopback server."""

from genai_lens.replay.cassette import CassetteError, Interaction, load_cassette
from genai_lens.replay.server import UNMATCHED_STATUS, ReceivedRequest, ReplayServer

__all__ = [
    "UNMATCHED_STATUS",
    "CassetteError",
    "Interaction",
    "ReceivedRequest",
    "ReplayServer",
    "load_cassette",
]
