"""Money is an integer count of minor units plus an ISO 4217 currency code.

One rounding rule for the platform fee lives here: the fee is rounded half up
to the minor unit, and the payout is whatever is left, so
`fee + payout == amount` always holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCIES = {"USD": "$", "EUR": "€", "GBP": "£"}
MINOR_UNITS = 100  # all supported currencies have two decimals


@dataclass(frozen=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self):
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if self.currency not in CURRENCIES:
            raise ValueError(f"unsupported currency {self.currency!r}")

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def parse_major(text: str | Decimal | int | float) -> int:
    """'12.50' -> 1250. Raises ValueError for anything that isn't a plain amount."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not value.is_finite() or value.adjusted() > 15:
        # adjusted() is the exponent: refuse absurd magnitudes before they cost CPU or overflow.
        raise ValueError("not a number")
    minor = value * MINOR_UNITS
    if minor != minor.to_integral_value():
        raise ValueError("at most two decimals")
    return int(minor)


def to_major(amount: int) -> Decimal:
    return (Decimal(amount) / MINOR_UNITS).quantize(Decimal("0.01"))


def format_money(amount: int | None, currency: str = "USD") -> str:
    if amount is None:
        return "—"
    symbol = CURRENCIES.get(currency, currency + " ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(to_major(amount)):,.2f}"


def platform_fee(amount: int, fee_bps: int) -> int:
    """Fee in minor units for `amount`, at `fee_bps` basis points, rounded half up."""
    if amount < 0 or not 0 <= fee_bps <= 10_000:
        raise ValueError("amount must be >= 0 and fee between 0 and 10000 bps")
    return int((Decimal(amount) * fee_bps / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_fee(amount: int, fee_bps: int) -> tuple[int, int]:
    """(fee, payout) with fee + payout == amount."""
    fee = platform_fee(amount, fee_bps)
    return fee, amount - fee


def format_percent(bps: int) -> str:
    """A fee in basis points as people read it: 1000 -> "10%", 1250 -> "12.5%"."""
    return f"{bps / 100:g}%"
