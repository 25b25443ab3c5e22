"""The deployed stack's outputs, and emptying the buckets it deletes, for `make demo-ui` and
`make remove`. boto3 takes credentials, the region and the endpoint from the environment as usual.

    python scripts/stack.py output STACK KEY     print the output KEY (e.g. DemoUiBucket)
    python scripts/stack.py empty STACK          empty the result and demo UI buckets

`sls remove` cannot delete a bucket that holds objects: `empty` deletes every object (and every
version, should versioning have been turned on) of the buckets the stack deletes with itself.
The buckets it keeps (access logs, a created source bucket) are left alone.
"""

from __future__ import annotations

import sys

import boto3  # type: ignore[import-untyped]

EMPTIED = ("ResultBucket", "DemoUiBucket")  # the stack's outputs naming the buckets it deletes


def outputs(stack: str) -> dict[str, str]:
    (described,) = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def empty(bucket: str) -> int:
    s3 = boto3.client("s3")
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objects = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(objects), 1000):
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": objects[start : start + 1000], "Quiet": True}
            )
        deleted += len(objects)
    return deleted


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "output":
        print(outputs(argv[2])[argv[3]])
        return 0
    if len(argv) == 3 and argv[1] == "empty":
        found = outputs(argv[2])
        for key in EMPTIED:
            if key in found:
                print(f"s3://{found[key]}: {empty(found[key])} objects deleted")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
