"""Accounts, passwords and API tokens: the facts behind every sign-in.

Passwords are stored as argon2id hashes (argon2-cffi); API tokens are shown once and only
their SHA-256 is stored, so a copy of the database gives away neither. Every change to an
account is an audit event whose note holds no personal data (ids and roles only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiToken, Role, User, record_event
from models.base import utcnow

MIN_PASSWORD_LENGTH: Final = 8
TOKEN_PREFIX: Final = "cf_"

# argon2id with argon2-cffi's defaults: RFC 9106's "low memory" profile (64 MiB, t=3, p=4)
DEFAULT_HASHER: Final = PasswordHasher()
_hasher = DEFAULT_HASHER
# verified against when the username is unknown, so a wrong name costs as long as a wrong password
_dummy_hash = _hasher.hash(secrets.token_urlsafe(16))


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash new passwords with other argon2 parameters (e.g. cheaper ones in a test suite).
    Old hashes keep verifying, and are upgraded at the next sign-in."""
    global _hasher, _dummy_hash
    _hasher = hasher
    _dummy_hash = hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A change to an account that cannot be made; `str()` says why, for the person asking."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def parse_role(role: str | Role) -> Role:
    try:
        return Role(str(role).lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise AccountError(f"unknown role {role!r}; choose one of {choices}") from None


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def _require_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise AccountError(f"no user named {username!r}")
    return user


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str | Role,
    *,
    email: str | None = None,
    actor: str = "system",
) -> User:
    """Add an account; the caller commits."""
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise AccountError("a username is 1 to 100 characters without spaces")
    checked_role = parse_role(role)
    if get_user(session, username) is not None:
        raise AccountError(f"a user named {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=checked_role.value,
        email=email or None,
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        note=f"role {checked_role.value}",
    )
    return user


def set_password(session: Session, username: str, password: str, *, actor: str = "system") -> User:
    """Change a password; sessions signed in with the old one stop working (see
    `password_fingerprint`)."""
    user = _require_user(session, username)
    user.password_hash = hash_password(password)
    record_event(
        session, actor=actor, action="user.password_changed", entity_type="user", entity_id=user.id
    )
    return user


def set_role(session: Session, username: str, role: str | Role, *, actor: str = "system") -> User:
    user = _require_user(session, username)
    new = parse_role(role)
    old = user.role
    user.role = new.value
    record_event(
        session,
        actor=actor,
        action="user.role_changed",
        entity_type="user",
        entity_id=user.id,
        note=f"role {old} -> {new.value}",
    )
    return user


def disable_user(session: Session, username: str, *, actor: str = "system") -> User:
    """Stop an account from signing in and revoke its API tokens (sessions end at once)."""
    user = _require_user(session, username)
    user.disabled = True
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        session.delete(token)
    record_event(
        session, actor=actor, action="user.disabled", entity_type="user", entity_id=user.id
    )
    return user


def enable_user(session: Session, username: str, *, actor: str = "system") -> User:
    user = _require_user(session, username)
    user.disabled = False
    record_event(session, actor=actor, action="user.enabled", entity_type="user", entity_id=user.id)
    return user


def verify_password(session: Session, username: str, password: str) -> User | None:
    """The enabled user with this name and password, else None.

    Takes the same time for an unknown name as for a wrong password, and upgrades the hash
    when argon2's recommended parameters have changed since it was made."""
    user = get_user(session, username)
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def password_fingerprint(user: User) -> str:
    """A short digest of the password hash kept in the session cookie: a new password
    changes it, which signs out every browser that signed in with the old one."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, username: str, *, actor: str = "system") -> str:
    """A new API token for the user; only its SHA-256 is stored, so show it now or never."""
    user = _require_user(session, username)
    if user.disabled:
        raise AccountError(f"user {username!r} is disabled")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token))
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="token.created",
        entity_type="user",
        entity_id=user.id,
        note=f"token {row.id}",
    )
    return token


def revoke_tokens(session: Session, username: str, *, actor: str = "system") -> int:
    user = _require_user(session, username)
    rows = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))
    for row in rows:
        session.delete(row)
    record_event(
        session,
        actor=actor,
        action="token.revoked",
        entity_type="user",
        entity_id=user.id,
        note=f"{len(rows)} token(s)",
    )
    return len(rows)


def authenticate_token(session: Session, token: str) -> User | None:
    """The enabled user an API token belongs to, else None."""
    if not token:
        return None
    digest = _token_hash(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # the lookup is by exact hash; compare again in constant time for good measure
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    now = utcnow()
    # one write a minute at most, so reads through the API stay reads
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
    return user
