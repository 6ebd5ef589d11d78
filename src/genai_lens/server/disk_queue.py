"""A write-ahead log that makes accepted spans survive ``kill -9``: append-only segments plus an ack mark.

Layout of ``queue.directory`` (one per worker, ``worker-K``)::

    segment-00000001.log   records: [u32 big-endian length][u32 CRC-32 of payload][payload]
    segment-00000002.log   a new segment when the current one passes ``segment_bytes`` (and at every start)
    ack                    "SEGMENT OFFSET": everything before that offset of that segment was delivered

A record is appended (and, with ``fsync: always``, fsynced) *before* the sender is told its spans were
accepted. ``fsync: never`` leaves flushing to the OS: still safe against a killed process (the page cache
survives it) but not against power loss. The ack mark is written with write-to-temp + rename after each
delivered batch; a crash between delivery and that rename redelivers the batch (at-least-once). On start the
log is scanned from the ack mark; a torn record at a segment's tail (a write cut by the kill) is truncated
and counted, everything before it is replayed. Segments wholly before the ack mark are deleted.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("genai_lens.server")

_HEADER = struct.Struct(">II")
Position = tuple[int, int]  # (segment id, offset just past the record)


def _segment_name(segment: int) -> str:
    return f"segment-{segment:08d}.log"


class DiskLog:
    """Durable FIFO of opaque payloads, acknowledged in order."""

    def __init__(self, directory: Path, fsync: str = "always", segment_bytes: int = 16 * 1024 * 1024) -> None:
        self.directory = directory
        self.fsync = fsync == "always"
        self.segment_bytes = segment_bytes
        self.torn_records = 0
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        self._ack: Position = self._read_ack()
        self._segment = 0
        self._file: BinaryIO | None = None

    # -- recovery -------------------------------------------------------------------------------
    def _read_ack(self) -> Position:
        try:
            seg, off = (self.directory / "ack").read_text().split()
            return int(seg), int(off)
        except (OSError, ValueError):
            return (0, 0)

    def _segments(self) -> list[int]:
        ids = []
        for path in self.directory.glob("segment-*.log"):
            try:
                ids.append(int(path.stem.split("-", 1)[1]))
            except ValueError:
                continue
        return sorted(ids)

    def recover(self) -> list[tuple[bytes, Position]]:
        """The records not yet acknowledged, oldest first; opens a fresh segment for new appends."""
        records: list[tuple[bytes, Position]] = []
        segments = self._segments()
        ack_seg, ack_off = self._ack
        for seg in segments:
            path = self.directory / _segment_name(seg)
            if seg < ack_seg:
                path.unlink(missing_ok=True)
                continue
            start = ack_off if seg == ack_seg else 0
            records.extend(self._scan(path, seg, start))
        self._segment = (segments[-1] if segments else 0) + 1
        self._open_segment()
        return records

    def _scan(self, path: Path, seg: int, start: int) -> list[tuple[bytes, Position]]:
        data = path.read_bytes()
        records: list[tuple[bytes, Position]] = []
        offset = start
        while offset < len(data):
            if offset + _HEADER.size > len(data):
                break
            length, crc = _HEADER.unpack_from(data, offset)
            end = offset + _HEADER.size + length
            if end > len(data) or zlib.crc32(data[offset + _HEADER.size : end]) != crc:
                break
            records.append((data[offset + _HEADER.size : end], (seg, end)))
            offset = end
        if offset < len(data):
            self.torn_records += 1
            log.warning(
                "disk queue: truncating %d bytes of a torn or corrupt record in %s",
                len(data) - offset,
                path.name,
            )
            with open(path, "r+b") as handle:
                handle.truncate(offset)
        return records

    # -- appends ----------------------------------------------------------------------------------
    def _open_segment(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = open(self.directory / _segment_name(self._segment), "ab")
        if self.fsync:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def append(self, payload: bytes) -> Position:
        """Write one record durably (per the fsync policy) and return its position for :meth:`ack`."""
        with self._lock:
            handle = self._file
            assert handle is not None, "recover() must run before append()"
            if handle.tell() >= self.segment_bytes:
                self._segment += 1
                self._open_segment()
                handle = self._file
            handle.write(_HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
            handle.flush()
            if self.fsync:
                os.fsync(handle.fileno())
            return self._segment, handle.tell()

    def ack(self, position: Position) -> None:
        """Mark everything up to ``position`` delivered and delete segments that are wholly delivered."""
        with self._lock:
            if position <= self._ack:
                return
            self._ack = position
            tmp = self.directory / "ack.tmp"
            tmp.write_text(f"{position[0]} {position[1]}\n")
            os.replace(tmp, self.directory / "ack")
            for seg in self._segments():
                if seg < position[0]:
                    (self.directory / _segment_name(seg)).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
