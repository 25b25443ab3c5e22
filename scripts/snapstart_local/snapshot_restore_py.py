"""A stand-in for Lambda's `snapshot_restore_py`, to see SnapStart's split locally (docs/aws.md,
"SnapStart"): with this folder on PYTHONPATH and `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`,

    npx sls invoke local -f image -p events/thumbor.json --stage local \\
      -e AWS_LAMBDA_INITIALIZATION_TYPE=snap-start -e PYTHONPATH=scripts/snapstart_local

the handler's init registers its hooks here, and they run at once: the before-snapshot hooks,
then each after-restore hook as it registers, as if Lambda had taken the snapshot at the end of
the init and restored it for the invocation that follows. Only the hooks run: no memory is saved
or brought back. Never packaged (serverless.yml packages handler.py and thumbor_urls/ only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_BEFORE: list[Callable[[], Any]] = []


def register_before_snapshot(hook: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    _BEFORE.append(lambda: hook(*args, **kwargs))


def register_after_restore(hook: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    while _BEFORE:  # the snapshot is "taken" here, once, before the first restore hook
        _BEFORE.pop()()
    hook(*args, **kwargs)
