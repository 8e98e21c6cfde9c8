"""Project settings: the config file, then environment variables, read once into one object.

Everything a deployment chooses (where data lives, which instruments and tardis types, bar and
window sizes, quality thresholds, the LLM provider, schedules) comes from one place, so the CLI,
``make ui`` and every Dagster run see the same configuration:

1. built-in defaults (what ``make run`` needs: synthetic data, the offline LLM stand-in);
2. the project file: ``$TARDIS_CONFIG`` if set, else ``tardis_assets.toml`` in the working
   directory when present (relative paths in it are relative to the file's folder);
3. environment variables, which override single settings (``TARDIS_DATA_DIR``,
   ``TARDIS_INSTRUMENTS``, ``TARDIS_RAW_TYPES``, ``TARDIS_LLM_PROVIDER``, ...; see README).

Secrets are never read here: only the *names* of the variables that hold keys, and whether they
are set, so a Dagster ``EnvVar`` can resolve the value at run time.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.market.tardis.inflate import InflateLimits
from tardis_assets.lib.market.tardis.schemas import DATA_TYPES
from tardis_assets.lib.quality.rules import QualityRules
from tardis_assets.lib.signals.settings import SignalSettings

CONFIG_FILE = "tardis_assets.toml"
# What the signal layer asks when: the fields of SignalSettings, set under [llm] (bar_seconds is
# the market's). Their types and defaults are SignalSettings' own.
SIGNAL_FIELDS: dict[str, type | tuple] = {
    f.name: {"int": int, "float": (int, float), "float | None": (int, float), "str": str}[
        str(f.type)
    ]
    for f in dataclasses.fields(SignalSettings)
    if f.name != "bar_seconds"
}
# What make run ingests: every type the synthetic market makes, so the demo exercises the depth
# path (L2 and snapshots), funding (the ticker) and quotes as real data would.
DEFAULT_RAW_TYPES = (
    "trades",
    "quotes",
    "book_snapshot_25",
    "incremental_book_L2",
    "derivative_ticker",
)
EXECUTORS = ("in_process", "celery")
# Kombu's own default: a step not acknowledged within this time is handed to another worker.
DEFAULT_VISIBILITY_TIMEOUT_S = 3600
_ON = {"1", "on", "true", "yes"}
_OFF = {"0", "off", "false", "no"}


@dataclass(frozen=True)
class DataSettings:
    """Where a run reads inputs and stores everything (the lake may be a file:// URI)."""

    dir: Path
    inputs: Path
    lake: str
    catalog: Path
    llm_cache: Path


@dataclass(frozen=True)
class MarketSettings:
    instruments: tuple[str, ...]
    raw_types: tuple[str, ...]
    bar_seconds: int
    synthetic_when_missing: bool
    synthetic_trades_per_day: int
    seed: int
    download_missing: bool
    tardis_key_set: bool
    # How far a .gz input may inflate (gzip bombs); defaults: lib/market/tardis/inflate.py.
    inflate: InflateLimits = field(default_factory=InflateLimits)


@dataclass(frozen=True)
class LLMSettings:
    provider: str | None  # None: holysheep when its key is set, else offline
    base_url: str | None
    routing_path: str | None
    signals: Mapping[str, Any]  # fields of lib.signals.SignalSettings given in the file
    batch: bool
    allow_in_sample: bool
    budget_run_usd: float | None
    budget_day_usd: float | None
    min_ok_share: float
    max_concurrency: int


@dataclass(frozen=True)
class ExecutorSettings:
    """How a run executes its steps: all in the run's own process (``in_process``, what
    ``make run`` and ``make ui`` use), or each on any Celery worker (``celery``, see README
    "Beyond one machine"). Broker and result-backend URLs may hold passwords, so they are never
    settings: Dagster and the workers read them from TARDIS_CELERY_BROKER / _BACKEND."""

    kind: str = "in_process"
    # A step a worker took but never acknowledged (the worker died) is redelivered after this;
    # it must exceed the longest step, or a step still running is started a second time.
    visibility_timeout_s: int = DEFAULT_VISIBILITY_TIMEOUT_S

    @property
    def distributed(self) -> bool:
        return self.kind != "in_process"


@dataclass(frozen=True)
class Settings:
    data: DataSettings
    market: MarketSettings
    llm: LLMSettings
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)
    quality: Mapping[str, Any] = field(default_factory=dict)  # overrides of the quality table
    schedules_on: bool = False
    source: str = "defaults"  # the config file read, if any
    keys_set: frozenset[str] = frozenset()  # names of *_API_KEY variables that are set

    def key_is_set(self, variable: str | None) -> bool:
        """Whether an API key variable is set (values are never read into settings)."""
        return bool(variable and variable in self.keys_set)


def _flag(name: str, text: str) -> bool:
    low = text.strip().lower()
    if low in _ON:
        return True
    if low in _OFF:
        return False
    raise ConfigError(f"{name}={text!r} is not on/off", remedy="Use on or off.")


def _typed(source: str, section: str, key: str, value: object, kind: type | tuple) -> Any:
    if isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{source}: [{section}] {key} = {value!r} has a wrong type")
    if not isinstance(value, kind):
        raise ConfigError(
            f"{source}: [{section}] {key} = {value!r} has a wrong type "
            f"(expected {getattr(kind, '__name__', kind)})"
        )
    return value


_KNOWN: dict[str, dict[str, type | tuple]] = {
    "data": {"dir": str, "inputs": str, "lake": str, "catalog": str, "llm_cache": str},
    "market": {
        "instruments": list,
        "raw_types": list,
        "bar_seconds": int,
        "synthetic_when_missing": bool,
        "synthetic_trades_per_day": int,
        "seed": int,
        "download_missing": bool,
        "max_inflated_gib": (int, float),
        "max_inflate_ratio": (int, float),
    },
    "llm": {
        "provider": str,
        "base_url": str,
        "routing": str,
        "batch": bool,
        **SIGNAL_FIELDS,
        "allow_in_sample": bool,
        "budget_run_usd": (int, float),
        "budget_day_usd": (int, float),
        "min_ok_share": (int, float),
        "max_concurrency": int,
    },
    "schedules": {"enabled": bool},
    "executor": {"kind": str, "visibility_timeout_s": int},
    "quality": {},  # free-form: validated by lib.quality
}


def read_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """Parse and check the project file; unknown sections or keys are errors (typos)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    for section, body in raw.items():
        if section not in _KNOWN or not isinstance(body, dict):
            raise ConfigError(
                f"{path}: unknown section [{section}]",
                remedy=f"Known sections: {', '.join(_KNOWN)}.",
            )
        if section == "quality":
            continue
        for key, value in body.items():
            if key not in _KNOWN[section]:
                raise ConfigError(
                    f"{path}: unknown setting {key!r} in [{section}]",
                    remedy=f"Known: {', '.join(_KNOWN[section])}.",
                )
            _typed(str(path), section, key, value, _KNOWN[section][key])
    return raw


def parse_instruments(items: list[str] | tuple[str, ...], where: str) -> tuple[str, ...]:
    for item in items:
        exchange, sep, symbol = str(item).partition(":")
        if not sep or not exchange or not symbol:
            raise ConfigError(
                f"{where}: instrument {item!r} must look like exchange:SYMBOL",
                remedy="For example binance-futures:BTCUSDT.",
            )
    if not items:
        raise ConfigError(f"{where}: at least one instrument is needed")
    return tuple(dict.fromkeys(str(i) for i in items))


def parse_raw_types(items: list[str] | tuple[str, ...], where: str) -> tuple[str, ...]:
    """Enabled tardis types, trades always first (bars are built from trades)."""
    types = [str(t).strip() for t in items if str(t).strip()]
    unknown = sorted(set(types) - set(DATA_TYPES))
    if unknown:
        raise ConfigError(
            f"{where}: unknown tardis data types {unknown}",
            remedy=f"Known: {', '.join(DATA_TYPES)}.",
        )
    return tuple(dict.fromkeys(["trades", *types]))


def _inflate_limits(market: Mapping[str, Any], where: str) -> InflateLimits:
    """[market] max_inflated_gib / max_inflate_ratio over the built-in defaults."""
    default = InflateLimits()
    try:
        return InflateLimits(
            max_gib=float(market.get("max_inflated_gib", default.max_gib)),
            max_ratio=float(market.get("max_inflate_ratio", default.max_ratio)),
        )
    except ValueError as exc:
        raise ConfigError(f"{where}: [market] {exc}") from None


def _path(base: Path, text: str) -> Path:
    p = Path(text).expanduser()
    return p if p.is_absolute() else base / p


def _executor(section: Mapping[str, Any], env: Mapping[str, str], where: str) -> ExecutorSettings:
    kind, where_k = section.get("kind", "in_process"), where
    if env.get("TARDIS_EXECUTOR"):
        kind, where_k = env["TARDIS_EXECUTOR"].strip(), "TARDIS_EXECUTOR"
    if kind not in EXECUTORS:
        raise ConfigError(
            f"{where_k}: executor {kind!r} is unknown", remedy=f"Use one of {', '.join(EXECUTORS)}."
        )
    timeout = section.get("visibility_timeout_s", DEFAULT_VISIBILITY_TIMEOUT_S)
    where_t = where
    if env.get("TARDIS_CELERY_VISIBILITY_TIMEOUT"):
        text, where_t = env["TARDIS_CELERY_VISIBILITY_TIMEOUT"], "TARDIS_CELERY_VISIBILITY_TIMEOUT"
        try:
            timeout = int(text)
        except ValueError:
            raise ConfigError(f"{where_t}={text!r} is not a whole number of seconds") from None
    if timeout < 10:
        raise ConfigError(
            f"{where_t}: visibility timeout {timeout} s is too short",
            remedy="Give at least 10 s, and more than the longest step takes.",
        )
    return ExecutorSettings(kind=kind, visibility_timeout_s=timeout)


def load_settings(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Defaults, then the project file, then the environment (see the module docstring)."""
    env = dict(os.environ if env is None else env)
    cwd = cwd or Path.cwd()
    file: Path | None = None
    if env.get("TARDIS_CONFIG"):
        file = _path(cwd, env["TARDIS_CONFIG"])
        if not file.is_file():
            raise ConfigError(f"TARDIS_CONFIG={env['TARDIS_CONFIG']!r}: no such file")
    elif (cwd / CONFIG_FILE).is_file():
        file = cwd / CONFIG_FILE
    conf = read_config_file(file) if file else {}
    base = file.parent if file else cwd
    d, m, llm = conf.get("data", {}), conf.get("market", {}), conf.get("llm", {})
    where = str(file) if file else "defaults"

    data_dir = _path(cwd, env["TARDIS_DATA_DIR"]) if env.get("TARDIS_DATA_DIR") else None
    if data_dir is None:
        data_dir = _path(base, d.get("dir", "data"))

    def under(key: str, default: str) -> Path:
        return _path(base, d[key]) if key in d else data_dir / default

    lake = env.get("TARDIS_LAKE") or (str(_path(base, d["lake"])) if "lake" in d else None)
    data = DataSettings(
        dir=data_dir,
        inputs=under("inputs", "inputs"),
        lake=lake or str(data_dir / "lake"),
        catalog=under("catalog", "warehouse.duckdb"),
        llm_cache=under("llm_cache", "llm_cache/cache.sqlite"),
    )

    instruments = m.get("instruments", ["binance-futures:BTCUSDT"])
    if env.get("TARDIS_INSTRUMENTS"):
        instruments = [s.strip() for s in env["TARDIS_INSTRUMENTS"].split(",") if s.strip()]
        where_i = "TARDIS_INSTRUMENTS"
    else:
        where_i = where
    raw_types = m.get("raw_types", list(DEFAULT_RAW_TYPES))
    where_t = where
    if env.get("TARDIS_RAW_TYPES"):
        raw_types, where_t = env["TARDIS_RAW_TYPES"].split(","), "TARDIS_RAW_TYPES"
    download = m.get("download_missing", False)
    if env.get("TARDIS_DOWNLOAD"):
        download = _flag("TARDIS_DOWNLOAD", env["TARDIS_DOWNLOAD"])
    synthetic = m.get("synthetic_when_missing", True)
    if env.get("TARDIS_SYNTHETIC"):
        synthetic = _flag("TARDIS_SYNTHETIC", env["TARDIS_SYNTHETIC"])
    market = MarketSettings(
        instruments=parse_instruments(instruments, where_i),
        raw_types=parse_raw_types(raw_types, where_t),
        bar_seconds=int(m.get("bar_seconds", 60)),
        synthetic_when_missing=bool(synthetic),
        synthetic_trades_per_day=int(m.get("synthetic_trades_per_day", 200_000)),
        seed=int(m.get("seed", 7)),
        download_missing=bool(download),
        tardis_key_set=bool(env.get("TARDIS_API_KEY")),
        inflate=_inflate_limits(m, where),
    )
    if market.bar_seconds <= 0 or 86_400 % market.bar_seconds:
        raise ConfigError(f"{where}: bar_seconds={market.bar_seconds} must divide a day evenly")

    signals = {k: v for k, v in llm.items() if k in SIGNAL_FIELDS}
    try:
        SignalSettings(**signals)  # a bad design or cadence fails here, naming the file
    except ValueError as exc:
        raise ConfigError(f"{where}: [llm] {exc}") from None
    llm_settings = LLMSettings(
        provider=env.get("TARDIS_LLM_PROVIDER") or llm.get("provider") or None,
        base_url=env.get("TARDIS_LLM_BASE_URL") or llm.get("base_url") or None,
        routing_path=str(_path(base, llm["routing"])) if llm.get("routing") else None,
        signals=signals,
        batch=bool(llm.get("batch", False)),
        allow_in_sample=bool(llm.get("allow_in_sample", False)),
        budget_run_usd=llm.get("budget_run_usd"),
        budget_day_usd=llm.get("budget_day_usd"),
        min_ok_share=float(llm.get("min_ok_share", 0.95)),
        max_concurrency=int(llm.get("max_concurrency", 64)),
    )
    quality = conf.get("quality", {})
    QualityRules.load(quality, where)  # a typo in a rule fails here, naming the file
    schedules = bool(conf.get("schedules", {}).get("enabled", False))
    if env.get("TARDIS_SCHEDULES"):
        schedules = _flag("TARDIS_SCHEDULES", env["TARDIS_SCHEDULES"])
    return Settings(
        data=data,
        market=market,
        llm=llm_settings,
        executor=_executor(conf.get("executor", {}), env, where),
        quality=quality,
        schedules_on=schedules,
        source=str(file) if file else "defaults",
        keys_set=frozenset(k for k, v in env.items() if k.endswith("_API_KEY") and v),
    )
