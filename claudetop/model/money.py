"""Money as integer micro-dollars.

Floats cannot add up cents exactly over millions of events, so every amount in
claudetop is an ``int`` of micro-dollars (1 USD = 1,000,000). ``Decimal`` appears
only at the edges: when a price is read, and when an amount is shown or exported.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeAlias

Micros: TypeAlias = int
MICROS_PER_USD = 1_000_000


def micros_from_usd(usd: Decimal | str | int) -> Micros:
    """Exact conversion; fractions of a micro-dollar round half to even."""
    return int((Decimal(usd) * MICROS_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))


def usd(micros: Micros) -> Decimal:
    """The amount in dollars, exact (six decimal places)."""
    return Decimal(micros).scaleb(-6)


def usd_str(micros: Micros) -> str:
    """Dollars as a decimal string with six places: the form JSON exports use."""
    return f"{usd(micros):.6f}"


def format_usd(micros: Micros, *, cents: bool = True) -> str:
    """Dollars for people: ``$4,199.87``; ``$0.0012`` below one cent so small costs don't read as zero."""
    amount = usd(micros)
    if cents and (amount == 0 or abs(amount) >= Decimal("0.01")):
        return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"
    return f"-${-amount:,.4f}" if amount < 0 else f"${amount:,.4f}"
