"""Lambda's init phase and SnapStart's hooks (thumbor_urls/aws/lifecycle.py), against moto: what
init builds, what the first request then no longer builds, and what the snapshot and restore
hooks undo, with a fake `snapshot_restore_py` (only Lambda's Python runtime has the real one)."""

from __future__ import annotations

import ast
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import UnknownServiceError  # type: ignore[import-untyped]

from tests.lambda_stack import Stack
from thumbor_urls.aws import clients, lambda_handler, lifecycle, secrets
from thumbor_urls.aws.calls import CALLS
from thumbor_urls.config import SettingError, Settings
from thumbor_urls.signing import sign_path

ROOT = Path(__file__).resolve().parent.parent


class FakeHooks(ModuleType):
    """snapshot_restore_py's two registration functions, recording what was registered."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[Callable[[], None]] = []
        self.after: list[Callable[[], None]] = []

    def register_before_snapshot(self, hook: Callable[[], None]) -> None:
        self.before.append(hook)

    def register_after_restore(self, hook: Callable[[], None]) -> None:
        self.after.append(hook)

    def snapshot_and_restore(self) -> None:
        for hook in self.before:
            hook()
        for hook in self.after:
            hook()


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> FakeHooks:
    fake = FakeHooks()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    return fake


def pooled_connections(client: Any) -> int:
    return len(client._endpoint.http_session._manager.pools)


def test_init_builds_what_the_first_request_used_to(stack: Stack) -> None:
    done = lifecycle.prepare()
    assert done["clients"] == ["s3"]
    assert "service" in lambda_handler._CONTAINER
    s3 = clients.client("s3", 2.0)
    built = dict(clients._CLIENTS)
    answer = stack.get("/unsafe/40x30/astronaut.jpg")
    assert answer.status == 200, answer.body
    assert answer.log["coldStart"] is True  # still the container's first request
    assert dict(clients._CLIENTS) == built  # no client built by the request
    assert clients.client("s3", 2.0) is s3
    assert pooled_connections(s3) == 1  # the request used the init's client


def test_init_reads_the_secrets_and_a_failure_is_left_to_the_first_request(
    stack: Stack,
) -> None:
    name = stack.signing_secret("init-key")
    done = lifecycle.prepare()
    assert done["clients"] == ["secretsmanager", "s3"]
    assert dict(secrets._VALUES) == {(name, ""): "init-key"}
    stack.configure(SECRETS_MANAGER="no-such-secret")
    secrets.forget()
    done = lifecycle.prepare()
    assert done["serviceError"] == "ServiceUnavailable"
    answer = stack.get(sign_path("init-key", "40x30/astronaut.jpg"))
    assert answer.status == 503  # as before init built anything: and the next one tries again


def secret_reads(stack: Stack) -> int:
    return sum(1 for method, path in stack.aws.proxy.seen if (method, path) == ("POST", "/"))


def test_the_secrets_are_read_while_the_other_clients_are_built(stack: Stack) -> None:
    stack.signing_secret("ahead-key")
    origin = f"origin-{stack.source}"
    stack.aws.client("secretsmanager").create_secret(Name=origin, SecretString="origin-token")
    stack.configure(ORIGIN_SECRET=origin)
    stack.aws.proxy.clear()
    timeout = Settings.from_env().S3_TIMEOUT_SECONDS
    seen: dict[str, object] = {}

    def hold(**kwargs: Any) -> None:
        """Keep the read on the wire until S3's client exists (up to 10 s): it only gets
        there if another thread builds it meanwhile."""
        seen["thread"] = threading.current_thread().name
        deadline = time.monotonic() + 10
        while ("s3", timeout) not in clients._CLIENTS and time.monotonic() < deadline:
            time.sleep(0.005)
        seen.setdefault("s3 built meanwhile", ("s3", timeout) in clients._CLIENTS)

    reader = clients.client("secretsmanager", timeout)
    reader.meta.events.register("before-send.secrets-manager.GetSecretValue", hold)
    done = lifecycle.prepare()
    assert "serviceError" not in done
    assert seen == {"thread": "thumbor-urls-secrets", "s3 built meanwhile": True}
    assert secret_reads(stack) == 2  # each secret once: the service found them read
    service = lambda_handler._CONTAINER["service"]
    assert (service.settings.SECURITY_KEY, service.origin_token) == ("ahead-key", "origin-token")


# Records, when the secrets' read starts, whether the pipeline or Pillow is imported yet.
EARLY_READ = """
import json, sys
from thumbor_urls.aws import secrets
read = secrets.read_ahead
def recording(*args):
    imported = any(name in sys.modules for name in ("thumbor_urls.pipeline", "PIL.Image"))
    sys.stderr.write(json.dumps({"pipelineImported": imported}) + "\\n")
    return read(*args)
secrets.read_ahead = recording
import handler
"""


def test_handler_starts_the_secrets_read_before_importing_the_pipeline(stack: Stack) -> None:
    name = stack.signing_secret("early")
    env = {**stack.aws.env(), "AWS_LAMBDA_FUNCTION_NAME": "image", "ENABLE_SIGNATURE": "Yes"}
    env |= {"SECRETS_MANAGER": name, "SOURCE_BUCKETS": stack.source, "DETECTORS": ""}
    read, init = run_code(EARLY_READ, env)
    assert read == {"pipelineImported": False}
    assert init["event"] == "init" and "serviceError" not in init


def test_clients_share_one_session_and_keep_working_without_their_connections(
    stack: Stack,
) -> None:
    s3 = clients.client("s3", 2.0)
    other = clients.client("secretsmanager", 2.0)
    assert s3._loader is other._loader  # one session: the service models are loaded once
    assert stack.get("/unsafe/40x30/astronaut.jpg").status == 200
    assert pooled_connections(s3) == 1
    assert clients.drop_connections() == 2
    assert pooled_connections(s3) == 0
    assert stack.get("/unsafe/41x30/astronaut.jpg").status == 200  # a new connection


def test_every_client_the_package_makes_is_one_the_loader_names(stack: Stack) -> None:
    # The loader answers botocore's "which services exist" with SERVICES, not a directory scan:
    # each must still load its model, and no code may ask for a service left out of it.
    package = Path(clients.__file__).parent.parent
    asked = {
        name
        for path in package.rglob("*.py")
        for name in re.findall(r"client\(\s*\"([a-z0-9-]+)\"", path.read_text())
    }
    assert asked == set(clients.SERVICES)
    for name in clients.SERVICES:
        assert clients.client(name, 2.0).meta.service_model.service_name == name
    with pytest.raises(UnknownServiceError):
        clients.client("sts", 2.0)


def test_every_aws_call_in_the_package_is_in_calls(stack: Stack) -> None:
    # The Lambda zip's botocore knows only CALLS (scripts/trim_botocore.py): an operation called
    # anywhere else would be an AttributeError there. Any name in the code (an attribute, or a
    # string as in RekognitionService.call("detect_faces")) that is an operation of one of the
    # services counts as a call.
    package = Path(clients.__file__).parent.parent
    names: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
    for service, operations in CALLS.items():
        api = clients.client(service, 2.0).meta.method_to_api_mapping
        called = {api[name] for name in names & api.keys()}
        assert called == set(operations), service


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, []),
        ({"SOURCE_BUCKETS": ("photos",)}, ["s3"]),
        ({"ENABLE_DEFAULT_FALLBACK_IMAGE": True}, ["s3"]),
        ({"SECRETS_MANAGER": "signing"}, []),  # signing off: the secret is never read
        ({"SECRETS_MANAGER": "signing", "ENABLE_SIGNATURE": True}, ["secretsmanager"]),
        (
            {
                "ORIGIN_SECRET": "origin",
                "RESULT_STORAGE_BUCKET": "res",
                "DETECTORS": ("rekognition",),
            },
            ["secretsmanager", "s3", "rekognition"],
        ),
        ({"MODERATION": True, "MODERATION_BACKEND": "rekognition"}, ["rekognition"]),
        ({"MODERATION": True, "MODERATION_BACKEND": "none"}, []),
    ],
)
def test_init_builds_the_clients_the_settings_call(
    settings: dict[str, Any], expected: list[str]
) -> None:
    base = Settings.from_env({}).replace(DETECTORS=())
    assert lifecycle.needed_clients(base.replace(**settings)) == expected


def test_a_failing_init_is_logged_and_left_to_the_first_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(settings: Settings | None = None) -> None:
        raise SettingError("MAX_SOURCE_PIXELS: not a number")

    monkeypatch.setattr(lambda_handler, "build_service", broken)
    lifecycle.init(0.0)
    (line,) = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert line["event"] == "init"
    assert line["error"] == "SettingError: MAX_SOURCE_PIXELS: not a number"


def test_hooks_register_only_where_the_runtime_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert lifecycle.register_hooks() is False


def test_snapshot_keeps_no_secret_nor_connection_and_restore_reads_a_rotated_key(
    stack: Stack, hooks: FakeHooks
) -> None:
    name = stack.signing_secret("before-snapshot")
    lifecycle.prepare()
    assert lifecycle.register_hooks() is True
    assert (len(hooks.before), len(hooks.after)) == (1, 1)
    s3 = clients.client("s3", 2.0)
    assert stack.get(sign_path("before-snapshot", "40x30/astronaut.jpg")).status == 200
    assert pooled_connections(s3) == 1
    hooks.before[0]()
    assert secrets._VALUES == {}
    assert "service" not in lambda_handler._CONTAINER
    assert pooled_connections(s3) == 0
    # The key rotates while the version's snapshot waits; a restore serves with the new one.
    stack.aws.client("secretsmanager").put_secret_value(SecretId=name, SecretString="rotated")
    hooks.after[0]()
    restore = [json.loads(line) for line in stack.capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in restore] == ["restore"]
    assert stack.get(sign_path("rotated", "40x30/astronaut.jpg")).status == 200
    old = stack.get(sign_path("before-snapshot", "40x30/astronaut.jpg"))
    assert (old.status, old.json()["code"]) == (403, "SignatureDoesNotMatch")
    assert clients.client("s3", 2.0) is s3  # the client itself is kept: that is the point


def test_restore_reseeds_random(hooks: FakeHooks) -> None:
    assert lifecycle.register_hooks() is True
    random.seed(1234)  # as every environment restored from one snapshot would share it
    shared = random.random()
    random.seed(1234)
    hooks.after[0]()
    assert random.random() != shared


def run_handler_import(env: dict[str, str], hooks_dir: Path | None) -> list[dict[str, Any]]:
    """Import handler.py in a fresh process; its log lines. With `hooks_dir`, a fake
    snapshot_restore_py there whose hooks the child runs after the import."""
    code = "import handler\n"
    if hooks_dir is not None:
        code += "import snapshot_restore_py as h\nh.snapshot_and_restore()\n"
    return run_code(code, env, hooks_dir)


def run_code(code: str, env: dict[str, str], hooks_dir: Path | None = None) -> list[dict[str, Any]]:
    """Run `code` in a fresh process with the repository on its path; its JSON log lines."""
    path = [str(ROOT), *([str(hooks_dir)] if hooks_dir else [])]
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    settings = {"SOURCE_BUCKETS": "photos", "AWS_DEFAULT_REGION": "us-east-1", "DETECTORS": ""}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**keep, **settings, "PYTHONPATH": os.pathsep.join(path), **env}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]


FAKE_MODULE = """
before, after = [], []
register_before_snapshot = before.append
register_after_restore = after.append
def snapshot_and_restore():
    for hook in before + after:
        hook()
"""


def test_handler_module_inits_on_lambda_only(tmp_path: Path) -> None:
    assert run_handler_import({}, None) == []  # the tests' and the local server's import
    (line,) = run_handler_import({"AWS_LAMBDA_FUNCTION_NAME": "image"}, None)
    assert line["event"] == "init"
    assert (line["initType"], line["snapStartHooks"], line["clients"]) == (
        "on-demand", False, ["s3"]
    )  # fmt: skip
    assert line["importMs"] > 0 and line["prepareMs"] > 0
    assert "pillowPlugins" not in line  # the rare codecs wait for their first use
    (tmp_path / "snapshot_restore_py.py").write_text(FAKE_MODULE)
    snap = {"AWS_LAMBDA_FUNCTION_NAME": "image", "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    init, restore = run_handler_import(snap, tmp_path)
    assert (init["initType"], init["snapStartHooks"]) == ("snap-start", True)
    assert init["pillowPlugins"] > 20  # every format's plugin, in the snapshot
    assert restore["event"] == "restore" and restore["ms"] >= 0
