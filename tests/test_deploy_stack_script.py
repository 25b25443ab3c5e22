"""scripts/stack.py against moto: the stack's outputs, and `empty` (what `make remove` runs before
`sls remove`, which cannot delete a bucket holding objects) on the buckets the stack deletes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.aws_fixtures import MotoAws

ROOT = Path(__file__).resolve().parent.parent


def run(moto_aws: MotoAws, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(moto_aws.env())
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "stack.py"), *args],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip


def test_empty_the_buckets_the_stack_deletes(moto_aws: MotoAws) -> None:
    results, demo, kept = (
        moto_aws.bucket("results"),
        moto_aws.bucket("demo"),
        moto_aws.bucket("logs"),
    )
    s3 = moto_aws.client("s3")
    for bucket in (results, demo, kept):
        for index in range(3):
            s3.put_object(Bucket=bucket, Key=f"oversize/{index}", Body=b"x")
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "ResultBucket": {"Value": results},
            "DemoUiBucket": {"Value": demo},
            "LogBucket": {"Value": kept},
        },
    }
    moto_aws.client("cloudformation").create_stack(
        StackName="thumbor-urls-test", TemplateBody=json.dumps(template)
    )
    done = run(moto_aws, "output", "thumbor-urls-test", "DemoUiBucket")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == demo
    done = run(moto_aws, "empty", "thumbor-urls-test")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"s3://{results}: 3 objects deleted",
        f"s3://{demo}: 3 objects deleted",
    ]
    for bucket, left in ((results, 0), (demo, 0), (kept, 3)):
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == left


def test_usage(moto_aws: MotoAws) -> None:
    done = run(moto_aws, "nothing")
    assert done.returncode == 2
    assert "make remove" in done.stderr
