"""Who am I (`GET /api/me`, `POST /api/me/password`) and accounts for managers
(`/api/users`): managers administer coordinators, auditors and managers; only an admin
touches admins; auditors read the list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Role,
    User,
)
from review import auth
from review.csrf import csrf_token, is_bearer
from review.deps import (
    MANAGERS,
    SESSION_ID,
    CurrentUser,
    Reader,
    SessionDep,
    has_role,
    require_role,
)
from review.schemas import (
    Me,
)

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/me", response_model=Me)
def me(request: Request, user: Reader) -> Me:
    """Who is signed in (and, for a browser session, its CSRF token for scripts)."""
    return Me(
        id=user.id,
        username=user.username,
        role=user.role,
        can_review=has_role(user, Role.COORDINATOR),
        can_manage=has_role(user, Role.MANAGER),
        csrf_token=None if is_bearer(request) else csrf_token(request),
    )


# ---- accounts (managers) -------------------------------------------------------------

# managers administer accounts; auditors may read the list
UserAdmin = Annotated[User, Depends(require_role(*MANAGERS))]
UserReader = Annotated[User, Depends(require_role(*MANAGERS, Role.AUDITOR))]
UserName = Annotated[str, Path(min_length=1, max_length=100)]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: str
    email: str | None
    disabled: bool
    created_at: datetime


class UserList(BaseModel):
    items: list[UserOut]


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=500)
    role: Role
    email: str | None = None


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=500)


class OwnPasswordIn(BaseModel):
    current_password: str = Field(max_length=500)
    new_password: str = Field(min_length=1, max_length=500)


def _may_administer(actor: User, role: str) -> None:
    """A manager manages coordinators, auditors and managers; only an admin touches admins."""
    if role == Role.ADMIN and actor.role != Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only an admin may manage admin accounts.")


def _account(session: Session, username: str) -> User:
    user = auth.get_user(session, username)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user named {username!r}.")
    return user


@router.get("/users", response_model=UserList)
def list_users(session: SessionDep, user: UserReader) -> UserList:
    rows = session.scalars(select(User).order_by(User.username))
    return UserList(items=[UserOut.model_validate(u) for u in rows])


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def add_user(body: UserIn, session: SessionDep, user: UserAdmin) -> UserOut:
    _may_administer(user, body.role)
    if auth.get_user(session, body.username) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"A user named {body.username!r} exists.")
    created = auth.create_user(
        session,
        body.username,
        body.password,
        body.role,
        email=body.email,
        actor=user.username,
    )
    session.commit()
    return UserOut.model_validate(created)


@router.post("/users/{username}/password", response_model=UserOut)
def reset_password(
    username: UserName, body: PasswordIn, session: SessionDep, user: UserAdmin
) -> UserOut:
    """Set another person's password (their sessions end, their tokens are revoked). A
    manager resets coordinators' and auditors'; a peer's or an admin's only an admin may;
    one's own password changes only with the current one (`POST /api/me/password`)."""
    target = _account(session, username)
    if target.id == user.id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Change your own password with the current one (POST /api/me/password).",
        )
    if target.role in (Role.MANAGER, Role.ADMIN) and user.role != Role.ADMIN:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Only an admin may reset a manager's or an admin's password."
        )
    changed = auth.set_password(session, target.username, body.password, actor=user.username)
    session.commit()
    return UserOut.model_validate(changed)


@router.post("/users/{username}/disable", response_model=UserOut)
def disable(username: UserName, session: SessionDep, user: UserAdmin) -> UserOut:
    target = _account(session, username)
    _may_administer(user, target.role)
    if target.id == user.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "You cannot disable your own account.")
    auth.disable_user(session, username, actor=user.username)
    session.commit()
    return UserOut.model_validate(target)


@router.post("/users/{username}/enable", response_model=UserOut)
def enable(username: UserName, session: SessionDep, user: UserAdmin) -> UserOut:
    _may_administer(user, _account(session, username).role)
    enabled = auth.enable_user(session, username, actor=user.username)
    session.commit()
    return UserOut.model_validate(enabled)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_own_password(
    request: Request, body: OwnPasswordIn, session: SessionDep, user: CurrentUser
) -> None:
    """Anyone, auditors included, may change their own password (other sessions end; this
    one stays signed in)."""
    if auth.verify_password(session, user.username, body.current_password) is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The current password is wrong.")
    sid = None if is_bearer(request) else request.session.get(SESSION_ID)
    auth.set_password(
        session,
        user.username,
        body.new_password,
        actor=user.username,
        keep_session=sid if isinstance(sid, str) else None,
    )
    session.commit()
