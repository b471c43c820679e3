"""Wiring: builds every service once per app from the settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import SQLModel

from .accounts.authentication import Authentication
from .accounts.credentials import Credentials
from .accounts.deps import AccountDeps
from .accounts.directory import CustomerDirectory
from .accounts.password_check import PasswordCheck
from .accounts.passwords import PasswordHasher
from .accounts.profile import Profiles
from .accounts.registration import Registration
from .accounts.throttle import Throttle
from .audit.access_log import AccessLog
from .backoff import Backoff
from .breaches.register import BreachRegister
from .carts.service import CartService
from .catalogue.service import CatalogueService
from .consents.ledger import ConsentLedger
from .consents.service import ConsentService
from .consents.unsubscribe import UnsubscribeLinks
from .disclosures.outbox import FolderAdapter, OutboxWorker, RecipientAdapter
from .disclosures.service import Disclosures
from .mail.mailer import MailBackend, Mailer, OutboxFolder, Smtp
from .mail.queue import MailQueue
from .marketing.abandoned_carts import AbandonedCarts
from .marketing.printed_mailings import PrintedMailings
from .orders.service import OrderService
from .orders.transitions import OrderTransitions
from .payments.providers import PaymentMethod, PaymentProvider, sandbox_providers
from .plugins import Plugin
from .privacy.recipients import RECIPIENTS
from .privacy.retention import FiscalYear
from .privacy.vocabulary import extend as extend_vocabulary
from .restriction.service import Restrictions
from .retention.sweep import RetentionSweep
from .rights.erasure import Eraser
from .rights.export import DataExport
from .rights.ledger import ErasureLedger
from .rights.requests import RequestQueue
from .rights.service import Rights
from .rights.subject_map import Resolver, SubjectMap
from .sessions import SessionStore
from .settings import Settings
from .staff.accounts import StaffAccounts
from .storage import tables  # noqa: F401  (registers every table on SQLModel.metadata)
from .storage.database import Database
from .storage.tables import AuthSession, StaffSession
from .tokens import Signer


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    mailer: Mailer
    mail_queue: MailQueue
    signer: Signer
    hasher: PasswordHasher
    catalogue: CatalogueService
    carts: CartService
    orders: OrderService
    authentication: Authentication
    registration: Registration
    credentials: Credentials
    profiles: Profiles
    consents: ConsentService
    consent_ledger: ConsentLedger
    disclosures: Disclosures
    outbox: OutboxWorker
    unsubscribe_links: UnsubscribeLinks
    directory: CustomerDirectory
    staff: StaffAccounts
    access_log: AccessLog
    rights: Rights
    restrictions: Restrictions
    retention: RetentionSweep
    abandoned_carts: AbandonedCarts
    printed_mailings: PrintedMailings
    plugins: tuple[Plugin, ...]
    order_transitions: OrderTransitions
    breaches: BreachRegister

    async def close(self) -> None:
        """Waits for the background work (a queued mail's first delivery attempt, which reads and writes the
        database), then closes the database's connections: disposing first would leave that work holding a
        connection, and on SQLite its lock."""
        await self.mailer.flush()
        await self.db.dispose()


def build_services(
    settings: Settings,
    *,
    db: Database | None = None,
    mail_backend: MailBackend | None = None,
    payment_providers: Mapping[PaymentMethod, PaymentProvider] | None = None,
    plugins: Sequence[Plugin] = (),
    recipient_adapters: Mapping[str, RecipientAdapter] | None = None,
) -> Services:
    # The plugins' categories, purposes and retention rules, before anything reads the registries.
    for plugin in plugins:
        extend_vocabulary(categories=plugin.categories, purposes=plugin.purposes,
                          retention_rules=plugin.retention_rules, source=f"plugin {plugin.name!r}")
    db = db or Database(settings.database_url)
    signer = Signer(settings.secret)
    if mail_backend is None:
        mail_backend = Smtp(settings.smtp_url) if settings.smtp_url else OutboxFolder(settings.mail_outbox_dir)
    mailer = Mailer(mail_backend, settings.mail_from)
    mail_queue = MailQueue(db, mailer, Backoff(timedelta(seconds=settings.mail_retry_base_seconds),
                                               timedelta(seconds=settings.mail_retry_max_seconds),
                                               settings.mail_max_attempts),
                           lease=timedelta(seconds=settings.mail_claim_lease_seconds))
    if payment_providers is None:
        payment_providers = sandbox_providers() if settings.sandbox_payments_enabled else {}
    hasher = PasswordHasher(settings)
    throttle = Throttle(settings, signer)
    consents = ConsentService(db, settings.policy_version)
    recipients = {**RECIPIENTS, **{r.key: r for p in plugins for r in p.recipients}}
    disclosures = Disclosures(recipients, consents)
    ledger = ConsentLedger(db, consents, disclosures, signer, settings.visitor_cookie_max_age_seconds)
    adapters: dict[str, RecipientAdapter] = {}
    if not settings.production:
        folder = FolderAdapter(settings.recipient_outbox_dir)
        adapters = dict.fromkeys(recipients, folder)
    adapters.update({k: v for p in plugins for k, v in p.adapters.items()})
    # The shop's own adapters (its Stripe, its Mailchimp …) come last: they are the shop's final word.
    adapters.update(recipient_adapters or {})
    links = UnsubscribeLinks(signer, settings.api_url, settings.unsubscribe_link_max_age_seconds)
    carts = CartService(db, signer, settings.cart_cookie_max_age_seconds)
    deps = AccountDeps(
        db=db, settings=settings, hasher=hasher, signer=signer, mails=mail_queue,
        sessions=SessionStore(
            AuthSession, "customer_id",
            idle_timeout=timedelta(seconds=settings.session_idle_timeout_seconds),
            absolute_timeout=timedelta(seconds=settings.session_absolute_timeout_seconds),
            touch_interval=timedelta(seconds=settings.session_touch_interval_seconds),
        ),
        throttle=throttle,
        carts=carts,
        consent_ledger=ledger,
        disclosures=disclosures,
    )
    authentication = Authentication(deps)
    subject_map = SubjectMap(
        [SQLModel.metadata, *(p.metadata for p in plugins if p.metadata is not None)],
        {**_core_resolvers(throttle), **{k: v for p in plugins for k, v in p.resolvers.items()}},
    )
    profiles = Profiles(deps)
    queue = RequestQueue(settings.max_page_size)
    restrictions = Restrictions(db, settings, queue, mail_queue, consents, ledger, disclosures)
    rights = Rights(
        db, settings, PasswordCheck(db, hasher, throttle), throttle, signer, mail_queue, profiles, disclosures,
        DataExport(db, settings, subject_map, [e for p in plugins for e in p.exporters]),
        Eraser(subject_map, fiscal_year=FiscalYear(settings.fiscal_year_start_month)),
        queue,
        ErasureLedger(db, signer, settings.secret, settings.erasure_ledger_file),
        restrictions,
    )
    access_log = AccessLog(db, settings.secret, settings.max_page_size)
    return Services(
        settings=settings,
        db=db,
        mailer=mailer,
        mail_queue=mail_queue,
        signer=signer,
        hasher=hasher,
        catalogue=CatalogueService(settings.max_page_size),
        carts=carts,
        orders=OrderService(db, carts, payment_providers, disclosures, settings.max_page_size, signer),
        authentication=authentication,
        registration=Registration(deps, authentication),
        credentials=Credentials(deps),
        profiles=profiles,
        consents=consents,
        consent_ledger=ledger,
        disclosures=disclosures,
        outbox=OutboxWorker(db, adapters),
        unsubscribe_links=links,
        directory=CustomerDirectory(settings.max_page_size),
        staff=StaffAccounts(db, hasher, SessionStore(
            StaffSession, "staff_user_id",
            idle_timeout=timedelta(seconds=settings.staff_session_idle_timeout_seconds),
            absolute_timeout=timedelta(seconds=settings.staff_session_absolute_timeout_seconds),
            touch_interval=timedelta(seconds=settings.session_touch_interval_seconds),
        ), throttle),
        access_log=access_log,
        rights=rights,
        restrictions=restrictions,
        retention=RetentionSweep(db, settings, rights, mail_queue, access_log,
                                 plugin_steps=[step for p in plugins for step in p.retention_steps],
                                 metadatas=[p.metadata for p in plugins if p.metadata is not None]),
        abandoned_carts=AbandonedCarts(db, consents, links, mailer),
        printed_mailings=PrintedMailings(db, disclosures),
        plugins=tuple(plugins),
        order_transitions=OrderTransitions(db, rights, disclosures),
        breaches=BreachRegister(db, settings.secret),
    )


def _core_resolvers(throttle: Throttle) -> dict[str, Resolver]:
    """Tables keyed by something other than the customer's id."""
    return {
        # Failed-login counters are keyed by a keyed hash of the e-mail address.
        "login_throttle": lambda table, subject: table.c.key == throttle.keys(subject.email, None).account,
        # Registrations not yet confirmed are found by their address.
        "pending_registrations": lambda table, subject: table.c.email == subject.email,
    }
