"""The per-request GraphQL context: who is asking, the shared read session, dataloaders, cookies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from ...accounts.sessions import Viewer
from ...errors import Unauthenticated
from ...services import Services
from .cookies import CookiePolicy

_UNRESOLVED: Any = object()


@dataclass
class Context:
    request: Request
    response: Response
    services: Services
    cookies: CookiePolicy
    request_id: str
    _viewer: Viewer | None = field(default=_UNRESOLVED)
    _reader: AsyncSession | None = None
    _reader_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaders: dict[str, Any] = field(default_factory=dict)

    @property
    def client_ip(self) -> str | None:
        return self.request.client.host if self.request.client else None

    @property
    def session_token(self) -> str | None:
        return self.cookies.session_token(self.request)

    @property
    def cart_token(self) -> str | None:
        return self.cookies.cart_token(self.request)

    async def viewer(self) -> Viewer | None:
        if self._viewer is _UNRESOLVED:
            self._viewer = await self.services.authentication.viewer(self.session_token)
        return self._viewer

    async def require_viewer(self) -> Viewer:
        viewer = await self.viewer()
        if viewer is None:
            raise Unauthenticated()
        return viewer

    def forget_viewer(self) -> None:
        """After login or logout in this request, the next look-up reads the new state."""
        self._viewer = _UNRESOLVED

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """The request's one read session. Sibling resolvers run concurrently, the session must not."""
        async with self._reader_lock:
            if self._reader is None:
                self._reader = self.services.db.reader()
            yield self._reader

    def loader(self, name: str, factory: Any) -> Any:
        """A dataloader living as long as this request, created on first use."""
        if name not in self._loaders:
            self._loaders[name] = factory(self)
        return self._loaders[name]

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
            self._reader = None

    # Cookies

    def set_session_cookie(self, token: str) -> None:
        self.cookies.set(self.response, self.cookies.session_name, token, self.cookies.session_max_age)

    def clear_session_cookie(self) -> None:
        self.cookies.clear(self.response, self.cookies.session_name)

    def set_cart_cookie(self, token: str) -> None:
        self.cookies.set(self.response, self.cookies.cart_name, token, self.cookies.cart_max_age)

    def clear_cart_cookie(self) -> None:
        self.cookies.clear(self.response, self.cookies.cart_name)
