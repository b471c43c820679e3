"""A TCP proxy between the app and PostgreSQL, so a test can take the database away and bring it back.

`stop()` is the database going away: the listener closes and every live connection is cut, as when the
server or the network between dies. `start()` is its return on the same port. `hold()` keeps the
app's next bytes from reaching the server, so a test knows a query is in flight when it stops."""

from __future__ import annotations

import asyncio
import contextlib

from ..servers import free_port


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.held = asyncio.Event()  # set once a held chunk waits
        self._holding = False
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._holding = False
        self.held.clear()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    @property
    def listening(self) -> bool:
        return self._server is not None

    def hold(self) -> None:
        self._holding = True

    async def stop(self) -> None:
        server, self._server = self._server, None  # from here on, a connection that starts is cut at once
        assert server is not None
        server.close()
        while self._handlers:
            handlers = list(self._handlers)
            for handler in handlers:
                handler.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self._server is None:  # accepted just before stop(), started just after: it is cut too
            client_writer.transport.abort()
            return
        self._handlers.add(task)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
            await asyncio.gather(self._pipe(client_reader, upstream_writer, from_client=True),
                                 self._pipe(upstream_reader, client_writer, from_client=False))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            # abort(), not close(): the peer sees the connection die, not a polite end.
            client_writer.transport.abort()
            if upstream_writer is not None:
                upstream_writer.transport.abort()
            self._handlers.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, from_client: bool) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if from_client and self._holding:
                    self.held.set()
                    await asyncio.Event().wait()  # until stop() cancels this connection
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
