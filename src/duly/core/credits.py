"""Service credits owed: each month's met % against an agreement's credit tiers.

A month's figures are those of the compliance report grouped by month and metric (clocks that
started in the month, in the time zone given, and are decided: met or missed), so a credit can
always be checked against ``duly report compliance``. The first tier, in the order written
(worst first), whose metric was met on fewer than ``below`` percent of its clocks applies; a met %
exactly at ``below`` owes nothing, and a metric with no decided clock that month owes nothing
either, since there is nothing to have missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo

from duly.core.agreements import Agreement, CreditTier, Fee
from duly.core.clock_table import ClockTable, only
from duly.core.reports import compliance

__all__ = ["MetricMonth", "MonthCredit", "month_credit", "monthly_credits"]


@dataclass(frozen=True)
class MetricMonth:
    """How one metric did in one month: decided clocks and how many of them were met."""

    metric: str
    total: int
    met: int

    @property
    def met_pct(self) -> float | None:
        """Met % rounded as reports show it; None when no clock was decided."""
        return round(100.0 * self.met / self.total, 2) if self.total else None

    def below(self, percent: float) -> bool:
        """Whether fewer than ``percent`` % were met, decided exactly (no rounding at the edge)."""
        return self.total > 0 and self.met * 100 < percent * self.total


@dataclass(frozen=True)
class MonthCredit:
    """One month of an agreement: each tier metric's result and the tier that applies, if any."""

    agreement: str
    month: str
    results: tuple[MetricMonth, ...]
    tier: CreditTier | None
    fee: Fee | None

    @property
    def owed(self) -> bool:
        return self.tier is not None

    @property
    def credit_pct(self) -> float:
        """Percent of the monthly fee owed (0 when no tier applies)."""
        return 0.0 if self.tier is None else self.tier.credit

    @property
    def amount(self) -> float | None:
        """The credit in the fee's currency, to the cent; None when the agreement has no fee."""
        if self.fee is None:
            return None
        return round(self.fee.amount * self.credit_pct / 100.0, 2)

    def result(self, metric: str) -> MetricMonth:
        for result in self.results:
            if result.metric == metric:
                return result
        return MetricMonth(metric, 0, 0)


def month_credit(
    table: ClockTable, agreement: Agreement, month: str, tz: tzinfo = UTC
) -> MonthCredit:
    """The credit ``agreement`` owes for ``month`` (``YYYY-MM``), from the clocks in ``table``.

    Clocks of other agreements in the table are ignored, so one table can serve every agreement.
    """
    return _credit(agreement, month, _counts(table, agreement, tz))


def monthly_credits(table: ClockTable, agreement: Agreement, tz: tzinfo = UTC) -> list[MonthCredit]:
    """Every month in which a metric of the credit tiers has a decided clock, oldest first.

    Empty for an agreement without credits; months that owe nothing are included, so a report
    can show that a month was checked and passed.
    """
    if agreement.credits is None:
        return []
    counts = _counts(table, agreement, tz)
    metrics = {tier.metric for tier in agreement.credits.tiers}
    months = sorted({month for month, metric in counts if metric in metrics})
    return [_credit(agreement, month, counts) for month in months]


def _counts(
    table: ClockTable, agreement: Agreement, tz: tzinfo
) -> dict[tuple[str, str], MetricMonth]:
    """Decided and met clocks per (month, metric), exactly as the compliance report counts."""
    rows = compliance(only(table, "agreement", [agreement.id]), ["month", "metric"], tz)
    return {
        (row["month"], row["metric"]): MetricMonth(row["metric"], row["total"], row["met"])
        for row in rows
        if row["total"] and row["month"] is not None and row["metric"] is not None
    }


def _credit(
    agreement: Agreement, month: str, counts: dict[tuple[str, str], MetricMonth]
) -> MonthCredit:
    credits = agreement.credits
    if credits is None:
        return MonthCredit(agreement.id, month, (), None, None)
    metrics = list(dict.fromkeys(tier.metric for tier in credits.tiers))
    results = tuple(counts.get((month, m), MetricMonth(m, 0, 0)) for m in metrics)
    by_metric = {r.metric: r for r in results}
    tier = next((t for t in credits.tiers if by_metric[t.metric].below(t.below)), None)
    return MonthCredit(agreement.id, month, results, tier, credits.fee)
