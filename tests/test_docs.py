"""What the README tells a newcomer holds: its signed examples verify with the key it names."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from thumbor_urls.signing import verify_thumbor

ROOT = Path(__file__).resolve().parent.parent
SIGNED = re.compile(r"/([A-Za-z0-9_=-]{27}=)/([^\s`|,)]+)")


def test_every_signed_example_verifies_with_my_key() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    examples = [
        (document.name, match.group(1), match.group(2))
        for document in documents
        if document.exists()
        for match in SIGNED.finditer(document.read_text())
    ]
    assert len(examples) >= 2
    for name, signature, path in examples:
        assert verify_thumbor("MY_KEY", signature, path), f"{name}: /{signature}/{path}"


def test_the_reference_tables_are_what_the_code_says() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import reference  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    text = reference.REFERENCE.read_text()
    assert text == reference.rewritten(text), (
        "docs/reference.md is stale: python scripts/reference.py"
    )
