"""What the account services share."""

from __future__ import annotations

from dataclasses import dataclass

from ..carts.service import CartService
from ..consents.ledger import ConsentLedger
from ..mail.mailer import Mailer
from ..mail.queue import MailQueue
from ..sessions import SessionStore
from ..settings import Settings
from ..storage.database import Database
from ..storage.tables import AuthSession
from ..tokens import Signer
from .passwords import PasswordHasher
from .throttle import Throttle


@dataclass(frozen=True)
class AccountDeps:
    db: Database
    settings: Settings
    hasher: PasswordHasher
    signer: Signer
    mailer: Mailer
    mails: MailQueue  # account mails: queued in the transaction of the change they report
    sessions: SessionStore[AuthSession]
    throttle: Throttle
    carts: CartService
    consent_ledger: ConsentLedger

    def link(self, path: str, token: str) -> str:
        return f"{self.settings.storefront_url.rstrip('/')}/{path}?token={token}"
