"""Helpers for tests that start a real server process: a free port, and waiting until it serves by
reading its log (uvicorn says so), never by polling on a timer."""

from __future__ import annotations

import socket
from collections.abc import Iterable

# uvicorn's lines, in text or JSON log format: the app has started, and the socket is listening. A single
# process says the first before it binds the socket, so a request between the two is refused: wait for both.
SERVING = ("Application startup complete", "Uvicorn running on")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(log: Iterable[str]) -> list[str]:
    """Reads the server's log line by line until uvicorn says it serves, and returns the lines read. A
    server that exits first ends the stream: then RuntimeError, with its last lines."""
    seen: list[str] = []
    waiting = set(SERVING)
    for line in log:
        seen.append(line)
        waiting = {sign for sign in waiting if sign not in line}
        if not waiting:
            return seen
    raise RuntimeError("the server did not start:\n" + "".join(seen[-20:]))
