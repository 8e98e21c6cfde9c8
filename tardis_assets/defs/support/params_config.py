"""Dagster config classes derived from the library's parameter dataclasses.

A strategy's parameters, their types and their defaults are defined once, in ``lib/backtest``;
the launchpad config of an asset is generated from that dataclass instead of restating its
fields, so a new parameter or a changed default reaches the UI without a second edit.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

import dagster as dg
import pydantic

P = TypeVar("P")


def params_fields(params_cls: type, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """pydantic field definitions (type, default) of a parameters dataclass."""
    hints = typing.get_type_hints(params_cls)
    return {
        f.name: (hints[f.name], f.default)
        for f in dataclasses.fields(params_cls)
        if f.name not in exclude
    }


def params_config(
    name: str,
    params_cls: type[P],
    doc: str,
    base: type[dg.Config] = dg.Config,
    exclude: tuple[str, ...] = (),
) -> type[dg.Config]:
    """A ``dg.Config`` subclass with the dataclass's fields and defaults (minus ``exclude``,
    which come from elsewhere), plus ``params(**given)`` returning the validated dataclass."""

    def params(self: dg.Config, **given: Any) -> P:
        names = {f.name for f in dataclasses.fields(params_cls)}  # type: ignore[arg-type]
        own = {k: v for k, v in self.model_dump().items() if k in names}
        return params_cls(**{**own, **given})

    model = pydantic.create_model(  # type: ignore[call-overload]
        name,
        __base__=base,
        __doc__=doc,
        __module__=base.__module__,
        **params_fields(params_cls, exclude),
    )
    model.params = params
    return model
