"""Lambda's init phase and SnapStart's snapshot and restore, for handler.py.

On Lambda, everything that does not depend on a request is built while the module is imported:
Lambda runs that before the first event arrives, and with SnapStart it runs once per published
version and is kept in the snapshot. That is the settings, the App, the AWS clients (the S3
client alone is 20-30 ms of what used to be the first request: clients.py) and the secrets.
Reading the secrets is mostly waiting for Secrets Manager, so handler.py starts it in a thread
before importing the pipeline (read_secrets_ahead), and the imports and the other clients use
the CPU meanwhile; this module imports neither the pipeline nor Pillow for that reason.

SnapStart restores one snapshot into many environments. What must not be shared between them,
or must not outlive the version, is undone by runtime hooks (`snapshot_restore_py`, which only
Lambda's Python runtime has): before the snapshot the secrets and the service holding them are
forgotten (a rotated key is read at the next restore, as a new environment reads it without
SnapStart) and the pooled connections closed; after a restore `random` is reseeded.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from .. import background
from ..config import Settings
from ..errors import ImageServiceError
from . import clients, secrets

# Lambda sets it for the init phase: "on-demand", "provisioned-concurrency" or "snap-start".
INIT_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"


def on_lambda() -> bool:
    """Running as a Lambda function (or under `sls invoke local`, which sets the same name);
    not when the tests import the handler with settings of their own."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def snapshotting() -> bool:
    return os.environ.get(INIT_TYPE) == "snap-start"


_READING: list[Callable[[], object]] = []  # the secrets' read ahead, until prepare() waits


def read_secrets_ahead(settings: Settings | None = None) -> bool:
    """Start reading the secrets the service will need, in a thread, for prepare() to wait for;
    whether there were any to read."""
    if _READING:
        return False
    try:
        settings = settings or Settings.from_env()
        wanted = secrets_to_read(settings)
        timeout = _timeout(settings, "secretsmanager")
        if wanted:
            # Its client here: two threads must not build clients from one session at once,
            # and the reading thread would otherwise wait for S3's to be built first.
            clients.client("secretsmanager", timeout)
    except Exception:  # a bad setting, say: prepare() meets it again and reports it
        return False
    if wanted:
        reading = background.start(
            "thumbor-urls-secrets", lambda: secrets.read_ahead(wanted, timeout)
        )
        _READING.append(reading)
    return bool(wanted)


def secrets_to_read(settings: Settings) -> list[tuple[str, str, str]]:
    """The secrets (id, JSON field, what they are) that the service reads for these settings."""
    wanted = []
    if settings.ENABLE_SIGNATURE and settings.SECRETS_MANAGER:
        wanted.append((settings.SECRETS_MANAGER, settings.SECRET_KEY, "signing key"))
    if settings.ORIGIN_SECRET:
        wanted.append((settings.ORIGIN_SECRET, "", "origin secret"))
    return wanted


def prepare(settings: Settings | None = None) -> dict[str, Any]:
    """Build the container's service and the clients it will call; what was done, with its
    milliseconds. A secret that cannot be read is left to the first request, which answers 503
    and tries again, as it did before this ran at init."""
    from . import lambda_handler  # noqa: PLC0415 - the pipeline: see the module's docstring

    started = time.perf_counter()
    done: dict[str, Any] = {}
    configured = settings or lambda_handler.container_settings()
    read_secrets_ahead(configured)  # unless handler.py did: it overlaps the clients' building
    done["clients"] = needed_clients(configured)
    for name in done["clients"]:
        clients.client(name, _timeout(configured, name))
    if snapshotting():
        # Every format's plugin (20-30 ms here, more on Lambda's CPU; the on-demand init leaves
        # the rare ones to their first use), free once in the snapshot: no request after a
        # restore waits for a rarer codec's import.
        from PIL import Image  # noqa: PLC0415 - imported by handler.py already

        Image.init()
        done["pillowPlugins"] = len(Image.OPEN)
    reading = _READING.pop() if _READING else None
    try:
        if reading is not None:
            reading()  # a secret that failed here: the service would only read it again
        lambda_handler.build_service(settings)
    except ImageServiceError as error:
        done["serviceError"] = error.code
    done["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return done


def register_after_answer(settings: Settings | None = None) -> bool:
    """Register the extension that writes results after the answer (after_answer.py) where it
    applies: Lambda's runtime API is there, results go to a bucket, RESULT_STORAGE_AFTER_ANSWER
    is on, and not under SnapStart; whether it is registered. Before the service is built: the
    service defers its writes only with it."""
    from . import lambda_handler  # noqa: PLC0415 - the pipeline: see the module's docstring
    from .after_answer import AfterAnswer  # noqa: PLC0415 - with lambda_handler

    settings = settings or Settings.from_env()
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
    wanted = settings.RESULT_STORAGE_BUCKET and settings.RESULT_STORAGE_AFTER_ANSWER
    if not (address and wanted) or snapshotting() or lambda_handler.after_answer():
        return False
    extension = AfterAnswer.register(address)
    if extension is None:
        return False
    lambda_handler.write_after_answer(extension)
    return True


def needed_clients(settings: Settings) -> list[str]:
    """The AWS services this configuration calls, in the order they are built."""
    names = []
    if secrets_to_read(settings):
        names.append("secretsmanager")
    buckets = settings.SOURCE_BUCKETS or settings.RESULT_STORAGE_BUCKET
    if buckets or settings.ENABLE_DEFAULT_FALLBACK_IMAGE:
        names.append("s3")
    moderated = settings.MODERATION and settings.MODERATION_BACKEND == "rekognition"
    if "rekognition" in (settings.DETECTORS or ()) or moderated:
        names.append("rekognition")
    return names


def _timeout(settings: Settings, name: str) -> float:
    if name == "rekognition":
        return settings.REKOGNITION_TIMEOUT_SECONDS
    return settings.S3_TIMEOUT_SECONDS  # what the S3 stores and secrets.py are given


def before_snapshot() -> None:
    """Nothing secret or pooled in the snapshot: see the module's docstring."""
    from . import lambda_handler  # noqa: PLC0415 - the pipeline: see the module's docstring

    if secrets.forget():  # the service holds the keys it was built with: built again
        lambda_handler.forget_service()
    clients.drop_connections()


def after_restore() -> None:
    """Each restored environment its own random sequence; no connection of another's."""
    # botocore imports `random` (its retries' jitter), the core only for noise(): whoever did,
    # the state every restored environment shares is reseeded (not imported here if nobody did).
    shared = sys.modules.get("random")
    if shared is not None:
        shared.seed()
    clients.drop_connections()


def hooks_module() -> Any:
    """Lambda's `snapshot_restore_py`, or None where this runtime has none (not on Lambda, or a
    runtime before SnapStart for Python)."""
    try:
        return importlib.import_module("snapshot_restore_py")
    except ImportError:
        return None


def register_hooks(hooks: Any = None) -> bool:
    """Register the SnapStart hooks with `hooks` (by default `snapshot_restore_py`, when this
    runtime has it); whether they were."""
    hooks = hooks or hooks_module()
    if hooks is None:
        return False
    register: Callable[..., Any] = hooks.register_before_snapshot
    register(before_snapshot)
    hooks.register_after_restore(_logged(after_restore, "restore"))
    return True


def _logged(hook: Callable[[], None], phase: str) -> Callable[[], None]:
    def run() -> None:
        started = time.perf_counter()
        hook()
        log({"event": phase, "ms": round((time.perf_counter() - started) * 1000, 1)})

    return run


def log(line: dict[str, Any]) -> None:
    sys.stderr.write(json.dumps(line) + "\n")
    sys.stderr.flush()


def init(started: float) -> None:
    """handler.py's import on Lambda: prepare, log one line with the split of the init
    (`importMs` since `started`, `prepareMs`), as the request lines log theirs, and register the
    hooks (last: the local stand-in, scripts/snapstart_local, runs them as they register)."""
    imported = time.perf_counter()
    try:
        after = register_after_answer()
        done = prepare()
        done["afterAnswer"] = after
    except Exception as error:  # a bad setting, say: the first request reports it
        # Failing the init would only make Lambda retry it at each invocation; the request
        # builds the service again and answers with the error, as it did before init built it.
        done = {"ms": round((time.perf_counter() - imported) * 1000, 1)}
        done["error"] = f"{type(error).__name__}: {error}"
    hooks = hooks_module()
    log(
        {
            "event": "init",
            "initType": os.environ.get(INIT_TYPE, "on-demand"),
            "importMs": round((imported - started) * 1000, 1),
            "prepareMs": done.pop("ms"),
            "snapStartHooks": hooks is not None,
            **done,
        }
    )
    register_hooks(hooks)
