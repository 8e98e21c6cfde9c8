"""Quality rules: limits and severities from a table, resolved per layer, type and instrument.

The packaged ``rules.toml`` holds the defaults; the project file's ``[quality]`` section has the
same shape and overrides single fields, for every instrument or one (an option on a quiet night
is a normal day for its users, and must not block the whole pipeline). Resolution, later wins:
``[layer]`` -> ``[layer.<data_type>]`` -> ``[instruments."ex:SYM".layer]`` ->
``[instruments."ex:SYM".layer.<data_type>]``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from importlib import resources
from typing import Any

from tardis_assets.lib.errors import ConfigError

LAYERS = ("raw", "bars")
_FIELDS = {"max", "min", "severity", "unit", "description"}


class Severity(Enum):
    ERROR = "error"
    WARN = "warn"
    OFF = "off"


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Severity
    max: float | None = None
    min: float | None = None
    unit: str = ""
    description: str = ""

    def broken_by(self, value: float) -> bool:
        if self.severity is Severity.OFF or value is None or math.isnan(value):
            return False
        return (self.max is not None and value > self.max) or (
            self.min is not None and value < self.min
        )

    def limit_text(self) -> str:
        unit = f" {self.unit}" if self.unit and self.unit != "share" else ""
        if self.max is not None:
            return f"limit {_number(self.max)}{unit}"
        return f"at least {_number(self.min)}{unit}"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Finding:
    """One broken rule for one instrument (and data type) on one day."""

    rule: Rule
    value: float
    where: str  # e.g. "binance-futures:BTCUSDT trades 2025-03-01"
    detail: str = ""  # e.g. "from 03:10 to 04:45 UTC", "first at line 2,345"

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    def reason(self, detail: bool = True) -> str:
        """What is wrong, without where: ``rows repeating ...: 1,000 rows (first at line 9)``."""
        value = f"{self.value:.4%}" if self.rule.unit == "share" else _number(self.value)
        unit = f" {self.rule.unit}" if self.rule.unit and self.rule.unit != "share" else ""
        detail = f" {self.detail}" if detail and self.detail else ""
        return (
            f"{self.rule.description}: {value}{unit}{detail} "
            f"({self.rule.limit_text()}, {self.rule.severity.value})"
        )

    def sentence(self) -> str:
        return f"{self.where}: {self.reason()}"


def _rule(source: str, path: str, name: str, raw: Any, base: Rule | None) -> Rule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {path}.{name} must be a table like {{ max = 60 }}")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ConfigError(
            f"{source}: {path}.{name} has unknown fields {sorted(unknown)}",
            remedy=f"A rule takes {', '.join(sorted(_FIELDS))}.",
        )
    fields: dict[str, Any] = {}
    for key in ("max", "min"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{source}: {path}.{name}.{key} = {value!r} is not a number")
            fields[key] = float(value)
    if "severity" in raw:
        try:
            fields["severity"] = Severity(raw["severity"])
        except ValueError:
            raise ConfigError(
                f"{source}: {path}.{name}.severity = {raw['severity']!r}",
                remedy="Use error, warn or off.",
            ) from None
    for key in ("unit", "description"):
        if key in raw:
            fields[key] = str(raw[key])
    if base is None:
        if "severity" not in fields or ("max" not in fields and "min" not in fields):
            raise ConfigError(f"{source}: {path}.{name} needs a limit (max or min) and a severity")
        return Rule(name=name, **fields)
    return replace(base, **fields)


class QualityRules:
    """The resolved rule table; cheap to query, immutable."""

    def __init__(self, defaults: Mapping[str, Any], overrides: Mapping[str, Any], source: str):
        self._source = source
        self._base: dict[str, dict[str, Rule]] = {}
        for layer in LAYERS:
            table = defaults.get(layer, {})
            self._base[layer] = {
                name: _rule("rules.toml", layer, name, raw, None)
                for name, raw in table.items()
                if not _is_type_table(raw)
            }
        self._overrides = overrides
        self._check(overrides, "quality")

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, source: str = "") -> QualityRules:
        text = resources.files("tardis_assets.lib.quality").joinpath("rules.toml").read_text()
        return cls(tomllib.loads(text), overrides or {}, source or "the project file")

    def _check(self, table: Mapping[str, Any], path: str, instrument: bool = False) -> None:
        """Validate override names early, so a typo fails at load, not silently."""
        for key, body in table.items():
            if key == "instruments" and not instrument:
                if not isinstance(body, dict):
                    raise ConfigError(f"{self._source}: [{path}.instruments] must be a table")
                for name, inner in body.items():
                    if ":" not in name:
                        raise ConfigError(
                            f"{self._source}: [{path}.instruments.{name!r}] must name an "
                            "instrument as exchange:SYMBOL"
                        )
                    self._check(inner, f"{path}.instruments.{name!r}", instrument=True)
                continue
            if key not in LAYERS:
                raise ConfigError(
                    f"{self._source}: unknown quality layer [{path}.{key}]",
                    remedy=f"Use {', '.join(LAYERS)} (or instruments).",
                )
            self._check_layer(key, body, f"{path}.{key}")

    def _check_layer(self, layer: str, body: Any, path: str) -> None:
        if not isinstance(body, dict):
            raise ConfigError(f"{self._source}: [{path}] must be a table")
        for name, raw in body.items():
            if _is_type_table(raw) and layer == "raw":
                self._check_layer(layer, raw, f"{path}.{name}")
                continue
            if name not in self._base[layer]:
                raise ConfigError(
                    f"{self._source}: unknown {layer} rule {name!r} in [{path}]",
                    remedy=f"Known: {', '.join(self._base[layer])}.",
                )
            _rule(self._source, path, name, raw, self._base[layer][name])

    def rules(self, layer: str, instrument: str, data_type: str | None = None) -> dict[str, Rule]:
        """Every rule of ``layer`` as it applies to one instrument (and tardis type)."""
        if layer not in LAYERS:
            raise ValueError(f"unknown quality layer {layer!r}")
        out = dict(self._base[layer])
        per_instrument = self._overrides.get("instruments", {}).get(instrument, {})
        for table in (self._overrides, per_instrument):
            body = table.get(layer, {})
            layers = [body, body.get(data_type, {})] if data_type else [body]
            for level in layers:
                for name, raw in level.items():
                    if not _is_type_table(raw) or layer != "raw":
                        out[name] = _rule(self._source, layer, name, raw, out[name])
        return out

    def judge(
        self,
        layer: str,
        instrument: str,
        values: Mapping[str, float],
        *,
        where: str,
        data_type: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> list[Finding]:
        """The rules ``values`` break (metrics without a rule are ignored)."""
        rules = self.rules(layer, instrument, data_type)
        found = []
        for name, value in values.items():
            rule = rules.get(name)
            if rule is not None and rule.broken_by(value):
                found.append(Finding(rule, float(value), where, (details or {}).get(name, "")))
        return found


def _is_type_table(raw: Any) -> bool:
    """A nested table of rules (``[raw.trades]``) rather than one rule (``{ max = 1 }``)."""
    return isinstance(raw, dict) and not (set(raw) & _FIELDS)


def worst(findings: list[Finding]) -> Severity | None:
    """ERROR if any finding blocks, else WARN if any, else None."""
    if any(f.severity is Severity.ERROR for f in findings):
        return Severity.ERROR
    if findings:
        return Severity.WARN
    return None
