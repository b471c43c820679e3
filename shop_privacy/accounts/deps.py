"""What the account services share."""

from __future__ import annotations

from dataclasses import dataclass

from ..carts.service import CartService
from ..consents.ledger import ConsentLedger
from ..disclosures.service import Disclosures
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
    # Account mails, queued in the transaction of the change they report (never sent directly: a mail
    # server that is down would lose them).
    mails: MailQueue
    sessions: SessionStore[AuthSession]
    throttle: Throttle
    carts: CartService
    consent_ledger: ConsentLedger
    # A correction is passed on to the recipients that had the corrected data (P23).
    disclosures: Disclosures

    def link(self, path: str, token: str) -> str:
        return f"{self.settings.storefront_url.rstrip('/')}/{path}?token={token}"
