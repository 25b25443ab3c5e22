"""Upload the demo page (demo-ui/) to the demo UI bucket, under `demo-ui/`, where CloudFront
serves it (https://<distribution>/demo-ui/index.html, the stack's DemoUiUrl output).

    python scripts/upload_demo_ui.py BUCKET      (or: make demo-ui STAGE=dev REGION=us-east-1)

boto3 takes credentials and the endpoint (AWS_ENDPOINT_URL) from the environment as usual.
"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3  # type: ignore[import-untyped]

FOLDER = Path(__file__).resolve().parent.parent / "demo-ui"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def upload(bucket: str) -> list[str]:
    s3 = boto3.client("s3")
    keys = []
    for path in sorted(FOLDER.iterdir()):
        if path.suffix not in TYPES:
            continue
        key = f"demo-ui/{path.name}"
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=TYPES[path.suffix],
            CacheControl="public, max-age=300",
        )
        keys.append(key)
    return keys


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for key in upload(argv[1]):
        print(f"s3://{argv[1]}/{key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
