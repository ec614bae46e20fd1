"""Many rows at once: what goes in by COPY (PostgreSQL) reads back exactly as by INSERT."""

from typing import Any

import pytest
import sqlalchemy as sa

from duly.store import bulk, tables
from duly.store.database import Database

#: Text a help desk may well send, and that COPY's text format must escape.
AWKWARD = [
    "tab\there",
    "new\nline",
    "back\\slash \\N",
    "carriage\rreturn",
    "quotes \" and '",
    "ünïcödé ✓ 🎫",
    "",
    r"\.",
]


def ticket_rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "ticket": f"T-{i}",
            "created_at_us": -(2**62) + i,
            "updated_at_us": 2**62 + i,
            "status": AWKWARD[i % len(AWKWARD)],
            "priority": None if i % 3 else "high",
            "group_name": None,
            "assignee": AWKWARD[(i + 3) % len(AWKWARD)],
            "organization": "Org",
            "channel": None,
            "state": '{"note": "' + AWKWARD[i % len(AWKWARD)].replace("\n", "\\n") + '"}',
            "events": i,
            "deleted": i % 2 == 0,
            "config_version": 7,
        }
        for i in range(count)
    ]


def stored(db: Database) -> list[dict[str, Any]]:
    with db.read() as connection:
        found = connection.execute(sa.select(tables.TICKETS).order_by(tables.TICKETS.c.events))
        return [dict(row._mapping) for row in found]


@pytest.mark.parametrize("count", [bulk.COPY_FROM - 1, bulk.COPY_FROM, 1200])
def test_rows_read_back_exactly_as_they_were_given(db, count):
    rows = ticket_rows(count)
    with db.write() as connection:
        bulk.insert_rows(connection, tables.TICKETS, rows)
    assert stored(db) == rows


def test_a_refused_copy_is_raised_as_sqlalchemy_raises_and_the_transaction_goes_on(db):
    if db.is_sqlite:
        pytest.skip("SQLite takes any length of text: nothing to refuse")
    rows = ticket_rows(bulk.COPY_FROM)
    rows[-1]["status"] = "x" * 101  # the column holds 100
    with db.write() as connection:
        with pytest.raises(sa.exc.DataError, match="too long"):
            bulk.insert_rows(connection, tables.TICKETS, rows)
        bulk.insert_rows(connection, tables.TICKETS, rows[:-1])
    assert stored(db) == rows[:-1]


def test_a_copy_as_the_first_statement_is_rolled_back_with_its_transaction(db):
    rows = ticket_rows(bulk.COPY_FROM)

    def copy_then_fail() -> None:
        with db.write() as connection:
            bulk.insert_rows(connection, tables.TICKETS, rows)
            raise RuntimeError("a later step fails")

    with pytest.raises(RuntimeError):
        copy_then_fail()
    assert stored(db) == []
