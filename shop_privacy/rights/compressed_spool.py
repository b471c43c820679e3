"""Text written now and read back once, later, held compressed in memory (never on disk: it may be
personal data). The export writes the HTML's tables here while it reads the rows for `data.json`, so the
rows are read once, yet the HTML can open with a summary that is only known after the last row."""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterator

_BLOCK = 64 * 1024


class CompressedSpool:
    def __init__(self) -> None:
        self._compressor = zlib.compressobj(1)  # fast: it is read back within the same request
        self._compressed: deque[bytes] = deque()
        self._pending: list[str] = []
        self._pending_size = 0
        self._closed = False

    def write(self, text: str) -> None:
        if self._closed:
            raise ValueError("the spool has been read")
        self._pending.append(text)
        self._pending_size += len(text)
        if self._pending_size >= _BLOCK:
            self._compress_pending()

    def _compress_pending(self) -> None:
        if self._pending:
            self._compressed.append(self._compressor.compress("".join(self._pending).encode()))
            self._pending, self._pending_size = [], 0

    def read(self) -> Iterator[bytes]:
        """The text written, as UTF-8, block by block; each compressed block is dropped once read."""
        self._compress_pending()
        self._closed = True
        self._compressed.append(self._compressor.flush())
        decompressor = zlib.decompressobj()
        while self._compressed:
            if data := decompressor.decompress(self._compressed.popleft()):
                yield data
        if tail := decompressor.flush():
            yield tail
