"""Turn the template `sls package` compiled into one for the CloudFormation console.

    python scripts/export_template.py .serverless   (or: make template)

writes `.serverless/serverless-image-handler-template.yaml`: the same stack, except that the
function's code comes from a bucket and key given as parameters (upload `thumbor-urls.zip` there
first) instead of the framework's deployment bucket, which the console does not create.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

NAME = "serverless-image-handler-template.yaml"


def export(template: dict[str, Any]) -> dict[str, Any]:
    resources = template["Resources"]
    for name in ("ServerlessDeploymentBucket", "ServerlessDeploymentBucketPolicy"):
        resources.pop(name, None)
    outputs = template.get("Outputs", {})
    for name in [n for n in outputs if n.startswith("ServerlessDeploymentBucket")]:
        del outputs[name]
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    for function in functions:
        function["Properties"]["Code"] = {
            "S3Bucket": {"Ref": "CodeBucket"},
            "S3Key": {"Ref": "CodeKey"},
        }
    template.setdefault("Parameters", {}).update(
        {
            "CodeBucket": {
                "Type": "String",
                "Description": "Bucket (in this region) holding the function's zip",
            },
            "CodeKey": {
                "Type": "String",
                "Default": "thumbor-urls.zip",
                "Description": "Key of the zip that `make package` makes",
            },
        }
    )
    template["Description"] = (
        "thumbor-urls: Thumbor-compatible image processing on Lambda, API Gateway and CloudFront"
    )
    return template


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else ".serverless")
    compiled = folder / "cloudformation-template-update-stack.json"
    template = export(json.loads(compiled.read_text()))
    target = folder / NAME
    target.write_text(yaml.safe_dump(template, sort_keys=False, width=100))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
