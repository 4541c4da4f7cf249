"""``/v1/keys``: list, create and revoke API keys (admin).

The keys live in :mod:`api.storage.apikeys`; :class:`api.auth.Authenticator`
checks them. A key store that fails is a 503 problem (:mod:`api.problems`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.auth import AUTH_RESPONSES, AdminAuth
from api.deps import AuthDep, WebhooksDep
from api.problems import TYPE_NOT_FOUND, ProblemException, problem_responses
from api.routing import Router
from api.settings import Settings
from api.storage.apikeys import MAX_RATE_CHARS, ApiKey, Role, check_rate

log = logging.getLogger("scamscan.api")


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200, description="Who or what uses the key.")
    role: Role
    rate: str | None = Field(
        default=None, max_length=MAX_RATE_CHARS, examples=["600/minute"],
        description="This key's rate limit in `limits` notation (`600/minute`, "
        "`10/second;1000/hour`); absent: the role's setting (`SCAMSCAN_RATE_LIMIT_CLIENT` "
        "…). Not a rate limit: 422.")

    @field_validator("rate")
    @classmethod
    def _rate(cls, v: str | None) -> str | None:
        return None if v is None else check_rate(v)


class KeyOut(BaseModel):
    id: str
    name: str
    role: Role
    created: datetime
    revoked: bool
    last_used: datetime | None = Field(description="Roughly (written at most once a minute).")
    rate: str | None = Field(default=None, description="The key's own rate limit; null: "
                             "its role's setting (`SCAMSCAN_RATE_LIMIT_CLIENT` …).")


class KeyCreated(KeyOut):
    key: str = Field(description="The secret key: shown once, only a hash of it is kept.")
    webhook_secret: str = Field(
        description="The key's webhook signing secret (`whsec_…`): shown once, never "
        "answered again. Webhooks of scans made with this key carry `X-Scamscan-Signature`, "
        "an HMAC-SHA256 keyed with it (docs/webhooks.md).")


class KeyList(BaseModel):
    keys: list[KeyOut]


def _out(k: ApiKey) -> dict[str, Any]:
    return {"id": k.id, "name": k.name, "role": k.role, "created": k.created,
            "revoked": k.revoked, "last_used": k.last_used, "rate": k.rate}


async def list_keys(auth: AuthDep, _: AdminAuth) -> dict[str, Any]:
    """Every API key (never the secret), revoked ones included."""
    keys = await auth.store.list()
    return {"keys": [_out(k) for k in keys]}


async def create_key(auth: AuthDep, webhooks: WebhooksDep, body: KeyCreate,
                     _: AdminAuth) -> dict[str, Any]:
    """Make an API key; the answer is the only time the key and its webhook signing
    secret are shown."""
    record, secret = await auth.store.create(body.name, body.role, rate=body.rate)
    auth.invalidate()
    log.info("API key %s (%s) created", record.id, record.role)
    webhook_secret = await webhooks.create_key_secret(record.id)
    return {**_out(record), "key": secret, "webhook_secret": webhook_secret}


async def revoke_key(
    auth: AuthDep,
    key_id: Annotated[str, PathParam(max_length=64, description="The key's id.")],
    _: AdminAuth,
) -> dict[str, Any]:
    """Revoke an API key: it gets 401 from now on (at once on this server)."""
    record = await auth.store.revoke(key_id)
    if record is None:
        raise ProblemException(404, f"There is no API key with the id {key_id!r}.",
                               type_=TYPE_NOT_FOUND, title="Unknown key")
    auth.invalidate()
    log.info("API key %s revoked", record.id)
    return _out(record)


def build(settings: Settings) -> APIRouter:
    """``/v1/keys``: list, create and revoke API keys (admin)."""
    router = Router(prefix="/v1/keys", tags=["keys"])
    router.add_api_route("", list_keys, methods=["GET"], response_model=KeyList,
                         responses=AUTH_RESPONSES, summary="List API keys")
    router.add_api_route("", create_key, methods=["POST"], status_code=201,
                         response_model=KeyCreated, summary="Create an API key",
                         responses={**AUTH_RESPONSES, **problem_responses(422, 503)})
    router.add_api_route("/{key_id}", revoke_key, methods=["DELETE"], response_model=KeyOut,
                         responses={**AUTH_RESPONSES, **problem_responses(404)},
                         summary="Revoke an API key")
    return router
