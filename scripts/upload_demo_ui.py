"""The playground as a static site (playground/, plus the filter registry as filters.json and the
deployed page's config.json), under `playground/` in the demo UI bucket, where CloudFront
serves it: https://<distribution>/playground/index.html, pointed at the same distribution.

    python scripts/upload_demo_ui.py BUCKET       upload it (boto3: credentials and endpoint
                                                  from the environment, as usual)
    python scripts/upload_demo_ui.py --out DIR    write it into DIR (for the deploy plugin,
                                                  scripts/playground-deploy.js, or any sync)

    --sih-compat VALUE (before BUCKET or --out): the deployed function's SIH_COMPAT (true,
    false, yes, no...), which config.json passes on to the page as `sih`; false without it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the package of this checkout, installed or not

from thumbor_urls.config import SettingError, boolean  # noqa: E402
from thumbor_urls.filters.catalog import describe  # noqa: E402
from thumbor_urls.playground import CONTENT_TYPES, PAGE_FOLDER  # noqa: E402

PREFIX = "playground/"
JSON_TYPE = "application/json"
# What the deployed page is told: no listing (it takes a typed key), no signing (it never sees
# the key, and says how to sign).
DEPLOYED_CONFIG = {
    "mode": "deployed",
    "listing": False,
    "signing": {
        "offered": False,
        "why": "the deployed page never sees the signing key: sign URLs with libthumbor or "
        "`thumbor-urls sign`",
    },
}


def deployed_config(sih: bool) -> dict[str, object]:
    """DEPLOYED_CONFIG, and whether the stack answers SIH's requests (its SIH_COMPAT): the
    page's SIH mode is off, and says why, where they would be read by Thumbor's rules."""
    return {**DEPLOYED_CONFIG, "sih": sih}


class SiteFile(NamedTuple):
    key: str
    body: bytes
    content_type: str


def site_files(sih: bool = False) -> Iterator[SiteFile]:
    """Every file of the deployed page, by its key in the bucket; `sih`: the stack's
    SIH_COMPAT."""
    for path in sorted(PAGE_FOLDER.iterdir()):
        if path.suffix in CONTENT_TYPES and not path.name.startswith("."):
            yield SiteFile(PREFIX + path.name, path.read_bytes(), CONTENT_TYPES[path.suffix])
    yield SiteFile(PREFIX + "filters.json", json.dumps(describe()).encode(), JSON_TYPE)
    yield SiteFile(PREFIX + "config.json", json.dumps(deployed_config(sih)).encode(), JSON_TYPE)


def write(folder: Path, sih: bool = False) -> list[str]:
    keys = []
    for file in site_files(sih):
        target = folder / file.key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.body)
        keys.append(file.key)
    # What the plugin sets as each object's Content-Type.
    types = {file.key: file.content_type for file in site_files(sih)}
    (folder / "content-types.json").write_text(json.dumps(types, indent=1))
    return keys


def upload(bucket: str, sih: bool = False) -> list[str]:
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415 - only for uploads

    s3 = boto3.client("s3")
    keys = []
    for file in site_files(sih):
        s3.put_object(
            Bucket=bucket,
            Key=file.key,
            Body=file.body,
            ContentType=file.content_type,
            # Short: a deploy shows within minutes, with no invalidation.
            CacheControl="public, max-age=300",
        )
        keys.append(file.key)
    return keys


def main(argv: list[str]) -> int:
    args = argv[1:]
    sih = False
    if args[:1] == ["--sih-compat"]:
        try:
            sih = boolean("--sih-compat", args[1] if len(args) > 1 else "?")
        except SettingError as error:
            print(error, file=sys.stderr)
            return 2
        args = args[2:]
    if len(args) == 2 and args[0] == "--out":
        for key in write(Path(args[1]), sih):
            print(Path(args[1]) / key)
        return 0
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    for key in upload(args[0], sih):
        print(f"s3://{args[0]}/{key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
