"""bench/cold.py on the small photo, one round: the cold-start bench runs, and `init` runs with
botocore as the Lambda zip has it (trimmed by scripts/trim_botocore.py)."""

from __future__ import annotations

import os
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench import cold
from tests import aws_fixtures
from thumbor_urls.aws.calls import CALLS


def test_the_zips_botocore_copy_has_only_our_services(tmp_path: Path) -> None:
    site = cold.zipped_botocore(tmp_path)
    data = site / "botocore" / "data"
    assert sorted(p.name for p in data.iterdir() if p.is_dir()) == sorted(CALLS)
    assert list((site / "botocore" / "__pycache__").glob("session.*.pyc"))


def test_one_round_of_each_of_our_modes_answers() -> None:
    found = cold.measure(1, ["800x600"], ["lazy", "init", "snap"])
    for mode, runs in found["800x600"].items():
        (run,) = runs
        assert run["firstMs"] > 0, mode
        assert run["wallMs"] > run["firstMs"], mode
    assert found["800x600"]["snap"][0]["restoreMs"] >= 0


def test_latency_delays_every_aws_call_and_only_one_wait_is_before_the_answer() -> None:
    """`--latency`: each AWS answer 200 ms late. The first request looks its result up (a miss)
    and requests the photo at the same time, one wait, and writes the result after its answer,
    the extension registered with the stand-in runtime API (one after the other, the three
    calls would take 600 ms)."""
    (run,) = cold.measure(1, ["800x600"], ["init"], latency=200)["800x600"]["init"]
    assert 200 <= run["firstMs"] < 380


def test_one_round_over_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--tls`: moto behind a TLS front on loopback, the handler trusting it through
    AWS_CA_BUNDLE; its init and first request (the secret, the photo, the result) over TLS."""
    secure: list[bool] = []  # for each connection the proxies accept: over TLS?
    get_request = aws_fixtures._Server.get_request

    def recording(server: Any) -> tuple[Any, Any]:
        found = get_request(server)
        secure.append(isinstance(server.socket, ssl.SSLSocket))
        return found

    monkeypatch.setattr(aws_fixtures._Server, "get_request", recording)
    found = cold.measure(1, ["800x600"], ["init"], tls=True)
    (run,) = found["800x600"]["init"]
    assert run["firstMs"] > 0
    assert secure and all(secure), secure


def test_our_modes_run_without_the_development_installs_hooks(tmp_path: Path) -> None:
    """The bare interpreter finds the packages on PYTHONPATH, as Lambda finds the zip's, and
    runs none of this venv's .pth files (the editable install's finder among them)."""
    python = cold.bare_interpreter(tmp_path / "python")
    shown = subprocess.run(
        [str(python), "-c", "import sys, PIL, botocore; print(sys.meta_path)"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(cold.installed())},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "editable" not in shown.stdout, shown.stdout
    assert "editable" in "".join(p.name for p in Path(cold.installed()[0]).glob("*.pth"))
