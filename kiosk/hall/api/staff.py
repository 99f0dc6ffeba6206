"""Staff sign in with their own account (and, at a counter, the counter they sit at)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from kiosk.hall.api.deps import Clerk, HallError, bearer, center_of, now, pool
from kiosk.hall.auth import STAFF_SESSION_HOURS, sign_in, sign_out

router = APIRouter(prefix="/v1/staff", tags=["staff"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    counter: int | None = Field(default=None, ge=1, le=999)


class Session(BaseModel):
    token: str
    role: str
    center: str
    counter: int | None
    expires_in_s: int


class Me(BaseModel):
    username: str
    role: str
    center: str
    counter: int | None


@router.post("/sessions", response_model=Session)
def open_session(request: Request, body: SignIn) -> dict[str, Any]:
    """The one route without a credential: it is how a staff member gets one."""
    with pool(request).connection() as conn:
        result = sign_in(conn, body.username, body.password, body.counter, now(request))
        if result is None:
            raise HallError(401, "sign_in_failed", "用户名或密码不正确。",
                            "Wrong username or password.")
        token, who = result
        if body.counter is not None:
            try:
                center_of(request, who).config.counter(body.counter)
            except KeyError:
                conn.rollback()
                raise HallError(422, "unknown_counter", f"本中心没有 {body.counter} 号窗口。",
                                f"This center has no counter {body.counter}.") from None
    return {"token": token, "role": who.role.value, "center": who.center_id,
            "counter": body.counter, "expires_in_s": STAFF_SESSION_HOURS * 3600}


@router.get("/me", response_model=Me)
def me(who: Clerk) -> dict[str, Any]:
    return {"username": who.name, "role": who.role.value, "center": who.center_id,
            "counter": who.counter_no}


@router.delete("/sessions", status_code=204)
def close_session(request: Request, who: Clerk,
                  token: Annotated[str, Depends(bearer)]) -> None:
    with pool(request).connection() as conn:
        sign_out(conn, token)
