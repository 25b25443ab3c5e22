"""scripts/trim_botocore.py: the Lambda zip's botocore cut down to the package's AWS calls
(thumbor_urls/aws/calls.py). Here on this environment's botocore data; the packaged zip's copy
is run against moto in test_deploy_template.py."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import botocore  # type: ignore[import-untyped]
import pytest
from botocore.model import ServiceModel, Shape  # type: ignore[import-untyped]

from thumbor_urls.aws.calls import CALLS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import trim_botocore  # noqa: E402

DATA = Path(botocore.__file__).parent / "data"


def full_model(service: str) -> dict[str, Any]:
    (path,) = (DATA / service).glob("*/service-2.json.gz")
    return json.loads(gzip.decompress(path.read_bytes()))  # type: ignore[no-any-return]


def described(shape: Shape | None, seen: frozenset[str] = frozenset()) -> Any:
    """A shape as botocore's model reads it, members and all (recursive shapes cut at the
    repeat), without the documentation."""
    if shape is None:
        return None
    if shape.name in seen:
        return shape.name
    seen = seen | {shape.name}
    if shape.type_name == "structure":
        inner: Any = {name: described(member, seen) for name, member in shape.members.items()}
    elif shape.type_name == "list":
        inner = described(shape.member, seen)
    elif shape.type_name == "map":
        inner = (described(shape.key, seen), described(shape.value, seen))
    else:
        inner = shape.metadata
    return (shape.name, shape.type_name, shape.serialization, inner)


@pytest.mark.parametrize("service", sorted(CALLS))
def test_the_kept_operations_read_as_in_the_full_model(service: str) -> None:
    full = ServiceModel(full_model(service))
    trimmed_json = trim_botocore.trim_model(full_model(service), CALLS[service])
    trimmed = ServiceModel(trimmed_json)
    assert sorted(trimmed.operation_names) == sorted(CALLS[service])
    for name in CALLS[service]:
        before, after = full.operation_model(name), trimmed.operation_model(name)
        assert described(after.input_shape) == described(before.input_shape)
        assert described(after.output_shape) == described(before.output_shape)
        assert [e.name for e in after.error_shapes] == [e.name for e in before.error_shapes]
        assert after.http == before.http
        assert after.context_parameters == before.context_parameters
        assert after.static_context_parameters == before.static_context_parameters
    assert trimmed.metadata == full.metadata
    assert [p.name for p in trimmed.client_context_parameters] == [
        p.name for p in full.client_context_parameters
    ]
    assert all(value == "" for value in _values_of("documentation", trimmed_json))
    # A few percent of the model: what makes the first client cheap.
    assert len(json.dumps(trimmed_json)) < len(json.dumps(full_model(service))) / 5


def _values_of(key: str, value: Any) -> list[Any]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k == key]
        return found + [x for v in value.values() for x in _values_of(key, v)]
    if isinstance(value, list):
        return [x for v in value for x in _values_of(key, v)]
    return []


def test_shapes_are_followed_through_lists_maps_and_errors() -> None:
    model = {
        "metadata": {"endpointPrefix": "x"},
        "operations": {
            "Used": {"input": {"shape": "In"}, "errors": [{"shape": "Oops"}]},
            "Unused": {"input": {"shape": "Other"}},
        },
        "shapes": {
            "In": {"type": "structure", "members": {"L": {"shape": "List"}}},
            "List": {"type": "list", "member": {"shape": "Map"}},
            "Map": {"type": "map", "key": {"shape": "Key"}, "value": {"shape": "In"}},
            "Key": {"type": "string", "documentation": "<p>words</p>"},
            "Oops": {"type": "structure", "members": {}},
            "Other": {"type": "string"},
        },
    }
    trimmed = trim_botocore.trim_model(model, ["Used"])
    assert list(trimmed["operations"]) == ["Used"]
    assert set(trimmed["shapes"]) == {"In", "List", "Map", "Key", "Oops"}
    assert trimmed["shapes"]["Key"] == {"type": "string", "documentation": ""}


def test_endpoints_keep_every_partition_with_our_services_only() -> None:
    endpoints = json.loads((DATA / "endpoints.json").read_text())
    trimmed = trim_botocore.trim_endpoints(endpoints, ["s3", "secretsmanager", "rekognition"])
    assert [p["partition"] for p in trimmed["partitions"]] == [
        p["partition"] for p in endpoints["partitions"]
    ]
    for before, after in zip(endpoints["partitions"], trimmed["partitions"], strict=True):
        assert set(after["services"]) <= {"s3", "secretsmanager", "rekognition"}
        assert after["services"] == {k: before["services"][k] for k in after["services"]}
        assert after["regions"] == before["regions"]
    assert "s3" in trimmed["partitions"][0]["services"]


def test_a_copy_of_botocore_trimmed_makes_only_our_clients(tmp_path: Path) -> None:
    copy = tmp_path / "botocore"
    shutil.copytree(Path(botocore.__file__).parent, copy)
    trim_botocore.trim_folder(copy / "data")
    services = sorted(p.name for p in (copy / "data").iterdir() if p.is_dir())
    assert services == sorted(CALLS)
    code = (
        "import botocore.session, botocore.exceptions, sys\n"
        "assert botocore.__file__.startswith(sys.argv[1])\n"
        "session = botocore.session.get_session()\n"
        "print(sorted(session.get_available_services()))\n"
        "s3 = session.create_client('s3', region_name='eu-west-1')\n"
        "print(sorted(s3.meta.method_to_api_mapping.values()), s3.meta.endpoint_url)\n"
        "try:\n"
        "    session.create_client('sts', region_name='eu-west-1')\n"
        "except botocore.exceptions.UnknownServiceError:\n"
        "    print('no sts')\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "y"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", code, str(copy)], env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str(sorted(CALLS))
    assert lines[1] == f"{sorted(CALLS['s3'])} https://s3.eu-west-1.amazonaws.com"
    assert lines[2] == "no sts"


def test_a_zip_without_botocore_is_left_alone_silently(tmp_path: Path) -> None:
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("handler.py", "")
    before = archive.read_bytes()
    script = ROOT / "scripts" / "trim_botocore.py"
    done = subprocess.run(
        [sys.executable, str(script), str(archive)], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert archive.read_bytes() == before
    usage = subprocess.run([sys.executable, str(script)], capture_output=True, check=False)
    assert usage.returncode == 2


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_the_bundle_hashed_as_openssl_names_its_certificates(tmp_path: Path) -> None:
    pem = (Path(botocore.__file__).parent / "cacert.pem").read_bytes()
    first_two = b"".join(trim_botocore._CERTIFICATE.findall(pem)[:2])
    hashed = trim_botocore.hashed_certificates(first_two)
    assert hashed is not None and len(hashed) == 2
    for name, certificate in hashed.items():
        (tmp_path / "one.pem").write_bytes(certificate)
        done = subprocess.run(
            ["openssl", "x509", "-subject_hash", "-noout", "-in", str(tmp_path / "one.pem")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert name.split(".")[0] == done.stdout.strip()
    every = trim_botocore.hashed_certificates(pem)
    assert every is not None and len(every) == pem.count(b"BEGIN CERTIFICATE")


def test_without_openssl_there_is_no_hashed_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert trim_botocore.hashed_certificates(b"") is None
