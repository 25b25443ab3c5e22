"""Named presets: `preset:NAME/IMAGE` stands for the options the operator named NAME (PRESETS),
and with ONLY_PRESETS nothing else is served.

The URL as written is what is signed, as for any Thumbor path (`preset:thumb/a.jpg` after
`unsafe/` or the signature). What is processed, and what the result store keys on, is the
canonical path of the preset's options with the image (grammar.generate), so a preset and the
same options written out share one result, and a redefined preset never serves its old results.
Nothing may follow the preset but the image: whatever follows `preset:NAME/` is the image's key,
even when it looks like options, so that a public URL cannot ask for more than the preset.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from . import grammar
from .allowlists import Allowlists
from .config import SettingError, Settings
from .errors import ImageServiceError, InvalidUrl
from .grammar import Params
from .url import build_plan

PREFIX = "preset:"
_NAME = re.compile(r"[A-Za-z0-9_-]+")
# The preset's options are read with this image after them; they must leave it whole.
_PLACEHOLDER = "preset-image.jpg"


class UnknownPreset(ImageServiceError):
    """`preset:NAME/` names no preset of `PRESETS`."""

    status, code = 400, "UnknownPreset"


class PresetRequired(ImageServiceError):
    """With `ONLY_PRESETS=true`, an image URL (signed or not) that is not `preset:NAME/IMAGE`."""

    status, code = 403, "PresetRequired"


class Presets:
    """The PRESETS of a server, read and checked once: a preset whose options are not valid
    options (a typo, an unknown filter, an image in them) or that the server's allow-lists would
    refuse stops the server from starting, rather than failing its first request."""

    def __init__(
        self,
        definitions: Iterable[tuple[str, str]],
        only: bool,
        max_filters: int,
        allowed: Allowlists | None = None,
    ) -> None:
        self.only = only
        self.params: dict[str, Params] = {}
        for name, options in definitions:
            if not _NAME.fullmatch(name):
                raise SettingError(f"PRESETS: {name!r} is not a name (letters, digits, _ and -)")
            self.params[name] = _read(name, options, max_filters, allowed)
        if only and not self.params:
            raise SettingError("ONLY_PRESETS is true but PRESETS defines none")

    @classmethod
    def from_settings(cls, settings: Settings) -> Presets | None:
        """None when the server has no presets: then `preset:` is an ordinary image path."""
        if not settings.PRESETS and not settings.ONLY_PRESETS:
            return None
        allowed = Allowlists.from_settings(settings)
        return cls(settings.PRESETS, settings.ONLY_PRESETS, settings.MAX_FILTERS, allowed)

    def expand(self, rest: str) -> Params | None:
        """The Params `rest` (the path after `unsafe/` or the signature) asks for when it is
        `preset:NAME/IMAGE`, else None (PresetRequired with ONLY_PRESETS)."""
        if not rest.startswith(PREFIX):
            if self.only:
                raise PresetRequired(
                    "this server serves presets only: /unsafe/preset:NAME/IMAGE (or signed); "
                    f"its presets are {', '.join(sorted(self.params))}"
                )
            return None
        name, _, image = rest[len(PREFIX) :].partition("/")
        params = self.params.get(name)
        if params is None:
            raise UnknownPreset(f"no preset is named {name!r} here")
        if not image:
            raise InvalidUrl(f"preset:{name}/ names no image")
        return params._replace(image=image)


def _read(name: str, options: str, max_filters: int, allowed: Allowlists | None) -> Params:
    text = options.strip().strip("/")
    path = f"{text}/{_PLACEHOLDER}" if text else _PLACEHOLDER
    try:
        params = grammar.parse(path, max_filters)
        if params.image != _PLACEHOLDER:
            raise InvalidUrl(f"{params.image.removesuffix(_PLACEHOLDER)!r} is not an option")
        plan = build_plan(params, path, strict=True)  # every filter binds
        if allowed is not None:
            allowed.check(plan)
    except ImageServiceError as error:
        raise SettingError(f"PRESETS: {name}: {options!r}: {error.message}") from None
    return params
