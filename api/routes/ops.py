"""Operations: ``GET /v1/rules`` (the rule catalogue and the verdict thresholds) and
``GET /healthz`` (liveness). ``/readyz`` and ``/metrics`` are installed with the
metrics middleware by :func:`api.observability.install`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.routing import Router
from api.settings import Settings
from api.version import VERSION
from scanners import rules
from scanners.findings import DANGEROUS_AT, SUSPICIOUS_AT
from scanners.rules import Kind, Severity


class RuleOut(BaseModel):
    id: str
    points: int
    severity: Severity
    kind: Kind
    suppressible: bool
    official: bool
    title_vi: str
    title_en: str
    description: str


class Thresholds(BaseModel):
    suspicious: int
    dangerous: int


class RulesOut(BaseModel):
    rules: list[RuleOut]
    thresholds: Thresholds


class ListOut(BaseModel):
    name: str
    entries: int


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    rules: int = Field(description="Rules in the catalogue.")
    lists: list[ListOut] = Field(description="The bundled blocklists (empty if unreadable).")


@lru_cache(maxsize=1)
def _rules_payload() -> dict[str, Any]:
    return {
        "rules": [
            {
                "id": r.id,
                "points": r.points,
                "severity": r.severity.value,
                "kind": r.kind.value,
                "suppressible": r.suppressible,
                "official": r.official,
                "title_vi": r.title_vi,
                "title_en": r.title_en,
                "description": r.description,
            }
            for r in rules.CATALOGUE.values()
        ],
        "thresholds": {"suspicious": SUSPICIOUS_AT, "dangerous": DANGEROUS_AT},
    }


async def list_rules() -> dict[str, Any]:
    """Every rule that can add points, with the verdict thresholds."""
    return _rules_payload()



async def healthz(services: ServicesDep) -> dict[str, Any]:
    """Liveness: the scanner is loaded and the version and bundled lists are known."""
    return {"status": "ok", "version": VERSION, "rules": len(rules.CATALOGUE),
            "lists": services.bundled_lists}


def build(settings: Settings) -> APIRouter:
    """The router of ``/v1/rules`` and ``/healthz``."""
    router = Router()
    router.add_api_route("/v1/rules", list_rules, methods=["GET"], response_model=RulesOut,
                         tags=["rules"], summary="The rule catalogue")
    router.add_api_route("/healthz", healthz, methods=["GET"], response_model=Health,
                         tags=["health"], summary="Health check")
    return router
