"""The cart: add, change, remove, clear, and merge an anonymous cart into a customer's at login."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..errors import BadUserInput, NotFound, Unauthenticated
from ..pricing import ZERO, Amounts, line_amounts
from ..storage.database import Database
from ..storage.locks import lock_anonymous_cart, lock_customer, lock_customer_cart
from ..storage.tables import Cart, CartLine, Product
from ..storage.types import utc_now
from ..tokens import InvalidToken, Signer, new_token, token_hash
from ..validation import Command, DomainName, parse

CART_PURPOSES = frozenset({"order_fulfilment"})
MAX_QUANTITY = 999
MAX_LINES = 100
_TOKEN_PURPOSE = "cart"


@dataclass(frozen=True)
class CartOwner:
    """Whose cart a request means: the logged-in customer's, else the one behind the cart token."""

    customer_id: uuid.UUID | None
    token: str | None


@dataclass(frozen=True)
class CartLineView:
    id: uuid.UUID
    product: Product
    quantity: int
    domain_name: str | None
    amounts: Amounts


@dataclass(frozen=True)
class CartView:
    id: uuid.UUID
    customer_id: uuid.UUID | None  # None while the cart is anonymous
    lines: list[CartLineView]
    amounts: Amounts
    currency: str

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True)
class CartChange:
    cart: CartView
    issued_token: str | None  # a new anonymous cart's token, for the cookie


class AddToCart(Command):
    product_id: uuid.UUID
    quantity: int = 1
    domain_name: DomainName | None = None


class CartService:
    def __init__(self, db: Database, signer: Signer, token_max_age_seconds: int) -> None:
        self._db = db
        self._signer = signer
        self._token_max_age = token_max_age_seconds

    # Tokens: the cookie holds a signed random value; the database only its hash.

    def _token_key(self, token: str | None) -> str | None:
        """The stored key for a cart token, or None when there is none or it is forged or expired."""
        if not token:
            return None
        try:
            raw = self._signer.unsign(_TOKEN_PURPOSE, token, max_age_seconds=self._token_max_age)
        except InvalidToken:
            return None
        return token_hash(raw) if isinstance(raw, str) else None

    # Reads

    async def view(self, session: AsyncSession, owner: CartOwner) -> CartView | None:
        cart = await self._find(session, owner)
        return await self._view(session, cart) if cart else None

    # Changes, each one transaction. Each locks the cart first (the customer before it), so changes
    # to one cart take turns and every one of them is kept.

    async def add(self, owner: CartOwner, data: dict[str, object]) -> CartChange:
        command = parse(AddToCart, data)
        _check_quantity(command.quantity)
        async with self._db.transaction() as session:
            product = await session.get(Product, command.product_id)
            if product is None or not product.active:
                raise NotFound("No such product.", reason="unknown_product")
            domain_name = _domain_for(product, command.domain_name)
            cart, issued = await self._locked(session, owner, create=True)
            assert cart is not None
            same_item = (col(CartLine.cart_id) == cart.id, col(CartLine.product_id) == product.id,
                         col(CartLine.domain_name) == domain_name)
            # One statement adds to the line, within the limit.
            added = await session.exec(update(CartLine).where(
                *same_item, col(CartLine.quantity) + command.quantity <= MAX_QUANTITY,
            ).values(quantity=col(CartLine.quantity) + command.quantity))  # type: ignore[call-overload]
            if not added.rowcount:
                if (await session.exec(select(CartLine.id).where(*same_item))).first() is not None:
                    raise _quantity_error()  # the line exists: the sum is over the limit
                count = (await session.exec(select(func.count()).select_from(CartLine)
                                            .where(col(CartLine.cart_id) == cart.id))).one()
                if count >= MAX_LINES:
                    raise BadUserInput(f"A cart holds at most {MAX_LINES} lines.", reason="cart_full")
                session.add(CartLine(cart_id=cart.id, product_id=product.id, domain_name=domain_name,
                                     quantity=command.quantity))
            return CartChange(await self._touch_and_view(session, cart), issued)

    async def update_line(self, owner: CartOwner, line_id: uuid.UUID, quantity: int) -> CartView:
        _check_quantity(quantity)
        async with self._db.transaction() as session:
            cart = await self._locked_existing(session, owner)
            changed = await session.exec(update(CartLine).where(
                col(CartLine.id) == line_id, col(CartLine.cart_id) == cart.id).values(quantity=quantity))  # type: ignore[call-overload]
            if not changed.rowcount:
                raise NotFound("No such cart line.")
            return await self._touch_and_view(session, cart)

    async def remove_line(self, owner: CartOwner, line_id: uuid.UUID) -> CartView:
        async with self._db.transaction() as session:
            cart = await self._locked_existing(session, owner)
            removed = await session.exec(delete(CartLine).where(
                col(CartLine.id) == line_id, col(CartLine.cart_id) == cart.id))  # type: ignore[call-overload]
            if not removed.rowcount:
                raise NotFound("No such cart line.")
            return await self._touch_and_view(session, cart)

    async def clear(self, owner: CartOwner) -> CartView | None:
        async with self._db.transaction() as session:
            cart, _ = await self._locked(session, owner, create=False)
            if cart is None:
                return None
            await self.empty(session, cart)
            return await self._view(session, cart)

    async def adopt_at_login(self, session: AsyncSession, token: str | None, customer_id: uuid.UUID) -> bool:
        """Merge the anonymous cart behind `token` into the customer's cart (quantities add, one cart
        remains). Runs inside the login's transaction. True if there was an anonymous cart."""
        key = self._token_key(token)
        own = await lock_customer_cart(session, customer_id, create=False)
        anonymous = await lock_anonymous_cart(session, key) if key else None
        if anonymous is None:
            return False
        if own is None:
            anonymous.customer_id, anonymous.token_hash, anonymous.updated_at = customer_id, None, utc_now()
            session.add(anonymous)
            return True
        own_lines = {
            (line.product_id, line.domain_name): line
            for line in (await session.exec(select(CartLine).where(CartLine.cart_id == own.id))).all()
        }
        for line in (await session.exec(select(CartLine).where(CartLine.cart_id == anonymous.id))).all():
            existing = own_lines.get((line.product_id, line.domain_name))
            if existing is not None:
                existing.quantity = min(MAX_QUANTITY, existing.quantity + line.quantity)
                session.add(existing)
                await session.delete(line)
            elif len(own_lines) < MAX_LINES:
                line.cart_id = own.id
                own_lines[(line.product_id, line.domain_name)] = line
                session.add(line)
        await session.flush()
        await session.delete(anonymous)
        own.updated_at = utc_now()
        session.add(own)
        return True

    async def lock_for_checkout(self, session: AsyncSession, customer_id: uuid.UUID) -> Cart | None:
        """The customer's cart, locked until the transaction ends (call with the customer locked):
        concurrent checkouts and cart changes take turns."""
        return await lock_customer_cart(session, customer_id, create=False)

    async def priced(self, session: AsyncSession, cart: Cart) -> CartView:
        return await self._view(session, cart)

    async def empty(self, session: AsyncSession, cart: Cart) -> None:
        await session.exec(delete(CartLine).where(col(CartLine.cart_id) == cart.id))
        await session.exec(update(Cart).where(col(Cart.id) == cart.id).values(updated_at=utc_now()))

    # Helpers

    async def _find(self, session: AsyncSession, owner: CartOwner) -> Cart | None:
        if owner.customer_id is not None:
            return (await session.exec(select(Cart).where(Cart.customer_id == owner.customer_id))).first()
        key = self._token_key(owner.token)
        return await self._by_token_key(session, key) if key else None

    async def _by_token_key(self, session: AsyncSession, key: str) -> Cart | None:
        return (await session.exec(select(Cart).where(Cart.token_hash == key, col(Cart.customer_id).is_(None)))).first()

    async def _locked(self, session: AsyncSession, owner: CartOwner, *,
                      create: bool) -> tuple[Cart | None, str | None]:
        """The owner's cart, locked (the customer first); a new one when `create` and there is none,
        with the token for a new anonymous cart's cookie."""
        if owner.customer_id is not None:
            if await lock_customer(session, owner.customer_id) is None:  # erased since the session was read
                raise Unauthenticated()
            return await lock_customer_cart(session, owner.customer_id, create=create), None
        key = self._token_key(owner.token)
        cart = await lock_anonymous_cart(session, key) if key else None
        if cart is not None or not create:
            return cart, None
        # A new anonymous cart: its token is new, so nobody else can be writing it.
        raw = new_token()
        cart = Cart(token_hash=token_hash(raw))
        session.add(cart)
        await session.flush()
        return cart, self._signer.sign(_TOKEN_PURPOSE, raw)

    async def _locked_existing(self, session: AsyncSession, owner: CartOwner) -> Cart:
        cart, _ = await self._locked(session, owner, create=False)
        if cart is None:
            raise NotFound("No such cart line.")
        return cart

    async def _touch_and_view(self, session: AsyncSession, cart: Cart) -> CartView:
        cart.updated_at = utc_now()
        session.add(cart)
        await session.flush()
        return await self._view(session, cart)

    async def _view(self, session: AsyncSession, cart: Cart) -> CartView:
        rows = (await session.exec(
            select(CartLine, Product).join(Product, col(Product.id) == col(CartLine.product_id))
            .where(CartLine.cart_id == cart.id).order_by(col(CartLine.added_at), col(CartLine.id))
        )).all()
        lines = [
            CartLineView(line.id, product, line.quantity, line.domain_name or None,
                         line_amounts(product.unit_price_net_minor, line.quantity, product.vat_rate_basis_points))
            for line, product in rows
        ]
        total = sum((line.amounts for line in lines), ZERO)
        currency = lines[0].product.currency if lines else "SEK"
        return CartView(cart.id, cart.customer_id, lines, total, currency)


def _quantity_error() -> BadUserInput:
    return BadUserInput(f"Quantity must be between 1 and {MAX_QUANTITY}.", reason="quantity")


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise _quantity_error()


def _domain_for(product: Product, domain_name: str | None) -> str:
    """DOMAIN products need the domain to register, under their TLD; nothing else takes one."""
    if product.kind != "DOMAIN":
        if domain_name:
            raise BadUserInput("Only domain registrations take a domain name.", reason="domain_not_needed")
        return ""
    if not domain_name:
        raise BadUserInput("Say which domain to register.", reason="domain_required")
    if domain_name.count(".") != 1 or not domain_name.endswith(f".{product.domain_tld}"):
        raise BadUserInput(f"This product registers second-level .{product.domain_tld} domains.",
                           reason="domain_tld")
    return domain_name
