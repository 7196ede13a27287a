"""Admin accounts: creating them, changing passwords, and checking a login with a lockout.

Passwords are kept only as werkzeug.security salted hashes. Functions here flush but leave the
commit to the caller that owns the unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from pixcrawler.extensions import db
from pixcrawler.models import AdminAccount, Profile, Role
from pixcrawler.services.admin_sessions import end_all_sessions

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked when the email is unknown, so both paths cost one hash verification.

    Made on first use: hashing at import would slow every `flask` command.
    """
    return generate_password_hash("pixcrawler-no-such-account")


class AccountError(ValueError):
    """A request the operator can correct (bad email, weak password, unknown account)."""


@dataclass(frozen=True)
class LoginResult:
    account: AdminAccount | None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.account is not None


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 255:
        raise AccountError(f"{email!r} is not a valid email address")
    return email


def check_password_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if password.isdigit():
        raise AccountError("the password must not be all digits")
    if email and password.lower() in email.lower():
        raise AccountError("the password must not be part of the email address")


def find_account(email: str) -> AdminAccount | None:
    stmt = (
        sa.select(AdminAccount)
        .join(AdminAccount.profile)
        .where(Profile.email == email.strip().lower())
    )
    return db.session.scalars(stmt).one_or_none()


def create_superuser(email: str, password: str, full_name: str | None = None) -> AdminAccount:
    """An admin profile with a password; an existing non-admin profile is promoted."""
    email = normalize_email(email)
    check_password_strength(password, email)
    profile = db.session.scalars(sa.select(Profile).where(Profile.email == email)).one_or_none()
    if profile is None:
        profile = Profile(email=email, full_name=full_name, role=Role.ADMIN)
        db.session.add(profile)
    elif profile.admin_account is not None:
        raise AccountError(f"an admin account for {email} already exists")
    profile.role = Role.ADMIN
    account = AdminAccount(profile=profile, password_hash=generate_password_hash(password))
    db.session.add(account)
    db.session.flush()
    return account


def change_password(email: str, password: str) -> AdminAccount:
    """A new password, a cleared lockout, and every session of the account ended."""
    account = find_account(normalize_email(email))
    if account is None:
        raise AccountError(f"no admin account for {email.strip().lower()}")
    check_password_strength(password, account.profile.email)
    account.password_hash = generate_password_hash(password)
    account.failed_logins = 0
    account.locked_until = None
    db.session.flush()
    end_all_sessions(account.profile_id)
    return account


def authenticate(email: str, password: str, now: datetime | None = None) -> LoginResult:
    """Check a login; after MAX_FAILED_LOGINS failures the account is locked for LOCKOUT.

    Every path costs one password-hash check, an unknown email and a locked account included,
    so neither the answer nor its timing tells them from a wrong password. The failure count
    and the lock are read and written by single UPDATEs, so concurrent guesses each count and
    a right password that arrives while another request locks the account is still refused.
    """
    now = now or datetime.now(UTC)
    account = find_account(email or "")
    if account is None or account.profile.role != Role.ADMIN:
        check_password_hash(_dummy_hash(), password or "")
        return LoginResult(None)
    if not check_password_hash(account.password_hash, password or ""):
        return LoginResult(None, locked_until=record_failure(account, now))
    if not record_success(account, now):
        return LoginResult(None, locked_until=account.locked_until)
    return LoginResult(account)


def record_failure(account: AdminAccount, now: datetime) -> datetime | None:
    """Count one failed login, locking the account at the MAX_FAILED_LOGINS-th; returns the
    lock's end, if locked. A guess while locked is not counted: it is refused either way."""
    table = AdminAccount.__table__
    locked = table.c.locked_until > now
    locking = table.c.failed_logins + 1 >= MAX_FAILED_LOGINS
    until = sa.literal(now + LOCKOUT, table.c.locked_until.type)
    statement = (
        table.update()
        .where(table.c.profile_id == account.profile_id)
        .values(
            failed_logins=sa.case(
                (locked, table.c.failed_logins), (locking, 0), else_=table.c.failed_logins + 1
            ),
            locked_until=sa.case(
                (locked, table.c.locked_until), (locking, until), else_=table.c.locked_until
            ),
        )
        .returning(table.c.locked_until)
    )
    locked_until = db.session.execute(statement).scalar_one_or_none()
    db.session.expire(account, ["failed_logins", "locked_until"])
    return locked_until if locked_until and locked_until > now else None


def record_success(account: AdminAccount, now: datetime) -> bool:
    """Reset the failure count unless the account is locked at this moment; False if it is."""
    table = AdminAccount.__table__
    statement = (
        table.update()
        .where(
            table.c.profile_id == account.profile_id,
            sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now),
        )
        .values(failed_logins=0, locked_until=None, last_login_at=now)
        .returning(table.c.profile_id)
    )
    opened = db.session.execute(statement).scalar_one_or_none() is not None
    db.session.expire(account, ["failed_logins", "locked_until", "last_login_at"])
    return opened
