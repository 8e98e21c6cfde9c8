"""Routing table loader: which model answers which kind, at what price, with what fallback.

The table is a TOML file shipped with the package (`routing.toml`) and overridable by pointing
`GatewayConfig.routing_path` at a user copy, so prices and chains change without code changes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.llm.contracts import KINDS


class RoutingError(ConfigError):
    """The routing file is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class ModelInfo:
    """Everything the gateway needs to know about one model id."""

    id: str
    provider: str
    price_in: float
    price_out: float
    price_cached_in: float
    batch_discount: float
    cutoff: date
    json_schema: bool
    max_concurrency: int
    rps: float
    tpm: float

    def cost(self, tokens_in: int, tokens_out: int, batch: bool = False, cached: int = 0) -> float:
        """USD for a call, from per-million-token prices.

        `tokens_in` counts every prompt token (as providers report it); `cached` of them are
        billed at the cached-input rate instead of the input rate.
        """
        usd = (
            (tokens_in - cached) * self.price_in
            + cached * self.price_cached_in
            + tokens_out * self.price_out
        ) / 1_000_000
        return usd * self.batch_discount if batch else usd


@dataclass(frozen=True)
class RouteInfo:
    name: str
    chain: tuple[str, ...]
    max_tokens: int


@dataclass(frozen=True)
class RoutingTable:
    source: str
    models: dict[str, ModelInfo]
    routes: dict[str, RouteInfo]

    def chain_for(self, kind: str, overrides: dict[str, str] | None = None) -> RouteInfo:
        """The route of a kind (a kind's own route unless overridden, e.g. to "fast")."""
        name = (overrides or {}).get(kind, kind)
        if name not in self.routes:
            raise RoutingError(f"{self.source}: no route {name!r} for kind {kind!r}")
        return self.routes[name]


_MODEL_FIELDS = {
    "provider": str,
    "price_in": (int, float),
    "price_out": (int, float),
    "batch_discount": (int, float),
    "cutoff": date,
    "json_schema": bool,
    "max_concurrency": int,
    "rps": (int, float),
    "tpm": (int, float),
}


def _model(source: str, model_id: str, raw: Any) -> ModelInfo:
    if not isinstance(raw, dict):
        raise RoutingError(f"{source}: [models.{model_id!r}] must be a table")
    for key, typ in _MODEL_FIELDS.items():
        if key not in raw:
            raise RoutingError(f"{source}: [models.{model_id!r}] is missing {key!r}")
        val = raw[key]
        if not isinstance(val, typ) or (typ is not bool and isinstance(val, bool)):
            raise RoutingError(f"{source}: [models.{model_id!r}] {key}={val!r} has a wrong type")
    cached = raw.get("price_cached_in", raw["price_in"])
    if isinstance(cached, bool) or not isinstance(cached, int | float):
        raise RoutingError(
            f"{source}: [models.{model_id!r}] price_cached_in={cached!r} has a wrong type"
        )
    for key in ("price_in", "price_out", "batch_discount", "price_cached_in"):
        if raw.get(key, cached) < 0:
            raise RoutingError(f"{source}: [models.{model_id!r}] {key} must be >= 0")
    for key in ("max_concurrency", "rps", "tpm"):
        if raw[key] <= 0:
            raise RoutingError(f"{source}: [models.{model_id!r}] {key} must be > 0")
    return ModelInfo(
        id=model_id,
        provider=raw["provider"],
        price_in=float(raw["price_in"]),
        price_out=float(raw["price_out"]),
        price_cached_in=float(cached),
        batch_discount=float(raw["batch_discount"]),
        cutoff=raw["cutoff"],
        json_schema=raw["json_schema"],
        max_concurrency=raw["max_concurrency"],
        rps=float(raw["rps"]),
        tpm=float(raw["tpm"]),
    )


def parse_routing(text: str, source: str) -> RoutingTable:
    """Parse and validate routing TOML text; `source` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RoutingError(f"{source}: invalid TOML: {exc}") from None
    models = {mid: _model(source, mid, raw) for mid, raw in (data.get("models") or {}).items()}
    routes: dict[str, RouteInfo] = {}
    for name, raw in (data.get("routes") or {}).items():
        chain = raw.get("chain") if isinstance(raw, dict) else None
        if not isinstance(chain, list) or not chain:
            raise RoutingError(f"{source}: [routes.{name}] needs a non-empty 'chain' list")
        for mid in chain:
            if mid not in models:
                raise RoutingError(f"{source}: [routes.{name}] uses unknown model {mid!r}")
        max_tokens = raw.get("max_tokens", 256)
        if not isinstance(max_tokens, int) or max_tokens <= 0:
            raise RoutingError(f"{source}: [routes.{name}] max_tokens must be a positive int")
        routes[name] = RouteInfo(name, tuple(chain), max_tokens)
    missing = [k for k in KINDS if k not in routes]
    if missing:
        raise RoutingError(f"{source}: routes missing for kinds {missing}")
    return RoutingTable(source, models, routes)


def load_routing(path: Path | None = None) -> RoutingTable:
    """Load the user's routing file, or the package default when `path` is None."""
    if path is None:
        ref = resources.files("tardis_assets.lib.llm").joinpath("routing.toml")
        return parse_routing(ref.read_text(encoding="utf-8"), "tardis_assets/lib/llm/routing.toml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingError(f"{path}: cannot read routing file: {exc.strerror}") from None
    return parse_routing(text, str(path))
