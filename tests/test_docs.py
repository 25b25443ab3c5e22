"""What the README tells a newcomer holds: its signed examples verify with the key it names,
and the URLs docs/signing.md lists answer what it says."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from tests.images import SAMPLES
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request
from thumbor_urls.signing import verify

ROOT = Path(__file__).resolve().parent.parent
# Thumbor's and imagor's signatures: 28, 44 or 88 characters of padded urlsafe base64. The path
# runs to a blank, a backtick, a table's bar, a comma or a parenthesis that closes none it opened
# (a Markdown link's); a filter's parentheses are kept whole.
SIGNED = re.compile(
    r"/([A-Za-z0-9_-]{27}=|[A-Za-z0-9_-]{43}=|[A-Za-z0-9_-]{86}==)/"
    r"((?:[^\s`|,()']|\([^\s`|()']*\))+)"
)


def test_every_signed_example_verifies_with_its_key() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    examples = [
        (document.name, match.group(1), match.group(2))
        for document in documents
        if document.exists()
        for line in document.read_text().splitlines()
        if "SignatureDoesNotMatch" not in line  # an example of a wrong one, said so
        for match in SIGNED.finditer(line)
    ]
    assert len(examples) >= 8
    for name, signature, path in examples:
        # MY_KEY, or the new key of signing.md's rotation example.
        assert verify(("MY_KEY", "NEW_KEY"), signature, path), f"{name}: /{signature}/{path}"


def test_the_reference_tables_are_what_the_code_says() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import reference
    finally:
        sys.path.pop(0)
    text = reference.REFERENCE.read_text()
    assert text == reference.rewritten(text), (
        "docs/reference.md is stale: python scripts/reference.py"
    )


def _signing_examples() -> list[tuple[str, int, str]]:
    """The rows of docs/signing.md's table: URL, the status its answer starts with, the code."""
    rows = re.findall(
        r"^\| (http://127\.0\.0\.1:8888/\S+) \| (\d{3})(?:[^`|]*`(\w+)`)?",
        (ROOT / "docs" / "signing.md").read_text(),
        re.MULTILINE,
    )
    return [(url, int(status), code) for url, status, code in rows]


@pytest.mark.parametrize(("url", "status", "code"), _signing_examples())
def test_the_signing_examples_answer_what_the_doc_says(
    url: str, status: int, code: str, tmp_path: Path
) -> None:
    """As after `SECURITY_KEY=MY_KEY make serve`: the samples, the key, every other default."""
    settings = Settings(
        FILE_LOADER_ROOT_PATH=SAMPLES,
        RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path,
        SECURITY_KEY="MY_KEY",
    )
    parts = urlsplit(url)
    request = Request("GET", unquote(parts.path), {}, dict(parse_qsl(parts.query)), parts.path)
    response = App(settings).handle(request)
    assert response.status == status, response.body[:300]
    if code:
        assert json.loads(response.body)["code"] == code


def test_the_signing_doc_has_its_examples() -> None:
    assert len(_signing_examples()) >= 8
