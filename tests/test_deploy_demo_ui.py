"""The playground deployed with the stack: the static site scripts/upload_demo_ui.py makes (the
page, filters.json, the deployed config.json), its upload to the demo UI bucket (moto), and the
plugin that uploads it after `sls deploy` (scripts/playground-deploy.js, in node)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.aws_fixtures import MotoAws
from thumbor_urls.filters.catalog import describe

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "upload_demo_ui.py"
PLUGIN = ROOT / "scripts" / "playground-deploy.js"
PAGE = sorted(
    p.name for p in (ROOT / "playground").iterdir() if p.suffix in {".html", ".js", ".css"}
)
KEYS = sorted(
    [*(f"playground/{name}" for name in PAGE), "playground/filters.json", "playground/config.json"]
)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60,
        env=env, check=False,
    )  # fmt: skip


def test_the_static_site(tmp_path: Path) -> None:
    done = run("--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    types = json.loads((tmp_path / "content-types.json").read_text())
    assert sorted(types) == KEYS
    assert types["playground/index.html"] == "text/html; charset=utf-8"
    assert types["playground/main.js"] == "text/javascript; charset=utf-8"
    assert (tmp_path / "playground" / "index.html").read_bytes() == (
        ROOT / "playground" / "index.html"
    ).read_bytes()
    assert json.loads((tmp_path / "playground" / "filters.json").read_text()) == json.loads(
        json.dumps(describe())
    )
    config = json.loads((tmp_path / "playground" / "config.json").read_text())
    assert (config["mode"], config["listing"], config["signing"]["offered"]) == (
        "deployed",
        False,
        False,
    )
    assert config["sih"] is False  # no --sih-compat: the stack's default
    # The page names its scripts relative to itself: it works under any prefix.
    page = (ROOT / "playground" / "index.html").read_text()
    assert '<script type="module" src="main.js"></script>' in page


@pytest.mark.parametrize(("value", "sih"), [("true", True), ("yes", True), ("No", False)])
def test_the_site_says_whether_the_stack_answers_sih(tmp_path: Path, value: str, sih: bool) -> None:
    done = run("--sih-compat", value, "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "playground" / "config.json").read_text())
    assert config["sih"] is sih


def test_usage() -> None:
    assert run().returncode == 2
    assert run("--out").returncode == 2
    assert run("--sih-compat").returncode == 2
    bad = run("--sih-compat", "maybe", "--out", "x")
    assert bad.returncode == 2
    assert "must be true or false" in bad.stderr


def test_upload_to_the_demo_ui_bucket(moto_aws: MotoAws) -> None:
    bucket = moto_aws.bucket("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(moto_aws.env())
    done = run(bucket, env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == [f"s3://{bucket}/{key}" for key in KEYS]
    s3 = moto_aws.client("s3")
    head = s3.head_object(Bucket=bucket, Key="playground/index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert head["CacheControl"] == "public, max-age=300"
    page = s3.get_object(Bucket=bucket, Key="playground/index.html")["Body"].read()
    assert page == (ROOT / "playground" / "index.html").read_bytes()


# -- the plugin ------------------------------------------------------------------------------

HARNESS = """
const Plugin = require(process.env.PLUGIN);
const test = JSON.parse(process.env.CASE);
const calls = [], infos = [], functions = [];
let config = null;
// With an endpoint (moto), the plugin's own AWS SDK v3 clients, configured as the provider
// configures them; without, AWS's answers made up here.
const provider = {
  naming: { getStackName: () => test.stack },
  getAwsSdkV3Config: async () => ({
    region: 'us-east-1', endpoint: test.endpoint, forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  }),
};
async function fake(service, command, params) {
  if (command === 'DescribeStacks') return { Stacks: [{ Outputs: test.outputs }] };
  if (command === 'GetFunctionConfiguration') {
    functions.push(params.FunctionName);
    return { FunctionName: params.FunctionName, Environment: { Variables: test.variables } };
  }
  calls.push({ service, command, Bucket: params.Bucket, Key: params.Key,
               ContentType: params.ContentType, CacheControl: params.CacheControl,
               bytes: params.Body.length });
  if (params.Key.endsWith('config.json')) config = JSON.parse(params.Body.toString());
  return {};
}
const service = { getFunction: (name) => ({ name: `${test.stack}-${name}` }) };
const serverless = {
  serviceDir: test.serviceDir, classes: { Error }, service, getProvider: () => provider,
};
const plugin = new Plugin(serverless, {}, { log: { info: (m) => infos.push(m) } });
if (!test.endpoint) plugin.aws = fake;
const report = (error) => process.stdout.write(
  JSON.stringify({ calls, infos, functions, config, error }));
plugin.hooks['after:deploy:deploy']().then(() => report(null), (e) => report(e.message));
"""
NODE = shutil.which("node")


def run_plugin(
    service: Path,
    outputs: list[dict[str, str]],
    python: str,
    variables: dict[str, str] | None = None,
    endpoint: str | None = None,
    stack: str = "thumbor-urls-dev",
) -> dict[str, Any]:
    """The plugin after a deploy whose stack has `outputs` and whose image function has the
    environment `variables`; or, with `endpoint`, after a deploy of `stack` there (moto)."""
    case = {
        "serviceDir": str(service),
        "outputs": outputs,
        "variables": variables or {},
        "endpoint": endpoint,
        "stack": stack,
    }
    env = {
        **os.environ,
        "PLUGIN": str(PLUGIN),
        "CASE": json.dumps(case),
        "PYTHON_FOR_PLAYGROUND": python,
    }
    done = subprocess.run(
        [str(NODE), "-e", HARNESS], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


needs_node = pytest.mark.skipif(NODE is None, reason="needs node (the plugin is JavaScript)")


@needs_node
def test_the_plugin_uploads_the_site_after_deploy(tmp_path: Path) -> None:
    outputs = [{"OutputKey": "DemoUiBucket", "OutputValue": "the-demo-bucket"}]
    result = run_plugin(tmp_path, outputs, sys.executable)
    assert result["error"] is None
    assert sorted(call["Key"] for call in result["calls"]) == KEYS
    assert {(c["service"], c["command"], c["Bucket"]) for c in result["calls"]} == {
        ("S3", "PutObject", "the-demo-bucket")
    }
    index = next(c for c in result["calls"] if c["Key"] == "playground/index.html")
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["bytes"] == (ROOT / "playground" / "index.html").stat().st_size
    assert result["infos"] == [
        f"the playground: {len(KEYS)} files in s3://the-demo-bucket/playground/"
    ]
    # A stack without SIH_COMPAT: the page's SIH mode is off.
    assert result["functions"] == ["thumbor-urls-dev-image"]
    assert result["config"]["sih"] is False


@needs_node
@pytest.mark.parametrize(("value", "sih"), [("true", True), ("Yes", True), ("false", False)])
def test_the_plugin_tells_the_page_whether_the_function_answers_sih(
    tmp_path: Path, value: str, sih: bool
) -> None:
    outputs = [{"OutputKey": "DemoUiBucket", "OutputValue": "b"}]
    variables = {"SIH_COMPAT": value, "ENABLE_SIGNATURE": "No"}
    result = run_plugin(tmp_path, outputs, sys.executable, variables)
    assert result["error"] is None
    assert result["config"]["sih"] is sih


@needs_node
def test_the_plugin_does_nothing_without_a_demo_ui_bucket(tmp_path: Path) -> None:
    result = run_plugin(
        tmp_path, [{"OutputKey": "ApiEndpoint", "OutputValue": "x"}], sys.executable
    )
    assert (result["error"], result["calls"]) == (None, [])


@needs_node
def test_the_plugin_fails_the_deploy_when_the_site_cannot_be_built(tmp_path: Path) -> None:
    outputs = [{"OutputKey": "DemoUiBucket", "OutputValue": "b"}]
    result = run_plugin(tmp_path, outputs, str(tmp_path / "no-python"))
    assert result["error"].startswith("the playground could not be built")
    assert result["calls"] == []


@needs_node
def test_the_plugin_against_aws(moto_aws: MotoAws, tmp_path: Path) -> None:
    """Through the plugin's own SDK v3 clients (moto): the stack's output, the function's
    SIH_COMPAT, the uploads."""
    stack = f"thumbor-urls-{uuid.uuid4().hex[:8]}"
    template = {
        "Resources": {"DemoUi": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"DemoUiBucket": {"Value": {"Ref": "DemoUi"}}},
    }
    cloudformation = moto_aws.client("cloudformation")
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    bucket = outputs[0]["OutputValue"]
    role = moto_aws.client("iam").create_role(
        RoleName=stack,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context): pass\n")
    moto_aws.client("lambda").create_function(
        FunctionName=f"{stack}-image",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": {"SIH_COMPAT": "true"}},
    )
    result = run_plugin(tmp_path, [], sys.executable, endpoint=moto_aws.endpoint, stack=stack)
    assert result["error"] is None
    s3 = moto_aws.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="playground/")["Contents"]
    assert sorted(o["Key"] for o in listed) == KEYS
    config = json.loads(s3.get_object(Bucket=bucket, Key="playground/config.json")["Body"].read())
    assert config["sih"] is True
    head = s3.head_object(Bucket=bucket, Key="playground/main.js")
    assert head["ContentType"] == "text/javascript; charset=utf-8"
