"""`npx sls package` for real (offline, no AWS account), then the compiled template inspected:
every resource, condition, output and IAM statement; cfn-lint and checkov on it; the zip's contents.
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from thumbor_urls.aws.calls import CALLS
from thumbor_urls.playground import CONTENT_SECURITY_POLICY
from thumbor_urls.sih import request as sih_request

ROOT = Path(__file__).resolve().parent.parent
NPX = shutil.which("npx")
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"

pytestmark = pytest.mark.skipif(
    NPX is None or not (ROOT / "node_modules" / ".bin" / "sls").exists(),
    reason="needs node_modules (make deploy-tools runs npm ci)",
)

FULL = {
    "enableSignature": "Yes",
    "createSourceBucket": "Yes",
    "sourceBuckets": "photos-a,photos-b",
    "autoWebp": "Yes",
    "deployDemoUi": "No",
    "enableDefaultFallbackImage": "Yes",
    "fallbackImageBucket": "photos-a",
    "fallbackImageKey": "fallback/default.png",
    "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0b1e5c2a-5f3e-4b8a-9c1d-2e3f4a5b6c7d",
    "architecture": "x86_64",
    "memorySize": "2048",
    "cloudFrontPriceClass": "PriceClass_100",
    "corsEnabled": "Yes",
    "resultTtlDays": "7",
    "logRetentionDays": "30",
    "detectors": "saliency,rekognition",
    "moderation": "Yes",
    "reservedConcurrency": "none",
    "apiThrottleRate": "20",
    "apiThrottleBurst": "40",
    "maxSourcePixels": "60000000",
    "wafRateLimit": "500",
    "domainName": "images.example.com,img.example.com",
    "certificateArn": (
        "arn:aws:acm:us-east-1:123456789012:certificate/5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
    ),
    "originShieldRegion": "us-east-1",
    "alarmEmail": "ops@example.com",
    "clientHints": "Yes",
    "sihCompat": "Yes",
    "httpOrigins": "Yes",
    "allowedSources": "images.example.com, cdn.example.com",
    "snapStart": "Yes",
}
# A stack moved from AWS's Serverless Image Handler: its parameter names, as its console shows
# them and as its template names them, its secret reused; in another stage and region.
SIH = {
    "SourceBucketsParameter": "old-photos, more-photos",
    "EnableSignature": "Yes",
    "SecretsManagerSecret": "sih-signing",
    "SecretsManagerKeyParameter": "signing-key",
    "CorsEnabledParameter": "Yes",
    "CorsOrigin": "https://www.example.com",
    "DeployDemoUIParameter": "No",
    "LogRetentionPeriod": "90",
    "AutoWebP": "Yes",
    "CloudFrontPriceClassParameter": "PriceClass_200",
    "EnableDefaultFallbackImage": "Yes",
    "FallbackImageS3BucketParameter": "old-photos",
    "FallbackImageS3Key": "fallback.jpg",
    "OriginShieldRegionParameter": "Disabled",
    "UseExistingCloudFrontDistributionParameter": "No",
    "autoAvif": "Yes",
    "monitoring": "No",
    "webAclArn": (
        "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shared/"
        "0b1e5c2a-5f3e-4b8a-9c1d-2e3f4a5b6c7d"
    ),
}
SIH_OPTIONS = ["--stage", "prod", "--region", "ap-east-1"]
NO_VALUE = object()
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}


# The bytecode that scripts/lambda-zip.js adds is for Lambda's Python 3.12.
MAGIC_312 = b"\xcb\x0d\r\n"
PYC_SUFFIX = ".cpython-312.pyc"


@cache
def python312() -> str | None:
    """The absolute path of a working python3.12, as the plugin looks for it (then through pyenv's
    shims with 3.12.1 next to 3.11.7, as on the build machine), or None."""
    named = os.environ.get("PYTHON_FOR_LAMBDA_BYTECODE") or "python3.12"
    for extra in ({}, {"PYENV_VERSION": "3.11.7:3.12.1"}):
        try:
            done = subprocess.run(
                [named, "-c", "import sys; print(sys.implementation.cache_tag, sys.executable)"],
                env={**os.environ, **extra}, capture_output=True, text=True, timeout=60,
                check=False,
            )  # fmt: skip
        except OSError:
            return None
        tag, _, executable = done.stdout.strip().partition(" ")
        if done.returncode == 0 and tag == "cpython-312":
            return executable
    return None


needs_python312 = pytest.mark.skipif(
    python312() is None,
    reason="no working python3.12 (PYTHON_FOR_LAMBDA_BYTECODE): the package has no bytecode",
)


def sls_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # No AWS account at all: packaging must not need one.
    env.update(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", AWS_EC2_METADATA_DISABLED="true")
    env["PYTHON_FOR_LAMBDA_WHEELS"] = sys.executable  # 3.11 or 3.12: pip fetches 3.12 wheels
    env["PYTHON_FOR_LAMBDA_BYTECODE"] = python312() or ""  # none: the plugin warns, no .pyc
    env["SLS_TELEMETRY_DISABLED"] = "1"
    return env


@dataclass
class Packaged:
    folder: Path
    params: dict[str, str]
    output: str = ""  # what `sls package` printed
    region: str = "us-east-1"

    @cached_property
    def template(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.folder / "cloudformation-template-update-stack.json").read_text()
        )
        return data

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    @property
    def pseudo(self) -> dict[str, str]:
        return {**PSEUDO, "AWS::Region": self.region}

    def condition(self, name: str) -> bool:
        return bool(self.evaluate(self.template["Conditions"][name]))

    def evaluate(self, node: Any) -> Any:
        """Fn::Equals/Or/Not/If/Split/Join/Sub and Ref of parameters and pseudo-parameters."""
        if isinstance(node, list):
            return [v for v in (self.evaluate(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Fn::", "Ref", "Condition")):
            evaluated = {k: self.evaluate(v) for k, v in node.items()}
            return {k: v for k, v in evaluated.items() if v is not NO_VALUE}
        ((function, args),) = node.items()
        if function == "Fn::Equals":
            left, right = self.evaluate(args)
            return left == right
        if function == "Fn::Or":
            return any(self.evaluate(args))
        if function == "Fn::And":
            return all(self.evaluate(args))
        if function == "Condition":
            return self.condition(args)
        if function == "Fn::Not":
            return not self.evaluate(args[0])
        if function == "Ref":
            if args == "AWS::NoValue":
                return NO_VALUE
            if args in self.pseudo:
                return self.pseudo[args]
            if args in self.template.get("Parameters", {}):
                return self.template["Parameters"][args]["Default"]
            return f"<Ref {args}>"
        if function == "Fn::If":
            name, yes, no = args
            return self.evaluate(yes if self.condition(name) else no)
        if function == "Fn::Select":
            return self.evaluate(args[1])[int(args[0])]
        if function == "Fn::Split":
            return self.evaluate(args[1]).split(args[0])
        if function == "Fn::Join":
            return args[0].join(self.evaluate(args[1]))
        if function == "Fn::Sub":
            text, variables = (args, {}) if isinstance(args, str) else args
            values = {**self.pseudo, **{k: self.evaluate(v) for k, v in variables.items()}}
            for key, value in values.items():
                text = text.replace("${" + key + "}", str(value))
            return text
        if function == "Fn::GetAtt":
            return f"<GetAtt {'.'.join(args)}>"
        return node

    def active(self) -> dict[str, Any]:
        """The resources that a deployment with these parameters creates."""
        return {
            name: resource
            for name, resource in self.resources.items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def outputs(self) -> set[str]:
        return {
            name
            for name, output in self.template["Outputs"].items()
            if "Condition" not in output or self.condition(output["Condition"])
        }

    def policies(self) -> dict[str, list[dict[str, Any]]]:
        role = self.resources["ImageFunctionRole"]["Properties"]
        policies = [self.evaluate(p) for p in role["Policies"]]
        return {
            p["PolicyName"]: p["PolicyDocument"]["Statement"]
            for p in policies
            if isinstance(p, dict) and "PolicyName" in p
        }

    @property
    def function(self) -> dict[str, Any]:
        props: dict[str, Any] = self.resources["ImageLambdaFunction"]["Properties"]
        return props


PROJECT_FILES = (
    "serverless.yml",
    "handler.py",
    "requirements-lambda.txt",
    "package.json",
    ".npmrc",
)


def copy_project(folder: Path) -> Path:
    """A copy of the project's deployment files (the working tree's own `.serverless/` is left
    alone), with node_modules linked in."""
    project = folder / "project"
    project.mkdir()
    for name in PROJECT_FILES:
        shutil.copy(ROOT / name, project / name)
    for name in ("resources", "events", "scripts"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        ROOT / "thumbor_urls",
        project / "thumbor_urls",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    return project


def package(folder: Path, params: dict[str, str], options: list[str] | None = None) -> Packaged:
    """`sls package` in a copy of the project."""
    project = copy_project(folder)
    command = [str(NPX), "sls", "package", *(options or [])]
    command += [f"--param={key}={value}" for key, value in params.items()]
    done = subprocess.run(
        command, cwd=project, env=sls_env(), capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    region = options[options.index("--region") + 1] if options and "--region" in options else ""
    return Packaged(
        project / ".serverless", params, done.stdout + done.stderr, region or "us-east-1"
    )


def sls_print(
    project: Path, params: dict[str, str], *options: str
) -> subprocess.CompletedProcess[str]:
    """`sls print` of the function's environment (no packaging: seconds), as JSON."""
    command = [str(NPX), "sls", "print", "--path", "provider.environment", "--format", "json"]
    command += [*options, *(f"--param={key}={value}" for key, value in params.items())]
    return subprocess.run(
        command, cwd=project, env=sls_env(), capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    return package(tmp_path_factory.mktemp("package-default"), {})


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    return package(tmp_path_factory.mktemp("package-full"), FULL)


@pytest.fixture(scope="module")
def sih(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    return package(tmp_path_factory.mktemp("package-sih"), SIH, SIH_OPTIONS)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("print"))


def elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF"
    return int.from_bytes(data[18:20], "little")


# -- the zip ---------------------------------------------------------------------------------


def test_zip_holds_the_function_pillow_urllib3_and_botocore_only(default: Packaged) -> None:
    archive = default.folder / "thumbor-urls.zip"
    size = archive.stat().st_size
    assert size < 10 * 1024 * 1024, size
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        tops = {name.split("/")[0] for name in names}
        assert {"handler.py", "thumbor_urls", "PIL"} <= tops
        assert "thumbor_urls/aws/lambda_handler.py" in names
        assert "thumbor_urls/app.py" in names
        for unwanted in (
            "waitress",
            "tests",
            "samples",
            "boto3",
            "s3transfer",
            "node_modules",
            "bench",
            "events",
            "resources",
            "moto",
            "pytest",
            ".venv",
        ):
            assert unwanted not in tops, unwanted
        # The local server's parts stay out; the HTTP loader's client is in (httpOrigins=Yes).
        for local_only in ("server.py", "playground.py", "listing.py", "cli.py"):
            assert f"thumbor_urls/{local_only}" not in names, local_only
        assert "urllib3/poolmanager.py" in names
        # No bytecode but the 3.12 pycs of the package's own .py files (none from the tree's
        # __pycache__, which holds the build machine's 3.11 ones).
        modules = {pyc_name(name) for name in names if name.endswith(".py")}
        assert {n for n in names if "__pycache__" in n or n.endswith(".pyc")} <= modules
        imaging = [name for name in names if name.startswith("PIL/_imaging.cpython-312-")]
        assert imaging == ["PIL/_imaging.cpython-312-aarch64-linux-gnu.so"]
        assert elf_machine(zipped.read(imaging[0])) == 0xB7  # AArch64


# The pure-Python requirements: what another interpreter than the runtime's can import from the zip.
PURE_PYTHON = ("botocore/", "jmespath/", "dateutil/", "urllib3/", "six.py")

CHILD = """
import io, sys
import botocore
from botocore.stub import ANY, Stubber
from PIL import Image
from thumbor_urls.aws import clients, s3, secrets
from thumbor_urls.aws.rekognition import RekognitionFaceDetector, RekognitionModeration
site, bucket, secret = sys.argv[1:]
assert botocore.__file__.startswith(site), botocore.__file__
source = s3.S3Source((bucket,))
assert source.load("photo.jpg").data[:3] == bytes.fromhex("ffd8ff")
assert source.last_modified("photo.jpg") > 0
store = s3.S3ResultStore(bucket)
store.put("result", b"bytes", "image/webp", vary_accept=True)
assert store.get("result").data == b"bytes"
assert secrets.read_secret(secret, "", 5.0, "test") == "key"
# Rekognition: no moto; the Stubber checks the calls against the trimmed model.
client = clients.client("rekognition", 5.0)
image = Image.new("RGB", (8, 8))
with Stubber(client) as stub:
    stub.add_response("detect_faces", {"FaceDetails": []}, {"Image": {"Bytes": ANY}})
    stub.add_response(
        "detect_moderation_labels", {"ModerationLabels": []},
        {"Image": {"Bytes": ANY}, "MinConfidence": 50.0},
    )
    assert RekognitionFaceDetector(client).detect(image) == []
    assert RekognitionModeration(client).labels(image, 50.0) == []
print("ok", botocore.__version__)
"""


def test_the_zips_botocore_has_our_calls_only_and_makes_them(
    default: Packaged, moto_aws: Any, tmp_path: Path
) -> None:
    """The zip's own botocore, cut down to CALLS (scripts/trim_botocore.py), run by this Python
    with the package's code: the reads and writes of S3 and Secrets Manager against moto, and
    Rekognition's calls checked against the trimmed model by botocore's Stubber."""
    site = tmp_path / "site"
    with zipfile.ZipFile(default.folder / "thumbor-urls.zip") as zipped:
        names = zipped.namelist()
        data = sorted(n[len("botocore/data/") :] for n in names if n.startswith("botocore/data/"))
        zipped.extractall(site, [n for n in names if n.startswith(PURE_PYTHON)])
    services = {name.split("/")[0] for name in data if "/" in name}
    assert services == set(CALLS)
    if shutil.which("openssl"):  # botocore's CA bundle, hashed for OpenSSL, beside it
        hashed = [n for n in names if n.startswith("botocore/cacert.pem.hashed/")]
        with zipfile.ZipFile(default.folder / "thumbor-urls.zip") as zipped:
            certificates = zipped.read("botocore/cacert.pem").count(b"BEGIN CERTIFICATE")
        assert len(hashed) == certificates > 100
    assert len(data) < 20, data
    with (site / "botocore/data/s3/2006-03-01/service-2.json").open() as model:
        assert set(json.load(model)["operations"]) == set(CALLS["s3"])
    bucket = moto_aws.bucket("trimmed")
    photo = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(photo, "JPEG")
    moto_aws.client("s3").put_object(Bucket=bucket, Key="photo.jpg", Body=photo.getvalue())
    secret = f"trimmed-{bucket}"
    moto_aws.client("secretsmanager").create_secret(Name=secret, SecretString="key")
    env = {**os.environ, **moto_aws.env(), "PYTHONPATH": os.pathsep.join((str(site), str(ROOT)))}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(site), bucket, secret],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pinned = (ROOT / "requirements-lambda.txt").read_text().split("botocore==")[1].split()[0]
    assert done.stdout.split() == ["ok", pinned]


def pyc_name(source: str) -> str:
    """thumbor_urls/app.py -> thumbor_urls/__pycache__/app.cpython-312.pyc"""
    folder, _, name = source.rpartition("/")
    return f"{folder}/__pycache__/{name[:-3]}{PYC_SUFFIX}".lstrip("/")


def test_a_missing_python312_is_one_warning(default: Packaged) -> None:
    warnings = [line for line in default.output.splitlines() if "No .pyc in the package" in line]
    assert len(warnings) == (0 if python312() else 1), default.output


@needs_python312
@pytest.mark.parametrize("which", ["default", "full"])
def test_every_module_has_unchecked_hash_bytecode_for_312(
    which: str, request: pytest.FixtureRequest
) -> None:
    packaged: Packaged = request.getfixturevalue(which)
    with zipfile.ZipFile(packaged.folder / "thumbor-urls.zip") as zipped:
        names = zipped.namelist()
        sources = [n for n in names if n.endswith(".py")]
        assert len(sources) > 100  # ours and Pillow's
        assert {"handler.py", "thumbor_urls/app.py", "PIL/Image.py"} <= set(sources)
        pycs = {n for n in names if n.endswith(".pyc")}
        assert pycs == {pyc_name(n) for n in sources}
        assert len(names) == len(set(names))
        headers = {source: zipped.read(pyc_name(source))[:16] for source in sources}
    for source, header in headers.items():
        assert header[:4] == MAGIC_312, source
        # PEP 552 flags: hash-based (bit 0), check_source clear (bit 1): used unchecked
        assert int.from_bytes(header[4:8], "little") == 0b01, source
    # The source hash is keyed by the magic number: 3.12 computes its own.
    hashes = (
        "import importlib.util, json, sys, zipfile\n"
        "with zipfile.ZipFile(sys.argv[1]) as z:\n"
        "    print(json.dumps({n: importlib.util.source_hash(z.read(n)).hex()\n"
        "                      for n in z.namelist() if n.endswith('.py')}))"
    )
    done = subprocess.run(
        [str(python312()), "-c", hashes, str(packaged.folder / "thumbor-urls.zip")],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert {s: h[8:16].hex() for s, h in headers.items()} == json.loads(done.stdout)


@needs_python312
@pytest.mark.skipif(platform.machine() != "x86_64", reason="imports the x86_64 package's Pillow")
def test_python312_loads_the_bytecode_not_the_sources(full: Packaged, tmp_path: Path) -> None:
    """Every .py of the unpacked x86_64 package made unparsable: the imports still work, so Python
    3.12 ran the unchecked pycs without compiling (or even reading) a source."""
    with zipfile.ZipFile(full.folder / "thumbor-urls.zip") as zipped:
        zipped.extractall(tmp_path)
    for source in tmp_path.rglob("*.py"):
        source.write_text("this is not Python (\n")
    # handler.py imports the zip's botocore too.
    code = (
        "import sys, handler, botocore\n"
        "assert botocore.__file__.startswith(sys.argv[1]), botocore.__file__\n"
        "print(sys.modules['thumbor_urls.app'].__cached__)"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONNOUSERSITE": "1"}
    # in tmp_path: -c puts the cwd on sys.path
    command = [str(python312()), "-B", "-c", code, str(tmp_path)]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / pyc_name("thumbor_urls/app.py"))
    # The control: without its pyc, the unparsable source is what Python reads, and fails.
    (tmp_path / pyc_name("thumbor_urls/app.py")).unlink()
    failed = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert failed.returncode != 0
    assert "SyntaxError" in failed.stderr


def test_x86_64_by_parameter(full: Packaged) -> None:
    assert full.function["Architectures"] == ["x86_64"]
    with zipfile.ZipFile(full.folder / "thumbor-urls.zip") as zipped:
        imaging = [n for n in zipped.namelist() if n.startswith("PIL/_imaging.cpython-312-")]
        assert imaging == ["PIL/_imaging.cpython-312-x86_64-linux-gnu.so"]
        assert elf_machine(zipped.read(imaging[0])) == 0x3E  # x86-64


# -- the function ----------------------------------------------------------------------------


def test_function_settings(default: Packaged, full: Packaged) -> None:
    fn = default.function
    assert fn["Runtime"] == "python3.12"
    assert fn["Handler"] == "handler.handler"
    assert fn["Architectures"] == ["arm64"]
    assert fn["MemorySize"] == 1024
    assert fn["Timeout"] == 29
    assert full.function["MemorySize"] == 2048
    assert fn["Role"] == {"Fn::GetAtt": ["ImageFunctionRole", "Arn"]}
    assert default.resources["ImageLogGroup"]["Properties"]["RetentionInDays"] == 180
    assert full.resources["ImageLogGroup"]["Properties"]["RetentionInDays"] == 30


def test_snap_start_by_parameter(default: Packaged, full: Packaged) -> None:
    """snapStart=Yes: SnapStart on published versions, and the API invokes the version's alias
    (SnapStart never applies to $LATEST); No (the default): the function itself, as before."""
    assert "SnapStart" not in default.function
    assert not [n for n, r in default.resources.items() if r["Type"] == "AWS::Lambda::Alias"]
    unqualified = {"Fn::GetAtt": ["ImageLambdaFunction", "Arn"]}
    integration = default.resources["HttpApiIntegrationImage"]["Properties"]
    assert integration["IntegrationUri"] == unqualified
    assert full.function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    (version,) = [n for n, r in full.resources.items() if r["Type"] == "AWS::Lambda::Version"]
    alias = full.resources["ImageSnapStartLambdaAlias"]
    assert alias["Properties"] == {
        "FunctionName": {"Ref": "ImageLambdaFunction"},
        "FunctionVersion": {"Fn::GetAtt": [version, "Version"]},
        "Name": "snapstart",
    }
    qualified = {"Fn::Join": [":", [unqualified, "snapstart"]]}
    integration = full.resources["HttpApiIntegrationImage"]
    assert integration["Properties"]["IntegrationUri"] == qualified
    assert integration["DependsOn"] == "ImageSnapStartLambdaAlias"
    permission = full.resources["ImageLambdaPermissionHttpApi"]
    assert permission["Properties"]["FunctionName"] == qualified
    # SnapStart and provisioned concurrency exclude each other; reserved concurrency is fine.
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]


def env_of(packaged: Packaged) -> dict[str, Any]:
    variables: dict[str, Any] = packaged.evaluate(packaged.function["Environment"]["Variables"])
    return variables


def test_environment_follows_the_parameters(default: Packaged, full: Packaged) -> None:
    env = env_of(default)
    # Nothing given: the stack creates the source bucket and reads it.
    assert env["SOURCE_BUCKETS"] == "<Ref SourceBucket>"
    assert env["RESULT_STORAGE_BUCKET"] == "<Ref ResultBucket>"
    assert env["ORIGIN_SECRET"] == "<Ref OriginSecret>"
    assert (env["SECRETS_MANAGER"], env["SECRET_KEY"]) == ("", "")
    assert env["ENABLE_SIGNATURE"] == "No"
    assert env["ALLOW_UNSAFE_URL"] == "Yes"
    assert env["REQUEST_DEADLINE_SECONDS"] == "27"
    # SIH's rules and HTTP origins only when asked for; the loader then fetches from the listed
    # hosts only.
    assert (env["SIH_COMPAT"], env["LOADERS"], env["ALLOWED_SOURCES"]) == ("No", "", "")
    full_env = env_of(full)
    assert full_env["SIH_COMPAT"] == "Yes"
    assert full_env["LOADERS"] == "s3,http"
    assert full_env["ALLOWED_SOURCES"] == "images.example.com,cdn.example.com"
    assert env["MAX_SOURCE_PIXELS"] == "40000000"  # 40 MP fits 1024 MB (the core's budget)
    assert "PRESIGNED_URL_EXPIRY" not in env
    full_env = env_of(full)
    # The given buckets first (the first is the default), then the created one.
    assert full.function["Environment"]["Variables"]["SOURCE_BUCKETS"]["Fn::If"][1] == {
        "Fn::Join": [",", ["photos-a", "photos-b", {"Ref": "SourceBucket"}]]
    }
    assert full_env["ENABLE_SIGNATURE"] == "Yes"
    assert full_env["SECRETS_MANAGER"] == "<Ref SigningSecret>"
    assert full_env["AUTO_WEBP"] == "Yes"
    assert full_env["CORS_ENABLED"] == "Yes"
    assert full_env["ENABLE_DEFAULT_FALLBACK_IMAGE"] == "Yes"
    assert full_env["DEFAULT_FALLBACK_IMAGE_BUCKET"] == "photos-a"
    assert full_env["DEFAULT_FALLBACK_IMAGE_KEY"] == "fallback/default.png"
    assert full_env["DETECTORS"] == "saliency,rekognition"
    assert full_env["MODERATION"] == "Yes"
    assert full_env["MAX_SOURCE_PIXELS"] == "60000000"
    assert (env["DETECTORS"], env["MODERATION"]) == ("", "No")


def test_signing_turns_unsafe_urls_off(default: Packaged, full: Packaged, sih: Packaged) -> None:
    assert env_of(default)["ALLOW_UNSAFE_URL"] == "Yes"
    assert "allowUnsafeUrl" not in FULL
    assert env_of(full)["ALLOW_UNSAFE_URL"] == "No"
    assert env_of(sih)["ALLOW_UNSAFE_URL"] == "No"


@pytest.mark.parametrize(
    ("params", "unsafe"),
    [
        ({"enableSignature": "Yes", "allowUnsafeUrl": "Yes"}, "Yes"),  # asked for both
        ({"enableSignature": "No", "allowUnsafeUrl": "No"}, "No"),
        ({"EnableSignatureParameter": "Yes"}, "No"),
    ],
)
def test_unsafe_urls_with_signing_only_when_asked(
    project: Path, params: dict[str, str], unsafe: str
) -> None:
    done = sls_print(project, params)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ALLOW_UNSAFE_URL"] == unsafe


def test_local_stage_environment_is_literal(project: Path) -> None:
    """`sls invoke local` and `sls offline` (stage local) need plain values: no reference to a
    resource, no bucket (originals from samples/), no origin secret check."""
    done = sls_print(project, {}, "--stage", "local")
    assert done.returncode == 0, done.stdout + done.stderr
    env = json.loads(done.stdout)
    assert all(isinstance(value, str) for value in env.values()), env
    assert env["SOURCE_BUCKETS"] == env["RESULT_STORAGE_BUCKET"] == env["ORIGIN_SECRET"] == ""
    assert env["ALLOW_UNSAFE_URL"] == "Yes"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"enableSignature": "maybe"}, "enableSignature must be Yes or No"),
        ({"createSourceBucket": "No"}, "give sourceBuckets="),
        ({"sourceBuckets": "Not_A_Bucket"}, "is not an S3 bucket name"),
        ({"wafRateLimit": "5"}, "wafRateLimit must be 0 (off) or at least 10"),
        ({"domainName": "images.example.com"}, "domainName needs certificateArn"),
        (
            {"domainName": "images.example.com",
             "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0b1e5c2a"},
            "domainName needs certificateArn",
        ),
        ({"reservedConcurrency": "0"}, "reservedConcurrency must be a whole number from 1"),
        ({"EnableS3ObjectLambdaParameter": "Yes"}, "enableS3ObjectLambda=Yes"),
        ({"namePrefix": "x" * 43}, "at most 42 characters"),
        ({"LogRetentionPeriodParameter": "45"}, "logRetentionDays must be one of"),
        ({"httpOrigins": "Yes"}, "httpOrigins=Yes needs allowedSources"),
        ({"allowedSources": "images.example.com"}, "allowedSources is for httpOrigins=Yes"),
        ({"httpOrigins": "Yes", "allowedSources": "*,a.example.com"}, "* (any public host) stands"),
        ({"sihCompat": "true"}, "sihCompat must be Yes or No"),
        ({"snapStart": "true"}, "snapStart must be Yes or No"),
    ],
)  # fmt: skip
def test_bad_parameters_stop_packaging(project: Path, params: dict[str, str], message: str) -> None:
    done = sls_print(project, params)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr


def test_waf_rate_limit_needs_us_east_1(project: Path) -> None:
    done = sls_print(project, {"wafRateLimit": "1000"}, "--region", "eu-west-1")
    assert done.returncode != 0
    assert "web ACL for CloudFront lives in us-east-1" in done.stdout + done.stderr


# -- resources and conditions ----------------------------------------------------------------

COMMON = {
    "ImageLambdaFunction", "ImageLogGroup", "ImageFunctionRole", "HttpApi", "HttpApiStage",
    "HttpApiIntegrationImage", "HttpApiRouteDefault", "ImageLambdaPermissionHttpApi",
    "HttpApiLogGroup", "ServerlessDeploymentBucket", "ServerlessDeploymentBucketPolicy",
    "LogBucket", "LogBucketPolicy", "ResultBucket", "ResultBucketPolicy", "Distribution",
    "ImageCachePolicy", "SecurityHeadersPolicy", "OriginSecret", "ResultOriginAccessControl",
    "OversizeHeadersPolicy",
}  # fmt: skip
MONITORING = {
    "AlarmTopic", "ServerErrorRateAlarm", "ThrottleAlarm", "DurationAlarm", "FunctionErrorAlarm",
    "Dashboard",
}  # fmt: skip


def test_resources_follow_the_conditions(default: Packaged, full: Packaged, sih: Packaged) -> None:
    def names(packaged: Packaged) -> set[str]:
        return {n for n in packaged.active() if not n.startswith("ImageLambdaVersion")}

    assert names(default) == COMMON | MONITORING | {
        "DemoUiBucket", "DemoUiBucketPolicy", "DemoUiOriginAccessControl", "SourceBucket",
        "SourceBucketPolicy", "PlaygroundHeadersPolicy",
    }  # fmt: skip
    assert names(full) == COMMON | MONITORING | {
        "SourceBucket", "SourceBucketPolicy", "SigningSecret", "AcceptClassFunction", "WebAcl",
        "ImageSnapStartLambdaAlias",
    }  # fmt: skip
    assert names(sih) == COMMON | {"AcceptClassFunction"}
    expected = {
        "CreateSourceBucket": (True, True, False),
        "GenerateSigningSecret": (False, True, False),
        "DeployDemoUi": (True, False, False),
        "AutoFormat": (False, True, True),
        "CorsEnabled": (False, True, True),
        "UseKms": (False, True, False),
        "DetectFacesWithRekognition": (False, True, False),
        "ModerateWithRekognition": (False, True, False),
        "CreateWebAcl": (False, True, False),
        "Monitoring": (True, True, False),
        "CloudFrontLogsToBucket": (True, True, False),  # ap-east-1 has no standard logs
        "ClientHints": (False, True, False),
        "ViewerRequestFunction": (False, True, True),
        "HeadersInCacheKey": (False, True, True),
        "SihCompat": (False, True, False),
    }
    for name, values in expected.items():
        for packaged, value in zip((default, full, sih), values, strict=True):
            assert packaged.condition(name) is value, (name, packaged.params)
    assert set(default.template["Conditions"]) == set(expected)


def test_buckets_are_private_encrypted_and_tls_only(
    default: Packaged, full: Packaged, sih: Packaged
) -> None:
    for packaged in (default, full, sih):
        active = packaged.active()
        buckets = [n for n, r in active.items() if r["Type"] == "AWS::S3::Bucket"]
        policies = {
            r["Properties"]["Bucket"]["Ref"]: r["Properties"]["PolicyDocument"]
            for r in active.values()
            if r["Type"] == "AWS::S3::BucketPolicy"
        }
        for name in buckets:
            props = packaged.evaluate(active[name]["Properties"])
            if name == "ServerlessDeploymentBucket":
                continue  # the framework's own (blockPublicAccess, AES256 set in serverless.yml)
            assert props["PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            }, name  # fmt: skip
            rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
            tls = [s for s in policies[name]["Statement"] if s.get("Sid") == "TlsOnly"]
            assert tls and tls[0]["Effect"] == "Deny"
            assert tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        deploy = packaged.resources["ServerlessDeploymentBucket"]["Properties"]
        assert deploy["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    results = default.evaluate(default.resources["ResultBucket"]["Properties"])
    assert int(results["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"]) == 30
    full_results = full.resources["ResultBucket"]["Properties"]
    assert int(full_results["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"]) == 7
    sse = results["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    kms = full.evaluate(full.resources["ResultBucket"]["Properties"]["BucketEncryption"])
    by_default = kms["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert by_default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": FULL["kmsKeyArn"]}


def test_bucket_names_are_unique_to_the_account_and_redeployable(
    default: Packaged, sih: Packaged
) -> None:
    """S3 names are global: every name the stack sets holds the account id. The buckets that
    outlive the stack (Retain) get generated names, so that `sls remove` then `sls deploy` does
    not meet them; those it deletes have deterministic names."""
    resources = default.resources
    assert resources["ResultBucket"]["Properties"]["BucketName"] == {
        "Fn::Sub": "thumbor-urls-dev-us-east-1-${AWS::AccountId}-results"
    }
    assert resources["DemoUiBucket"]["Properties"]["BucketName"] == {
        "Fn::Sub": "thumbor-urls-dev-us-east-1-${AWS::AccountId}-demo-ui"
    }
    assert sih.resources["ResultBucket"]["Properties"]["BucketName"] == {
        "Fn::Sub": "thumbor-urls-prod-ap-east-1-${AWS::AccountId}-results"
    }
    for name in ("LogBucket", "SourceBucket"):
        assert resources[name]["DeletionPolicy"] == "Retain", name
        assert "BucketName" not in resources[name]["Properties"], name
    for name, resource in resources.items():
        if resource["Type"] == "AWS::S3::Bucket" and "BucketName" in resource["Properties"]:
            assert resource.get("DeletionPolicy", "Delete") == "Delete", name
            assert "${AWS::AccountId}" in json.dumps(resource["Properties"]["BucketName"]), name
        # A deleted secret's name stays taken for its recovery window.
        if resource["Type"] == "AWS::SecretsManager::Secret":
            assert "Name" not in resource["Properties"], name


def test_secrets_are_generated_at_deploy_time(default: Packaged, full: Packaged) -> None:
    for name, packaged in (("SigningSecret", full), ("OriginSecret", default)):
        props = packaged.evaluate(packaged.resources[name]["Properties"])
        assert "SecretString" not in props
        assert props["GenerateSecretString"]["PasswordLength"] >= 32
    assert full.resources["SigningSecret"]["Condition"] == "GenerateSigningSecret"
    props = full.evaluate(full.resources["SigningSecret"]["Properties"])
    assert props["KmsKeyId"] == FULL["kmsKeyArn"]


def test_reused_sih_secret(sih: Packaged) -> None:
    """SIH's secret (its name and the JSON field of the key) read as it is: URLs signed for the
    old stack stay valid."""
    env = env_of(sih)
    assert (env["SECRETS_MANAGER"], env["SECRET_KEY"]) == ("sih-signing", "signing-key")
    assert env["ENABLE_SIGNATURE"] == "Yes"
    assert "SigningSecret" not in sih.active()
    (read,) = sih.policies()["signing-secret"]
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert read["Resource"] == (
        "arn:aws:secretsmanager:ap-east-1:123456789012:secret:sih-signing-??????"
    )


def test_sih_parameter_names(sih: Packaged) -> None:
    env = env_of(sih)
    assert env["SOURCE_BUCKETS"] == "old-photos,more-photos"  # SIH's ", " list
    assert (env["CORS_ENABLED"], env["CORS_ORIGIN"]) == ("Yes", "https://www.example.com")
    assert (env["AUTO_WEBP"], env["AUTO_AVIF"]) == ("Yes", "Yes")
    assert env["ENABLE_DEFAULT_FALLBACK_IMAGE"] == "Yes"
    assert (env["DEFAULT_FALLBACK_IMAGE_BUCKET"], env["DEFAULT_FALLBACK_IMAGE_KEY"]) == (
        "old-photos", "fallback.jpg",
    )  # fmt: skip
    assert sih.resources["ImageLogGroup"]["Properties"]["RetentionInDays"] == 90
    config = sih.evaluate(sih.resources["Distribution"]["Properties"]["DistributionConfig"])
    assert config["PriceClass"] == "PriceClass_200"
    assert "OriginShield" not in config["Origins"][0]  # SIH's "Disabled"
    assert config["WebACLId"] == SIH["webAclArn"]


# -- IAM -------------------------------------------------------------------------------------


def test_iam_least_privilege_default(default: Packaged) -> None:
    policies = default.policies()
    assert set(policies) == {"logs", "read-sources", "results", "origin-secret"}
    statements = [s for group in policies.values() for s in group]
    grants = {(s["Sid"], tuple(sorted(s["Action"])) if isinstance(s["Action"], list)
               else (s["Action"],)) for s in statements}  # fmt: skip
    assert grants == {
        ("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents")),
        ("ReadOriginals", ("s3:GetObject",)),
        ("ListOriginalsFor404", ("s3:ListBucket",)),
        ("ReadWriteResults", ("s3:GetObject", "s3:PutObject")),
        ("ListResultsFor404", ("s3:ListBucket",)),
        ("ReadOriginSecret", ("secretsmanager:GetSecretValue",)),
    }
    by_sid = {s["Sid"]: s for s in statements}
    assert all(s["Effect"] == "Allow" for s in statements)
    assert by_sid["WriteOwnLogs"]["Resource"] == "${ImageLogGroup.Arn}"
    assert by_sid["ReadOriginals"]["Resource"] == ["${SourceBucket.Arn}/*"]
    assert by_sid["ListOriginalsFor404"]["Resource"] == ["<GetAtt SourceBucket.Arn>"]
    assert by_sid["ReadWriteResults"]["Resource"] == "${ResultBucket.Arn}/*"
    assert by_sid["ReadOriginSecret"]["Resource"] == "<Ref OriginSecret>"
    assert not any(s["Resource"] == "*" for s in statements)


def test_iam_with_every_option(full: Packaged) -> None:
    policies = full.policies()
    assert set(policies) == {
        "logs", "read-sources", "results", "kms", "signing-secret", "fallback-image",
        "rekognition-faces", "rekognition-moderation", "origin-secret",
    }  # fmt: skip
    read = {s["Sid"]: s for s in policies["read-sources"]}
    assert read["ReadOriginals"]["Resource"] == [
        "arn:aws:s3:::photos-a/*",
        "arn:aws:s3:::photos-b/*",
        "${SourceBucket.Arn}/*",
    ]
    assert read["ListOriginalsFor404"]["Resource"] == [
        "arn:aws:s3:::photos-a",
        "arn:aws:s3:::photos-b",
        "<GetAtt SourceBucket.Arn>",
    ]
    # Nothing may write to a source bucket.
    for statements in policies.values():
        for statement in statements:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            resources = (
                statement["Resource"]
                if isinstance(statement["Resource"], list)
                else [statement["Resource"]]
            )
            if any(a.startswith("s3:Put") or a.startswith("s3:Delete") for a in actions):
                assert all("photos-" not in r and "Source" not in r for r in resources)
    (secret,) = policies["signing-secret"]
    assert secret["Action"] == "secretsmanager:GetSecretValue"
    assert secret["Resource"] == "<Ref SigningSecret>"
    (fallback,) = policies["fallback-image"]
    assert fallback["Action"] == "s3:GetObject"
    assert fallback["Resource"] == "arn:aws:s3:::photos-a/fallback/default.png"
    (kms,) = policies["kms"]
    assert kms["Resource"] == FULL["kmsKeyArn"]
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    (faces,) = policies["rekognition-faces"]
    assert faces["Action"] == "rekognition:DetectFaces"
    (moderation,) = policies["rekognition-moderation"]
    assert moderation["Action"] == "rekognition:DetectModerationLabels"


def test_arns_take_the_partition_of_the_region(
    default: Packaged, full: Packaged, sih: Packaged
) -> None:
    """No ARN written for the aws partition only (China, GovCloud): every one is built with
    ${AWS::Partition} or comes from a resource or a parameter."""
    for packaged in (default, full, sih):
        for name, resource in packaged.resources.items():
            if name.startswith("Serverless"):
                continue  # the framework's own deployment bucket policy
            text = json.dumps(resource)
            assert "arn:aws:" not in text.replace(FULL["kmsKeyArn"], "").replace(
                FULL["certificateArn"], ""
            ).replace(SIH["webAclArn"], ""), name
    raw = full.resources["ImageFunctionRole"]["Properties"]["Policies"]
    assert '"Fn::Sub": "arn:${AWS::Partition}:s3:::photos-a/*"' in json.dumps(raw)


@pytest.mark.parametrize(
    ("detectors", "granted"),
    [("", False), ("saliency", False), ("rekognition", True), ("opencv,rekognition", True)],
)
def test_rekognition_only_when_a_detector_uses_it(
    default: Packaged, detectors: str, granted: bool
) -> None:
    condition = json.dumps(default.template["Conditions"]["DetectFacesWithRekognition"])
    assert condition.count("x") >= 2  # the guard against an empty list
    variant = Packaged(default.folder, {})
    variant.__dict__["template"] = json.loads(
        json.dumps(default.template).replace('"x"', f'"x{detectors}"')
    )
    assert variant.condition("DetectFacesWithRekognition") is granted


# -- limits ----------------------------------------------------------------------------------


def test_cost_and_abuse_limits(default: Packaged, full: Packaged, sih: Packaged) -> None:
    assert default.function["ReservedConcurrentExecutions"] == 50
    assert "ReservedConcurrentExecutions" not in full.evaluate(full.function)  # none
    settings = default.resources["HttpApiStage"]["Properties"]["DefaultRouteSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (100, 200)
    settings = full.resources["HttpApiStage"]["Properties"]["DefaultRouteSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (20, 40)
    assert env_of(default)["MAX_SOURCE_PIXELS"] == "40000000"


def test_waf_rate_rule_is_optional(default: Packaged, full: Packaged) -> None:
    config = default.evaluate(default.resources["Distribution"]["Properties"]["DistributionConfig"])
    assert "WebACLId" not in config
    assert "WebAcl" not in default.active()
    acl = full.evaluate(full.resources["WebAcl"]["Properties"])
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    (rule,) = acl["Rules"]
    assert rule["Action"] == {"Block": {}}
    assert rule["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP", "EvaluationWindowSec": 300, "Limit": 500,
    }  # fmt: skip
    config = full.evaluate(full.resources["Distribution"]["Properties"]["DistributionConfig"])
    assert config["WebACLId"] == "<GetAtt WebAcl.Arn>"


# -- CloudFront ------------------------------------------------------------------------------


def distribution(packaged: Packaged) -> dict[str, Any]:
    config: dict[str, Any] = packaged.evaluate(
        packaged.resources["Distribution"]["Properties"]["DistributionConfig"]
    )
    return config


def test_cloudfront_distribution(default: Packaged, full: Packaged) -> None:
    config = distribution(default)
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert "FunctionAssociations" not in behaviour
    assert config["PriceClass"] == "PriceClass_All"
    assert config["Logging"]["Bucket"] == "<GetAtt LogBucket.RegionalDomainName>"
    origin = config["Origins"][0]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["DomainName"] == "${HttpApi}.execute-api.us-east-1.${AWS::URLSuffix}"
    ttl = {e["ErrorCode"]: e["ErrorCachingMinTTL"] for e in config["CustomErrorResponses"]}
    assert ttl[404] == 60
    assert ttl[503] == 0
    assert [o["Id"] for o in config["Origins"]] == ["image-api", "results", "demo-ui"]
    full_config = distribution(full)
    assert full_config["PriceClass"] == "PriceClass_100"
    (association,) = full_config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert [o["Id"] for o in full_config["Origins"]] == ["image-api", "results"]


def test_the_playground_is_served_beside_the_images(default: Packaged, full: Packaged) -> None:
    (behaviour,) = [
        b for b in distribution(default)["CacheBehaviors"] if b["TargetOriginId"] == "demo-ui"
    ]
    # Where scripts/upload_demo_ui.py puts the page (tests/test_deploy_demo_ui.py), with the
    # local server's CSP.
    assert behaviour["PathPattern"] == "/playground/*"
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    policy = default.resources["PlaygroundHeadersPolicy"]["Properties"]
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["ContentSecurityPolicy"] == {
        "ContentSecurityPolicy": CONTENT_SECURITY_POLICY,
        "Override": True,
    }
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert default.evaluate(default.template["Outputs"]["DemoUiUrl"]["Value"]) == (
        "https://${Distribution.DomainName}/playground/index.html"
    )
    # Uploaded by the plugin after `sls deploy`: no separate step.
    assert "./scripts/playground-deploy.js" in (ROOT / "serverless.yml").read_text()
    assert not [b for b in distribution(full)["CacheBehaviors"] if b["TargetOriginId"] == "demo-ui"]


def test_cloudfront_sends_the_origin_secret(default: Packaged) -> None:
    """The API is reachable around CloudFront, so CloudFront proves itself with a header whose
    value only the stack knows; the function checks it (ORIGIN_SECRET)."""
    (header,) = distribution(default)["Origins"][0]["OriginCustomHeaders"]
    assert header["HeaderName"] == "X-Origin-Verify"
    assert header["HeaderValue"] == "{{resolve:secretsmanager:${OriginSecret}:SecretString}}"
    assert env_of(default)["ORIGIN_SECRET"] == "<Ref OriginSecret>"
    secret = default.resources["OriginSecret"]
    assert "Condition" not in secret
    assert "GenerateSecretString" in secret["Properties"]


def test_oversize_results_come_through_cloudfront(default: Packaged, full: Packaged) -> None:
    for packaged in (default, full):
        config = distribution(packaged)
        origins = {o["Id"]: o for o in config["Origins"]}
        results = origins["results"]
        assert results["DomainName"] == "<GetAtt ResultBucket.RegionalDomainName>"
        assert results["OriginAccessControlId"] == "<GetAtt ResultOriginAccessControl.Id>"
        (oversize,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/oversize/*"]
        assert oversize["TargetOriginId"] == "results"
        assert oversize["AllowedMethods"] == ["GET", "HEAD"]
        assert oversize["CachedMethods"] == ["GET", "HEAD"]
        assert oversize["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
        assert oversize["ResponseHeadersPolicyId"] == "<Ref OversizeHeadersPolicy>"
        policy = packaged.evaluate(packaged.resources["ResultBucketPolicy"]["Properties"])
        (read,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
        assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert read["Action"] == "s3:GetObject"
        assert read["Resource"] == "${ResultBucket.Arn}/oversize/*"  # that prefix only
        assert read["Condition"]["StringEquals"]["AWS:SourceArn"] == (
            "arn:aws:cloudfront::123456789012:distribution/${Distribution}"
        )
    plain = default.evaluate(default.resources["OversizeHeadersPolicy"]["Properties"])
    assert "CorsConfig" not in plain["ResponseHeadersPolicyConfig"]
    cors = full.evaluate(full.resources["OversizeHeadersPolicy"]["Properties"])
    config = cors["ResponseHeadersPolicyConfig"]["CorsConfig"]
    assert config["AccessControlAllowOrigins"] == {"Items": ["*"]}
    assert config["AccessControlAllowMethods"] == {"Items": ["GET", "HEAD"]}


def test_custom_domain_and_origin_shield(default: Packaged, full: Packaged) -> None:
    plain = distribution(default)
    assert "Aliases" not in plain
    assert plain["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert all("OriginShield" not in o for o in plain["Origins"])
    config = distribution(full)
    assert config["Aliases"] == ["images.example.com", "img.example.com"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": FULL["certificateArn"],
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    shield = {"Enabled": True, "OriginShieldRegion": "us-east-1"}
    assert [o["OriginShield"] for o in config["Origins"]] == [shield, shield]
    assert full.evaluate(full.template["Outputs"]["CloudFrontUrl"]["Value"]) == (
        "https://images.example.com"
    )


@pytest.mark.parametrize(
    ("region", "logs"),
    [("us-east-1", True), ("eu-west-3", True), ("ap-southeast-2", True), ("ap-east-1", False),
     ("eu-south-1", False), ("me-central-1", False), ("il-central-1", False)],
)  # fmt: skip
def test_standard_logs_only_where_the_region_has_them(
    default: Packaged, region: str, logs: bool
) -> None:
    variant = Packaged(default.folder, {}, region=region)
    assert variant.condition("CloudFrontLogsToBucket") is logs
    assert ("Logging" in distribution(variant)) is logs


def test_cache_key_holds_only_what_changes_the_answer(default: Packaged, full: Packaged) -> None:
    def key(packaged: Packaged) -> dict[str, Any]:
        policy = packaged.evaluate(packaged.resources["ImageCachePolicy"]["Properties"])
        params: dict[str, Any] = policy["CachePolicyConfig"][
            "ParametersInCacheKeyAndForwardedToOrigin"
        ]
        return params

    plain = key(default)
    # SIH's signature and meta/'s JSONP callback; with sihCompat=Yes, SIH v7's query edits and
    # expiry too (each one the function reads: thumbor_urls/sih/request.py).
    assert plain["QueryStringsConfig"] == {
        "QueryStringBehavior": "whitelist",
        "QueryStrings": ["callback", "signature"],
    }
    queries = key(full)["QueryStringsConfig"]["QueryStrings"]
    # `greyscale` as SIH's own CloudFront function leaves it out: behind CloudFront, only
    # `grayscale` reaches SIH.
    assert set(queries) == {"callback", "signature", "expires"} | set(sih_request._QUERY) - {
        "greyscale"
    }
    assert plain["CookiesConfig"] == {"CookieBehavior": "none"}
    assert plain["HeadersConfig"]["HeaderBehavior"] == "none"
    auto = key(full)
    assert auto["HeadersConfig"] == {
        "HeaderBehavior": "whitelist",
        "Headers": ["Accept", "Sec-CH-DPR", "Sec-CH-Width"],
    }


def run_accept_function(packaged: Packaged, headers: dict[str, Any]) -> str:
    code = packaged.resources["AcceptClassFunction"]["Properties"]["FunctionCode"]
    event = {"request": {"uri": "/unsafe/x.jpg", "headers": headers}}
    script = code + f"\nprocess.stdout.write(JSON.stringify(handler({json.dumps(event)})));"
    done = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    request = json.loads(done.stdout)
    assert request["uri"] == "/unsafe/x.jpg"
    value: str = request["headers"]["accept"]["value"]
    return value


@pytest.mark.parametrize(
    ("accept", "webp_only", "both"),
    [
        (
            "image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
            "image/webp",
            "image/avif,image/webp",
        ),
        ("IMAGE/AVIF,Image/WebP", "image/webp", "image/avif,image/webp"),
        ("image/avif,*/*", "", "image/avif"),
        ("image/webp,*/*", "image/webp", "image/webp"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "", ""),
        (None, "", ""),
    ],
)
def test_cloudfront_function_reduces_accept(
    full: Packaged, sih: Packaged, accept: str | None, webp_only: str, both: str
) -> None:
    """AVIF stays in the cache key only when autoAvif is on (full: WebP only; sih: both), and
    Accept is compared case-insensitively."""
    headers = {} if accept is None else {"accept": {"value": accept}}
    assert run_accept_function(full, headers) == webp_only
    assert run_accept_function(sih, headers) == both


def run_viewer_function(packaged: Packaged, query: dict[str, Any]) -> dict[str, Any]:
    """The function on a request with this `querystring` (CloudFront's event shape)."""
    code = packaged.resources["AcceptClassFunction"]["Properties"]["FunctionCode"]
    event = {"request": {"uri": "/a.jpg", "headers": {}, "querystring": query}}
    script = code + f"\nprocess.stdout.write(JSON.stringify(handler({json.dumps(event)})));"
    done = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    request: dict[str, Any] = json.loads(done.stdout)
    return request


def test_cloudfront_function_normalises_sihs_query(full: Packaged, sih: Packaged) -> None:
    """With sihCompat=Yes, as SIH v7's own function: only the parameters it reads (and meta/'s
    callback), sorted, the last value of a repeated one."""
    query = {
        "width": {"value": "100"},
        "utm_source": {"value": "mail"},
        "format": {"value": "png", "multiValue": [{"value": "png"}, {"value": "webp"}]},
        "signature": {"value": "abc"},
        "callback": {"value": "cb"},
    }
    request = run_viewer_function(full, query)
    assert list(request["querystring"]) == ["callback", "format", "signature", "width"]
    assert request["querystring"]["format"] == {"value": "webp"}
    assert request["querystring"]["width"] == {"value": "100"}
    # Without sihCompat the query is left as it came (the cache policy picks its parameters).
    assert run_viewer_function(sih, query)["querystring"] == query


def test_cloudfront_function_reads_every_accept_header(sih: Packaged) -> None:
    headers = {"accept": {"value": "text/html", "multiValue": [
        {"value": "text/html"}, {"value": "image/webp"}]}}  # fmt: skip
    assert run_accept_function(sih, headers) == "image/webp"


# -- operations ------------------------------------------------------------------------------


def test_alarms_and_dashboard(default: Packaged, full: Packaged, sih: Packaged) -> None:
    alarms = {n: default.evaluate(r["Properties"]) for n, r in default.active().items()
              if r["Type"] == "AWS::CloudWatch::Alarm"}  # fmt: skip
    assert set(alarms) == {"ServerErrorRateAlarm", "ThrottleAlarm", "DurationAlarm",
                           "FunctionErrorAlarm"}  # fmt: skip
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == ["<Ref AlarmTopic>"]
        assert alarm["TreatMissingData"] == "notBreaching"
    rate = alarms["ServerErrorRateAlarm"]
    metrics = {m["Id"]: m for m in rate["Metrics"]}
    assert metrics["errors"]["MetricStat"]["Metric"]["MetricName"] == "5xx"
    assert metrics["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    assert "100 * FILL(errors, 0) / requests" in metrics["rate"]["Expression"]
    assert rate["Threshold"] == 5
    assert alarms["ThrottleAlarm"]["MetricName"] == "Throttles"
    assert alarms["FunctionErrorAlarm"]["MetricName"] == "Errors"
    duration = alarms["DurationAlarm"]
    assert (duration["MetricName"], duration["ExtendedStatistic"]) == ("Duration", "p99")
    assert duration["Threshold"] < 27000  # the deadline
    for alarm in ("ThrottleAlarm", "FunctionErrorAlarm", "DurationAlarm"):
        assert alarms[alarm]["Dimensions"] == [
            {"Name": "FunctionName", "Value": "<Ref ImageLambdaFunction>"}
        ]
    topic = default.evaluate(default.resources["AlarmTopic"]["Properties"])
    assert "Subscription" not in topic
    topic = full.evaluate(full.resources["AlarmTopic"]["Properties"])
    assert topic["Subscription"] == [{"Protocol": "email", "Endpoint": "ops@example.com"}]
    body = default.resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    json.loads(body[0].replace("${", "x{"))  # valid JSON once substituted
    assert not any(r["Type"].startswith("AWS::CloudWatch") for r in sih.active().values())


# -- client hints (clientHints=Yes) ------------------------------------------------------------


@pytest.fixture(scope="module")
def hints_only(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    return package(tmp_path_factory.mktemp("package-hints"), {"clientHints": "Yes"})


def test_client_hints_are_in_the_cache_key_and_the_environment(
    default: Packaged, hints_only: Packaged
) -> None:
    assert default.function["Environment"]["Variables"]["CLIENT_HINTS"] == "No"
    assert hints_only.function["Environment"]["Variables"]["CLIENT_HINTS"] == "Yes"
    # Without auto formats the function is there for the hints alone, and Accept stays out.
    assert hints_only.condition("ViewerRequestFunction")
    assert not hints_only.condition("AutoFormat")
    assert "AcceptClassFunction" in hints_only.active()
    policy = hints_only.evaluate(hints_only.resources["ImageCachePolicy"]["Properties"])
    headers = policy["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert headers["HeadersConfig"] == {
        "HeaderBehavior": "whitelist",
        "Headers": ["Sec-CH-DPR", "Sec-CH-Width"],
    }
    config = hints_only.evaluate(
        hints_only.resources["Distribution"]["Properties"]["DistributionConfig"]
    )
    (association,) = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"


DPR_TEXTS = [
    "1", "0.5", "1.25", "1.5", "1.75", "2", " 2 ", "2.625", "3", "3.5", "4", "100", "999",
    "0", "", "-1", "2x", "1e1", "inf", "1,5", "+2", ".5", "1.1234567", "1.000001", "1234",
]  # fmt: skip
WIDTH_TEXTS = [
    "1", "159", "160", "161", "500", "640", "641", "1920", "1921", "3840", "3841", "999999",
    "0", "-5", "500.5", "", "1234567", "0x10", " 700 ", "00640",
]  # fmt: skip


def hint_events() -> list[dict[str, str]]:
    """Request headers with every value above, under the Sec-CH- name, the older name, and both
    (a valid older value behind a malformed Sec-CH- one)."""
    events: list[dict[str, str]] = []
    for dpr, width in zip(DPR_TEXTS, [*WIDTH_TEXTS, *WIDTH_TEXTS], strict=False):
        events.append({"sec-ch-dpr": dpr, "sec-ch-width": width})
        events.append({"dpr": dpr, "width": width})
        events.append({"sec-ch-dpr": "x", "dpr": dpr, "sec-ch-width": "x", "width": width})
    events.append({})
    return events


def test_cloudfront_function_reduces_hints_to_the_services_classes(full: Packaged) -> None:
    """The function, run in node on every event, leaves exactly the classes hints.read() finds
    (the service reads them back unchanged), and nothing of the raw hints."""
    from thumbor_urls import hints

    code = full.resources["AcceptClassFunction"]["Properties"]["FunctionCode"]
    events = [
        {"request": {"uri": "/unsafe/x.jpg", "headers": {k: {"value": v} for k, v in h.items()}}}
        for h in hint_events()
    ]
    script = code + (
        f"\nvar events = {json.dumps(events)};"
        "\nprocess.stdout.write(JSON.stringify(events.map(handler)));"
    )
    done = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    requests = json.loads(done.stdout)
    assert len(requests) == len(events)
    seen = set()
    for sent, request in zip(hint_events(), requests, strict=True):
        headers = request["headers"]
        assert "dpr" not in headers and "width" not in headers, sent
        expected = hints.read(sent)
        forwarded = {name: header["value"] for name, header in headers.items()}
        dpr, width = forwarded.get("sec-ch-dpr"), forwarded.get("sec-ch-width")
        assert (None if dpr is None else float(dpr)) == expected.dpr, sent
        assert (None if width is None else int(width)) == expected.width, sent
        # What reaches the service reads back as the same classes.
        assert hints.read({k: v for k, v in forwarded.items() if k != "accept"}) == expected
        seen.add(expected)
    # Every class, and no hint at all, were among the cases.
    assert {h.dpr for h in seen} == {*hints.DPR_CLASSES, None}
    assert {h.width for h in seen} >= {160, 640, 1920, 2560, 3840, None}


def test_outputs(default: Packaged, full: Packaged, sih: Packaged) -> None:
    base = {"CloudFrontUrl", "CloudFrontDomainName", "SourceBuckets", "ResultBucket", "LogBucket",
            "ImageLambdaFunctionQualifiedArn", "ServerlessDeploymentBucketName"}  # fmt: skip
    assert base | {"DemoUiBucket", "DemoUiUrl", "CreatedSourceBucket", "DashboardUrl",
                   "AlarmTopic"} == default.outputs()  # fmt: skip
    assert base | {"SigningSecretArn", "CreatedSourceBucket", "DashboardUrl",
                   "AlarmTopic"} == full.outputs()  # fmt: skip
    assert base == sih.outputs()
    url = default.evaluate(default.template["Outputs"]["CloudFrontUrl"]["Value"])
    assert url == "https://${Distribution.DomainName}"
    # The API's own address is not given out: only CloudFront's.
    for packaged in (default, full, sih):
        outputs = json.dumps(packaged.template["Outputs"])
        assert "HttpApi" not in outputs
        assert "execute-api" not in outputs


# -- linters ---------------------------------------------------------------------------------

# W3005 (redundant DependsOn) is in what the framework generates, not in resources/; W8003
# (a condition that is always true or false) and W1028 (an Fn::If branch that such conditions
# make unreachable) are by design: conditions are fixed from --param when the template is
# compiled, because the environment must hold literal values.
CFN_LINT_IGNORED = ["W3005", "W8003", "W1028"]


@pytest.mark.parametrize("which", ["default", "full", "sih", "hints_only"])
def test_cfn_lint(which: str, request: pytest.FixtureRequest) -> None:
    packaged: Packaged = request.getfixturevalue(which)
    template = packaged.folder / "cloudformation-template-update-stack.json"
    command = [str(CFN_LINT), "--ignore-checks", *CFN_LINT_IGNORED, "--", str(template)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(not CHECKOV.exists(), reason="needs .venv-checkov (make deploy-tools)")
@pytest.mark.parametrize("which", ["default", "full", "sih", "hints_only"])
def test_checkov(which: str, request: pytest.FixtureRequest) -> None:
    packaged: Packaged = request.getfixturevalue(which)
    template = packaged.folder / "cloudformation-template-update-stack.json"
    command = [str(CHECKOV), "--skip-download", "--compact", "-o", "json",
               "--framework", "cloudformation", "-f", str(template)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(done.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [], failed
    assert done.returncode == 0
    assert report["summary"]["passed"] > 40
    # Every skipped finding carries its reason.
    for check in report["results"]["skipped_checks"]:
        assert len(check["check_result"].get("suppress_comment", "")) > 20, check["check_id"]


def test_exported_console_template(default: Packaged, tmp_path: Path) -> None:
    import yaml

    shutil.copy(default.folder / "cloudformation-template-update-stack.json", tmp_path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_template.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    target = tmp_path / "serverless-image-handler-template.yaml"
    assert done.stdout.strip() == str(target)
    template = yaml.safe_load(target.read_text())
    assert "ServerlessDeploymentBucket" not in template["Resources"]
    code = template["Resources"]["ImageLambdaFunction"]["Properties"]["Code"]
    assert code == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    assert {"CodeBucket", "CodeKey", "KmsKeyArn"} <= set(template["Parameters"])
    lint = subprocess.run(
        [str(CFN_LINT), "--ignore-checks", *CFN_LINT_IGNORED, "--", str(target)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout
