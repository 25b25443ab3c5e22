"""A Thumbor path made into a Plan: the grammar (grammar.py) reads it into Params, then each
filter is bound through the registry; pre-load filters change the Plan there and then, the
others go to the pipeline in URL order. Pure: no I/O, no settings beyond its arguments."""

from __future__ import annotations

import logging

from .errors import ImageServiceError
from .filters import REGISTRY
from .filters.registry import BoundFilter, IgnoredFilter, Phase, Registry
from .geometry import GeometryRequest
from .grammar import Params, parse
from .plan import Plan, Trim

log = logging.getLogger(__name__)


def parse_path(
    path: str,
    strict: bool = False,
    registry: Registry = REGISTRY,
    max_filters: int | None = None,
) -> Plan:
    """Parse the part of a Thumbor URL after `unsafe/` or the signature, already
    percent-decoded (once, by the adapter that received it). Linear in the length of `path`;
    TooManyFilters past `max_filters` (MAX_FILTERS)."""
    return build_plan(parse(path, max_filters), path, strict, registry)


def build_plan(
    params: Params, path: str, strict: bool = False, registry: Registry = REGISTRY
) -> Plan:
    """The Plan `params` asks for; `path` is the text they were read from, which the
    signature covers and the result store keys on. Filters that do not bind are skipped and
    listed (Thumbor skips them without a word), or raised with `strict`."""
    geometry = GeometryRequest(
        width=params.width or 0,
        height=params.height or 0,
        crop=params.crop,
        fit_in=params.fit_in,
        full=params.full,
        adaptive=params.adaptive,
        halign=params.halign,
        valign=params.valign,
        horizontal_flip=params.horizontal_flip,
        vertical_flip=params.vertical_flip,
    )
    trim = Trim(params.trim_corner or "top-left", params.trim_tolerance) if params.trim else None
    plan = Plan(
        path=path.lstrip("/"),
        image=params.image,
        geometry=geometry,
        trim=trim,
        smart=params.smart,
        meta=params.meta,
        debug=params.debug,
    )
    post: list[BoundFilter] = []
    ignored: list[IgnoredFilter] = []
    for call in params.filters:
        try:
            bound = registry.bind(call.name, call.args)
        except ImageServiceError as error:
            if strict:
                raise
            # Thumbor skips a filter it cannot parse without a word; we log it and list it in meta/.
            log.info("ignoring filter %s: %s", call.text, error.message)
            ignored.append(IgnoredFilter(call.text, error.message))
            continue
        if bound.spec.phase is Phase.PRE_LOAD:
            plan = bound.spec.apply(plan, *bound.args)
        else:
            post.append(bound)
    return plan._replace(filters=tuple(post), ignored_filters=tuple(ignored))
