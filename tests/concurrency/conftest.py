"""Fixtures of the concurrency tests."""

from __future__ import annotations

import pytest

from shop_privacy.services import Services

from ..helpers import PASSWORD


@pytest.fixture
async def password_hash(services: Services) -> str:
    """One real hash, shared by the many customers a race needs."""
    return await services.hasher.hash(PASSWORD)
