"""The demo page: its URL builder (run in node) and its upload to the demo UI bucket (moto)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.aws_fixtures import MotoAws

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"key": "a.jpg", "width": "300", "height": "200"}, "/unsafe/300x200/a.jpg"),
        (
            {"key": "/a b/c.png", "width": "300", "height": "", "fitIn": True, "smart": True,
             "filters": "filters:grayscale():quality(70)"},
            "/unsafe/fit-in/300x0/smart/filters:grayscale():quality(70)/a%20b/c.png",
        ),
        ({"key": "x.gif", "width": "-5", "height": "0"}, "/unsafe/x.gif"),
    ],
)  # fmt: skip
def test_url_builder(options: dict[str, object], path: str) -> None:
    script = (
        f"const {{buildPath}} = require({json.dumps(str(ROOT / 'demo-ui' / 'app.js'))});"
        f"process.stdout.write(buildPath({json.dumps(options)}));"
    )
    command = ["node", "-e", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == path


def test_page_loads_its_script() -> None:
    page = (ROOT / "demo-ui" / "index.html").read_text()
    assert '<script src="app.js"></script>' in page
    assert 'id="form"' in page


def test_upload_to_the_demo_ui_bucket(moto_aws: MotoAws) -> None:
    bucket = moto_aws.bucket("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(moto_aws.env())
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "upload_demo_ui.py"), bucket],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        f"s3://{bucket}/demo-ui/app.js",
        f"s3://{bucket}/demo-ui/index.html",
    ]
    s3 = moto_aws.client("s3")
    head = s3.head_object(Bucket=bucket, Key="demo-ui/index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"
    page = s3.get_object(Bucket=bucket, Key="demo-ui/index.html")["Body"].read()
    assert page == (ROOT / "demo-ui" / "index.html").read_bytes()
