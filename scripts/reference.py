"""The generated tables of docs/reference.md: filters (from the registry), settings (from their
descriptions in config.py) and errors (from the error classes). Each table sits between two
markers in the file; `python scripts/reference.py` writes them again, and tests/test_docs.py
fails when the file is not what this would write.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path

import thumbor_urls
from thumbor_urls.config import described, shown_default
from thumbor_urls.errors import ImageServiceError
from thumbor_urls.filters import REGISTRY, Phase

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def filters_table() -> str:
    rows = ["| filter | what it does | when |", "|---|---|---|"]
    for name in sorted(REGISTRY.specs):
        spec = REGISTRY.specs[name]
        when = "before loading" if spec.phase is Phase.PRE_LOAD else "on every frame"
        rows.append(f"| `{_cell(spec.signature())}` | {_cell(spec.doc)} | {when} |")
    return "\n".join(rows)


def settings_table() -> str:
    rows = ["| setting | default | meaning | in the result's cache key |", "|---|---|---|---|"]
    for name, setting in described().items():
        keyed = "yes" if setting.output else ""
        rows.append(f"| `{name}` | {_cell(shown_default(name))} | {_cell(setting.doc)} | {keyed} |")
    return "\n".join(rows)


def _errors() -> list[type[ImageServiceError]]:
    # Every module of the package, so that every error class exists (the AWS ones need boto3,
    # which the tests have).
    for module in pkgutil.walk_packages(thumbor_urls.__path__, "thumbor_urls."):
        if not module.name.endswith(
            ("__main__", "detectors.opencv", "detectors.features", "detectors.corners")
        ):
            importlib.import_module(module.name)
    found: list[type[ImageServiceError]] = []
    waiting = [ImageServiceError]
    while waiting:
        error = waiting.pop()
        found.append(error)
        waiting.extend(error.__subclasses__())
    return sorted(found, key=lambda error: (error.status, error.code))


def errors_table() -> str:
    rows = ["| status | code | when |", "|---|---|---|"]
    seen = set()
    for error in _errors():
        if error.code in seen:  # a subclass that only specialises its parent's meaning
            continue
        seen.add(error.code)
        rows.append(f"| {error.status} | `{error.code}` | {_cell(error.__doc__ or '')} |")
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "filters": filters_table,
    "settings": settings_table,
    "errors": errors_table,
}


def rewritten(text: str) -> str:
    """`text` with every generated table as this code writes it."""
    for name, table in TABLES.items():
        start = f"<!-- generated: {name} (python scripts/reference.py) -->\n"
        end = f"<!-- end of generated: {name} -->"
        before, found, rest = text.partition(start)
        if not found:
            raise ValueError(f"docs/reference.md has no {name!r} table marker")
        _, found, after = rest.partition(end)
        if not found:
            raise ValueError(f"docs/reference.md has no end to its {name!r} table")
        text = f"{before}{start}{table()}\n{end}{after}"
    return text


def main() -> int:
    REFERENCE.write_text(rewritten(REFERENCE.read_text()))
    print(f"wrote {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
