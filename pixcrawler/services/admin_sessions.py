"""Admin sessions on the server: opening one at login, checking it on each request, ending it.

A session id is 32 random bytes, given to the browser (inside the signed cookie) and stored
here only as its SHA-256 digest. A session ends when it is idle longer than the idle timeout,
older than its absolute lifetime, logged out, or when its account gets a new password, loses
the admin role or is deleted. Functions here flush but leave the commit to the caller.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.models import AdminAccount, AdminSession, Profile, Role

# last_seen_at is written at most this often, so that browsing costs no write per request;
# the idle timeout is therefore enforced within this margin.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetime:
    """How long a session may live: since its last request, and since its login."""

    idle: timedelta
    absolute: timedelta

    def expired(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        return now - last_seen_at > self.idle or now - created_at > self.absolute


@dataclass(frozen=True)
class LiveSession:
    """A session that is still valid, with what the admin shows and needs about it."""

    profile_id: uuid.UUID
    email: str
    password_hash: str
    created_at: datetime


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def open_session(profile_id: uuid.UUID, now: datetime, lifetime: Lifetime) -> str:
    """A new session for the account; returns its id (for the cookie, never stored as is).

    The account's expired sessions are deleted on the way, so the table holds only sessions
    that could still be used (plus those abandoned since the account's last login).
    """
    end_expired(profile_id, now, lifetime)
    session_id = new_session_id()
    db.session.execute(
        sa.insert(AdminSession).values(
            id_digest=digest(session_id), profile_id=profile_id, created_at=now, last_seen_at=now
        )
    )
    return session_id


def check_session(session_id: str, now: datetime, lifetime: Lifetime) -> LiveSession | None:
    """The live session for this id, or None: unknown, expired, or its account is no admin.

    An expired session is deleted. last_seen_at moves on once per TOUCH_INTERVAL. Raises
    DBAPIError when the sessions cannot be read (no such table, no database).
    """
    key = digest(session_id)
    row = db.session.execute(
        sa.select(
            AdminSession.profile_id,
            AdminSession.created_at,
            AdminSession.last_seen_at,
            AdminAccount.password_hash,
            Profile.email,
            Profile.role,
        )
        .join(AdminAccount, AdminAccount.profile_id == AdminSession.profile_id)
        .join(Profile, Profile.id == AdminAccount.profile_id)
        .where(AdminSession.id_digest == key)
    ).one_or_none()
    if row is None or row.role != Role.ADMIN:
        return None
    if lifetime.expired(row.created_at, row.last_seen_at, now):
        db.session.execute(sa.delete(AdminSession).where(AdminSession.id_digest == key))
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        db.session.execute(
            sa.update(AdminSession).where(AdminSession.id_digest == key).values(last_seen_at=now)
        )
    return LiveSession(row.profile_id, row.email, row.password_hash, row.created_at)


def end_session(session_id: str) -> None:
    """Logout: this session can never be used again."""
    db.session.execute(sa.delete(AdminSession).where(AdminSession.id_digest == digest(session_id)))


def end_all_sessions(profile_id: uuid.UUID) -> None:
    """Every session of the account (a new password). A schema older than the sessions table
    has no session to end."""
    if not sa.inspect(db.session.connection()).has_table(AdminSession.__tablename__):
        return
    db.session.execute(sa.delete(AdminSession).where(AdminSession.profile_id == profile_id))


def end_expired(profile_id: uuid.UUID, now: datetime, lifetime: Lifetime) -> None:
    db.session.execute(
        sa.delete(AdminSession).where(
            AdminSession.profile_id == profile_id,
            sa.or_(
                AdminSession.last_seen_at < now - lifetime.idle,
                AdminSession.created_at < now - lifetime.absolute,
            ),
        )
    )
