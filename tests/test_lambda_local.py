"""`npx sls invoke local` with the committed events, and `npx sls offline` serving on loopback, for
real: the framework runs handler.py as Lambda would (stage `local`: originals from samples/), and
once against moto's S3 through the standard AWS_ENDPOINT_URL."""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.aws_fixtures import MotoAws
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
NPX = shutil.which("npx")
SIGNING_KEY = "MY_SECURE_KEY"  # what events/signed.json was signed with

pytestmark = pytest.mark.skipif(
    NPX is None or not (ROOT / "node_modules" / ".bin" / "sls").exists(),
    reason="needs node_modules (make deploy-tools runs npm ci)",
)


def sls_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # The framework runs `python3`: this venv's, which has Pillow (and boto3, as Lambda has).
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["RESULT_STORAGE_FILE_STORAGE_ROOT_PATH"] = ""  # no cache: every call processes
    env.update(extra)
    return env


def invoke_local(event: str, *args: str, **env: str) -> tuple[Any, str]:
    command = [str(NPX), "sls", "invoke", "local", "-f", "image", "-p", f"events/{event}.json"]
    done = subprocess.run(
        [*command, *args], cwd=ROOT, env=sls_env(**env), capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    # The function's own log lines (one-line JSON) come first, then the answer, pretty-printed.
    lines = done.stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    answer = json.loads("\n".join(lines[start:]))
    return answer, "\n".join(lines[:start])


def image_of(answer: dict[str, Any]) -> Image.Image:
    assert answer["isBase64Encoded"] is True
    return Image.open(io.BytesIO(base64.b64decode(answer["body"])))


def test_invoke_local_thumbor_url() -> None:
    answer, log = invoke_local("thumbor", "--stage", "local")
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "image/jpeg"
    assert image_of(answer).size == (300, 300)
    line = json.loads(next(x for x in log.splitlines() if x.startswith('{"method"')))
    assert line["key"] == "astronaut.jpg"
    assert line["status"] == 200
    assert line["coldStart"] is True


def test_invoke_local_shows_the_init_and_snapstart_split() -> None:
    """The init's own line before the request's; with SnapStart's init type and the local
    stand-in for snapshot_restore_py (scripts/snapstart_local), the restore's line between."""
    _, log = invoke_local("thumbor", "--stage", "local")
    lines = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
    assert [line.get("event") for line in lines] == ["init", "apigw-v2"]
    assert (lines[0]["initType"], lines[0]["snapStartHooks"]) == ("on-demand", False)
    snap = ("-e", "AWS_LAMBDA_INITIALIZATION_TYPE=snap-start")
    _, log = invoke_local(
        "thumbor", "--stage", "local", *snap, "-e", "PYTHONPATH=scripts/snapstart_local"
    )
    lines = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
    assert [line.get("event") for line in lines] == ["init", "restore", "apigw-v2"]
    init, restore, request = lines
    assert (init["initType"], init["snapStartHooks"]) == ("snap-start", True)
    assert init["pillowPlugins"] > 20 and init["importMs"] > 0
    assert restore["ms"] >= 0
    assert (request["status"], request["coldStart"]) == (200, True)


def test_invoke_local_signed_missing_and_v1() -> None:
    signed, _ = invoke_local(
        "signed", "--stage", "local", ALLOW_UNSAFE_URL="false", SECURITY_KEY=SIGNING_KEY
    )
    assert signed["statusCode"] == 200
    assert image_of(signed).size == (300, 200)
    missing, _ = invoke_local("missing", "--stage", "local")
    assert missing["statusCode"] == 404
    assert json.loads(base64.b64decode(missing["body"]))["code"] == "NoSuchKey"
    v1, _ = invoke_local("rest-v1", "--stage", "local")
    assert v1["statusCode"] == 200
    assert image_of(v1).width == 300


def test_invoke_local_sih_request() -> None:
    answer, log = invoke_local("sih-query", "--stage", "local", "-e", "SIH_COMPAT=true")
    assert answer["statusCode"] == 200, answer
    assert answer["headers"]["Content-Type"] == "image/webp"
    assert image_of(answer).size == (300, 169)
    line = json.loads(log.splitlines()[-1])
    assert (line["key"], line["operations"][0]) == ("dandelions.jpg", "resize 300x169")


def test_invoke_local_direct_invocation() -> None:
    answer, _ = invoke_local("direct", "--stage", "local")
    # No detectors on the local stage: the crop is centred, as Thumbor's smart/ without any.
    assert answer["status"] == 200
    assert answer["url"] == "/unsafe/300x300/smart/astronaut.jpg"
    assert answer["cropBox"] == {"left": 0, "top": 0, "right": 512, "bottom": 512}
    assert (answer["width"], answer["height"]) == (300, 300)
    unknown, _ = invoke_local("direct-unknown", "--stage", "local")
    assert unknown["status"] == 400
    assert unknown["code"] == "UnknownFeature"


def test_invoke_local_against_s3(moto_aws: MotoAws) -> None:
    source, results = moto_aws.bucket("src"), moto_aws.bucket("res")
    s3 = moto_aws.client("s3")
    body = (ROOT / "samples" / "astronaut.jpg").read_bytes()
    s3.put_object(Bucket=source, Key="astronaut.jpg", Body=body)
    answer, _ = invoke_local(
        "thumbor",
        "--stage",
        "local",
        f"--param=sourceBuckets={source}",
        f"--param=resultBucket={results}",
        **moto_aws.env(),
    )
    assert answer["statusCode"] == 200, base64.b64decode(answer["body"])
    assert image_of(answer).size == (300, 300)
    stored = s3.list_objects_v2(Bucket=results)["Contents"]
    assert [item["Key"].split("/")[0] for item in stored] == ["results"]


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port, lambda_port = free_port(), free_port()
    logs = tmp_path_factory.mktemp("offline") / "offline.log"
    command = [str(NPX), "sls", "offline", "--stage", "local", "--httpPort", str(port)]
    command += ["--lambdaPort", str(lambda_port)]
    with open(logs, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=sls_env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole below
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise AssertionError(logs.read_text())
            try:
                if fetch(port, "/healthcheck")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(logs.read_text()) from None
                time.sleep(0.3)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def fetch(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path)
        reply = connection.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        connection.close()


def test_offline_serves_thumbor_urls(offline: int) -> None:
    status, headers, body = fetch(offline, "/unsafe/fit-in/200x200/dandelions.jpg")
    assert status == 200
    assert headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(body)).size[0] == 200
    status, headers, body = fetch(offline, "/unsafe/100x0/pan.gif", method="HEAD")
    assert status == 200
    assert body == b""
    assert int(headers["content-length"]) > 0
    status, headers, body = fetch(offline, "/unsafe/100x100/none-such.jpg")
    assert status == 404
    assert json.loads(body)["code"] == "NoSuchKey"
    status, _, body = fetch(offline, "/unsafe/99999x1/astronaut.jpg")
    assert status == 413
