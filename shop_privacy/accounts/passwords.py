"""Password hashing (argon2id, off the event loop, bounded) and the password rules."""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from importlib import resources

import anyio
from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..settings import Settings

MIN_LENGTH, MAX_LENGTH = 12, 256


def normalize(password: str) -> str:
    """NFC, so the same password typed on different systems hashes the same."""
    return unicodedata.normalize("NFC", password)


class PasswordHasher:
    """Argon2id with the parameters from settings (the one place they are set).

    Hashing is CPU- and memory-heavy: it runs in worker threads, at most `concurrency` at once.
    """

    def __init__(self, settings: Settings) -> None:
        self._argon2 = Argon2Hasher(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_kib,
            parallelism=settings.password_parallelism,
        )
        self._limiter = anyio.CapacityLimiter(settings.password_hash_concurrency)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._argon2.hash, normalize(password), limiter=self._limiter)

    async def verify(self, stored_hash: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(self._verify_sync, stored_hash, normalize(password),
                                              limiter=self._limiter)

    async def verify_nothing(self, password: str) -> None:
        """The same work as a real verification, for an e-mail that has no account."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("no account has this password, it is only for timing")
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._argon2.check_needs_rehash(stored_hash)

    def _verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


@cache
def common_passwords() -> frozenset[str]:
    data = resources.files(__package__) / "data"
    with (data / "common-passwords.txt.gz").open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        common = {line.strip().casefold() for line in lines if line.strip()}
    common.update(
        line.strip().casefold()
        for line in (data / "common-passwords-sv.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    return frozenset(common)


_TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[\d\W_]+$")


def _is_common(password: str) -> bool:
    folded = password.casefold()
    common = common_passwords()
    if folded in common:
        return True
    # "password1234!", "sommar2024" and "monkeymonkey" are as weak as the word they are built on.
    base = _TRAILING_DIGITS_AND_SYMBOLS.sub("", folded)
    if len(base) >= 4 and base in common:
        return True
    for size in range(1, len(folded) // 2 + 1):
        if len(folded) % size == 0 and folded[:size] * (len(folded) // size) == folded:
            return len(folded) // size > 1 and (size < 4 or folded[:size] in common)
    return False


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Why a new password is not acceptable; empty when it is."""
    password = normalize(password)
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    if email:
        local_part = email.split("@", 1)[0].casefold()
        if len(local_part) >= 3 and local_part in password.casefold():
            problems.append("must not contain your e-mail address")
    if not problems and _is_common(password):
        problems.append("is too common; choose a less predictable password")
    return problems
