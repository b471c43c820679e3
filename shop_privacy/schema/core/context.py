"""Per-request GraphQL contexts: the shared read session, dataloaders, cookies and the privacy guard.

`StorefrontContext` serves customers (and anonymous shoppers); `AdminContext` serves staff, whose
requests carry a purpose and whose reads of personal data are recorded.
"""

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
from ...privacy.access import Requester
from ...services import Services
from ...staff.accounts import StaffViewer
from .cookies import CookiePolicy
from .guard import AccessRecorder, OpenGuard, PrivacyGuard

_UNRESOLVED: Any = object()


@dataclass
class BaseContext:
    request: Request
    response: Response
    services: Services
    cookies: CookiePolicy
    request_id: str
    enforce_privacy: bool = True
    _reader: AsyncSession | None = None
    _reader_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaders: dict[str, Any] = field(default_factory=dict)

    @property
    def client_ip(self) -> str | None:
        return self.request.client.host if self.request.client else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """The request's one read session, one short transaction per block: a read after a mutation's
        commit sees it (a long-lived snapshot would not). Sibling resolvers run concurrently, the
        session must not: they take turns."""
        async with self._reader_lock:
            if self._reader is None:
                self._reader = self.services.db.reader()
            with self.services.db.holding():
                try:
                    yield self._reader
                except BaseException:
                    await self._reader.rollback()
                    raise
                # Ends the snapshot and gives the connection back to the pool; loaded rows stay usable.
                await self._reader.commit()

    def loader(self, name: str, factory: Any) -> Any:
        """A dataloader living as long as this request, created on first use."""
        if name not in self._loaders:
            self._loaders[name] = factory(self)
        return self._loaders[name]

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
            self._reader = None

    async def guard(self) -> PrivacyGuard:
        raise NotImplementedError

    def access_recorder(self) -> AccessRecorder | None:
        return None


@dataclass
class StorefrontContext(BaseContext):
    _viewer: Viewer | None = field(default=_UNRESOLVED)
    _guard: PrivacyGuard | None = None

    @property
    def session_token(self) -> str | None:
        return self.cookies.session_token(self.request)

    @property
    def cart_token(self) -> str | None:
        return self.cookies.cart_token(self.request)

    @property
    def visitor_token(self) -> str | None:
        return self.cookies.visitor_token(self.request)

    async def viewer(self) -> Viewer | None:
        if self._viewer is _UNRESOLVED:
            async with self.read() as session:
                viewer = await self.services.authentication.viewer(session, self.session_token)
            if viewer is not None:
                await self.services.authentication.touch(viewer)
            self._viewer = viewer
        return self._viewer

    async def require_viewer(self) -> Viewer:
        viewer = await self.viewer()
        if viewer is None:
            raise Unauthenticated()
        return viewer

    @asynccontextmanager
    async def read_as_viewer(self) -> AsyncIterator[tuple[AsyncSession, Viewer]]:
        """One read block for the session look-up (if not done yet) and the reads of the viewer's data:
        one transaction instead of one each. A due last-seen write follows the block, as in `viewer()`."""
        looked_up: Viewer | None = None
        async with self.read() as session:
            if self._viewer is _UNRESOLVED:
                looked_up = self._viewer = await self.services.authentication.viewer(session, self.session_token)
            viewer = self._viewer
            if viewer is None:
                raise Unauthenticated()
            yield session, viewer
        if looked_up is not None:
            await self.services.authentication.touch(looked_up)

    def act_as(self, viewer: Viewer | None) -> None:
        """After a login or logout in this request, the rest of it runs as the new viewer."""
        self._viewer = viewer
        self._guard = None

    async def guard(self) -> PrivacyGuard:
        """A customer reads their own data and nobody else's; an anonymous caller reads none."""
        if self._guard is None:
            viewer = await self.viewer()
            self._guard = PrivacyGuard(Requester(customer_id=viewer.customer_id if viewer else None)) \
                if self.enforce_privacy else OpenGuard()
        return self._guard

    def set_session_cookie(self, token: str) -> None:
        self.cookies.set(self.response, self.cookies.session_name, token, self.cookies.session_max_age)

    def clear_session_cookie(self) -> None:
        self.cookies.clear(self.response, self.cookies.session_name)

    def set_cart_cookie(self, token: str) -> None:
        self.cookies.set(self.response, self.cookies.cart_name, token, self.cookies.cart_max_age)

    def clear_cart_cookie(self) -> None:
        self.cookies.clear(self.response, self.cookies.cart_name)

    def set_visitor_cookie(self, token: str) -> None:
        self.cookies.set(self.response, self.cookies.visitor_name, token, self.cookies.visitor_max_age)

    def clear_visitor_cookie(self) -> None:
        self.cookies.clear(self.response, self.cookies.visitor_name)



@dataclass
class AdminContext(BaseContext):
    purpose: str | None = None  # from the operation's @purpose directive
    _staff: StaffViewer | None = field(default=_UNRESOLVED)
    _guard: PrivacyGuard | None = None
    _recorder: AccessRecorder | None = None

    @property
    def session_token(self) -> str | None:
        return self.cookies.staff_session_token(self.request)

    async def staff(self) -> StaffViewer | None:
        if self._staff is _UNRESOLVED:
            async with self.read() as session:
                staff = await self.services.staff.viewer(session, self.session_token)
            if staff is not None:
                await self.services.staff.touch(staff)
            self._staff = staff
        return self._staff

    async def require_staff(self) -> StaffViewer:
        staff = await self.staff()
        if staff is None:
            raise Unauthenticated("Staff need to log in first.")
        return staff

    def act_as(self, staff: StaffViewer | None) -> None:
        self._staff = staff
        self._guard = None

    async def guard(self) -> PrivacyGuard:
        """Staff read what their role may use under the request's purpose; each read is recorded."""
        if self._guard is None:
            staff = await self.require_staff()
            self._recorder = AccessRecorder(staff.staff_id, self.purpose or "", self.request_id)
            requester = Requester(staff_id=staff.staff_id, staff_role=staff.role, purpose=self.purpose)
            self._guard = PrivacyGuard(requester, self._recorder) if self.enforce_privacy else OpenGuard()
        return self._guard

    def access_recorder(self) -> AccessRecorder | None:
        return self._recorder

    def set_session_cookie(self, token: str) -> None:
        self.cookies.set(self.response, self.cookies.staff_name, token, self.cookies.staff_max_age)

    def clear_session_cookie(self) -> None:
        self.cookies.clear(self.response, self.cookies.staff_name)
