"""The admin's sessions as the web layer sees them: the Flask-Login user, loading it from the
session id in the signed cookie, and what this process remembers for when the database cannot
say.

A session is *verified* when its row in `admin_sessions` was read on this request. When the
sessions cannot be read (a schema older than revision 005, or no database), a session is
admitted only if this process verified it (or logged it in) earlier and never saw it end: the
signed cookie alone, which anyone holding SECRET_KEY can forge, is never enough. Such a session
is *unverified*: it sees the schema pages and may not send anything but GET.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from pixcrawler.extensions import db
from pixcrawler.models import AdminAccount, AdminSession, Profile, Role
from pixcrawler.services import admin_sessions
from pixcrawler.services.admin_sessions import Lifetime


class AdminUser:
    """The Flask-Login user: an admin, identified by the id of the session it logged in with."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, session_id: str, email: str, verified: bool = True):
        self.session_id = session_id
        self.email = email
        self.verified = verified

    def get_id(self) -> str:
        return self.session_id


@dataclass(frozen=True)
class Remembered:
    """What this process knows of a session it verified: enough to check it without the
    sessions table (times) and, while the accounts table is readable, against its account."""

    profile_id: uuid.UUID
    email: str
    password_mark: str  # digest of the account's password hash when last verified
    created_at: datetime
    last_seen_at: datetime


class SessionMemory:
    """Sessions this process verified and never saw end, keyed by the digest of their id.

    One per app (tests build many apps in one process); each worker process has its own.
    Expired entries are dropped as they are met and whenever one is added.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, Remembered] = {}

    def remember(self, session_id: str, entry: Remembered, lifetime: Lifetime) -> None:
        with self.lock:
            self.entries[admin_sessions.digest(session_id)] = entry
            now = datetime.now(UTC)
            for key, old in list(self.entries.items()):
                if lifetime.expired(old.created_at, old.last_seen_at, now):
                    del self.entries[key]

    def recall(self, session_id: str) -> Remembered | None:
        with self.lock:
            return self.entries.get(admin_sessions.digest(session_id))

    def forget(self, session_id: str) -> None:
        with self.lock:
            self.entries.pop(admin_sessions.digest(session_id), None)


def memory(app: Flask | None = None) -> SessionMemory:
    app = app or current_app
    return app.extensions.setdefault("pixcrawler_admin_sessions", SessionMemory())


def lifetime() -> Lifetime:
    """The idle timeout and absolute lifetime from the config (seconds)."""
    config = current_app.config
    return Lifetime(
        idle=timedelta(seconds=config["ADMIN_SESSION_IDLE_TIMEOUT"]),
        absolute=timedelta(seconds=config["ADMIN_SESSION_LIFETIME"]),
    )


def password_mark(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()


def remembered(account: AdminAccount, now: datetime) -> Remembered:
    """What a login that just succeeded will remember, read before the login's commit expires
    the account (reloading it then would select every column of `profiles`, which a pending
    migration may not have added yet)."""
    return Remembered(
        account.profile_id,
        account.profile.email,
        password_mark(account.password_hash),
        created_at=now,
        last_seen_at=now,
    )


def start(entry: Remembered) -> AdminUser:
    """The session of a login that just succeeded.

    Stored in `admin_sessions` when the table is there; otherwise (a schema below 005) it
    lives in this process's memory only, and stays unverified (read-only) until it ends.
    """
    try:
        session_id = admin_sessions.open_session(entry.profile_id, entry.created_at, lifetime())
        db.session.commit()
        verified = True
    except sa.exc.DBAPIError:
        db.session.rollback()
        session_id, verified = admin_sessions.new_session_id(), False
    memory().remember(session_id, entry, lifetime())
    return AdminUser(session_id, entry.email, verified=verified)


def load_user(session_id: str) -> AdminUser | None:
    """Flask-Login's user loader: the session's admin, or None once the session has ended."""
    now = datetime.now(UTC)
    try:
        live = admin_sessions.check_session(session_id, now, lifetime())
        db.session.commit()  # an expired row deleted, or last_seen_at moved on
    except sa.exc.DBAPIError:
        db.session.rollback()
        return unverified_user(session_id, now)
    if live is None:
        memory().forget(session_id)
        return None
    entry = Remembered(
        live.profile_id,
        live.email,
        password_mark(live.password_hash),
        created_at=live.created_at,
        last_seen_at=now,
    )
    memory().remember(session_id, entry, lifetime())
    return AdminUser(session_id, live.email)


def unverified_user(session_id: str, now: datetime) -> AdminUser | None:
    """A session whose row cannot be read now: admitted read-only only if this process knows it.

    While the accounts table can still be read, the account must still be an admin with the
    password the session logged in with; a `flask changepassword` run elsewhere ends it then.
    """
    if sessions_table_exists() is True:
        return None  # the table is there and the read still failed: refuse, don't guess
    known = memory().recall(session_id)
    if known is None:
        return None
    if lifetime().expired(known.created_at, known.last_seen_at, now):
        memory().forget(session_id)
        return None
    if not account_still_matches(known):
        memory().forget(session_id)
        return None
    memory().remember(session_id, replace(known, last_seen_at=now), lifetime())
    return AdminUser(session_id, known.email, verified=False)


def account_still_matches(known: Remembered) -> bool:
    """False when the accounts table says the account is gone, demoted or has a new password;
    True when it agrees or cannot be read."""
    query = (
        sa.select(AdminAccount.password_hash, Profile.role)
        .join(Profile, Profile.id == AdminAccount.profile_id)
        .where(AdminAccount.profile_id == known.profile_id)
    )
    try:
        row = db.session.execute(query).one_or_none()
    except sa.exc.DBAPIError:
        db.session.rollback()
        return True
    if row is None or row.role != Role.ADMIN:
        return False
    return password_mark(row.password_hash) == known.password_mark


def sessions_table_exists() -> bool | None:
    """True or False, or None when the database does not answer."""
    try:
        return sa.inspect(db.engine).has_table(AdminSession.__tablename__)
    except sa.exc.DBAPIError:
        return None


def end(session_id: str) -> None:
    """Logout: the row goes, and this process forgets the session, so that it never comes back
    even if the sessions table disappears later."""
    memory().forget(session_id)
    try:
        admin_sessions.end_session(session_id)
        db.session.commit()
    except sa.exc.DBAPIError:
        db.session.rollback()
