"""API tokens: stored as a hash only, found by the token itself, with ordered roles."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from duly.service.errors import InvalidError
from duly.service.tokens import ROLES, Identity, authenticate, create_token, may
from duly.store.tables import TOKENS

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def stored_text(db) -> str:
    """Every value of every token row, as one text to search."""
    with db.read() as connection:
        return repr(connection.execute(sa.select(TOKENS)).all())


def test_a_token_is_not_stored_in_clear(db):
    token = create_token(db, "agent", "zendesk bridge", NOW)

    text = stored_text(db)
    assert token not in text
    assert token.removeprefix("duly_") not in text
    assert "zendesk bridge" in text  # the search does see the row


def test_a_created_token_authenticates_as_its_name_and_role(db):
    token = create_token(db, "admin", "ops", NOW)

    identity = authenticate(db, token)

    assert identity is not None
    assert (identity.name, identity.role) == ("ops", "admin")


def test_a_wrong_token_does_not_authenticate(db):
    token = create_token(db, "viewer", "wall", NOW)

    assert authenticate(db, token + "x") is None
    assert authenticate(db, token[:-1]) is None
    assert authenticate(db, "") is None


def test_each_token_is_new_and_a_token_without_a_name_is_named_after_its_role(db):
    first = create_token(db, "agent", "", NOW)
    second = create_token(db, "agent", "", NOW)

    assert first != second
    one, two = authenticate(db, first), authenticate(db, second)
    assert one is not None
    assert two is not None
    assert one.token_id != two.token_id
    assert one.name == "agent"


def test_a_revoked_token_no_longer_authenticates(db):
    token = create_token(db, "agent", "old", NOW)
    with db.write() as connection:
        connection.execute(sa.update(TOKENS).values(revoked=True))

    assert authenticate(db, token) is None


def test_an_unknown_role_is_refused_and_nothing_is_stored(db):
    with pytest.raises(InvalidError) as refused:
        create_token(db, "owner", "x", NOW)

    assert refused.value.field == "role"
    assert stored_text(db) == "[]"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("viewer", ["viewer"]), ("agent", ["viewer", "agent"]), ("admin", list(ROLES))],
)
def test_roles_are_ordered_each_may_do_what_the_ones_below_it_may(role, allowed):
    identity = Identity(1, "someone", role)

    assert [needed for needed in ROLES if may(identity, needed)] == allowed


def test_a_role_not_known_may_do_nothing():
    assert not any(may(Identity(1, "someone", "owner"), needed) for needed in ROLES)
