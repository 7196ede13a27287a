from datetime import UTC, datetime, timedelta

import pytest

from pixcrawler.services import accounts


def test_password_is_stored_only_as_a_salted_hash(session):
    one = accounts.create_superuser("Admin@Example.com", "correct horse battery")
    two = accounts.create_superuser("other@example.com", "correct horse battery")
    session.commit()
    assert one.profile.email == "admin@example.com"
    assert one.profile.role == "admin"
    assert "correct horse battery" not in one.password_hash
    assert one.password_hash != two.password_hash  # salted


def test_wrong_password_locks_the_account_after_repeated_failures(session):
    accounts.create_superuser("admin@example.com", "correct horse battery")
    now = datetime.now(UTC)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        assert not accounts.authenticate("admin@example.com", "wrong password", now).ok
    locked = accounts.authenticate("admin@example.com", "correct horse battery", now)
    assert not locked.ok and locked.locked_until > now
    later = now + accounts.LOCKOUT + timedelta(seconds=1)
    assert accounts.authenticate("admin@example.com", "correct horse battery", later).ok


def test_unknown_email_and_wrong_password_look_the_same(session):
    accounts.create_superuser("admin@example.com", "correct horse battery")
    unknown = accounts.authenticate("nobody@example.com", "whatever")
    wrong = accounts.authenticate("admin@example.com", "whatever")
    assert unknown == wrong == accounts.LoginResult(None)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("not-an-email", "correct horse battery"),
        ("a@example.com", "short"),
        ("a@example.com", "12345678901"),
    ],
)
def test_bad_input_is_refused(session, email, password):
    with pytest.raises(accounts.AccountError):
        accounts.create_superuser(email, password)


def test_duplicate_admin_is_refused_and_change_password_works(session):
    accounts.create_superuser("admin@example.com", "correct horse battery")
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create_superuser("admin@example.com", "another good password")
    accounts.change_password("admin@example.com", "another good password")
    assert accounts.authenticate("admin@example.com", "another good password").ok
