"""Trim the botocore that a Lambda zip carries to the AWS calls this package makes.

A process's first client parses its service's whole model and botocore's endpoint table: for S3
about 2.5 MB of JSON (the model's 116 operations, three quarters of it documentation, and every
service's endpoints), 40-60 ms of every cold start here. This keeps, in the zip's
`botocore/data`:

- the services in `thumbor_urls.aws.calls.CALLS`, each service model cut down to the
  operations listed there and the shapes they reach, their documentation emptied;
- `endpoints.json` with only those services in each partition;
- every other file of botocore's data folder root (partitions, retry and default configurations).

Every other service, and the examples, paginators and waiters of the kept ones, go: botocore
loads them only when asked (a paginator, a waiter, a client for another service), which nothing
in the package does. The rules that pick an endpoint (endpoint-rule-set-1) stay whole.

Next to botocore's CA bundle (cacert.pem) it also writes the same certificates as OpenSSL's
hashed directory (`cacert.pem.hashed/<subject hash>.<n>`, made by `openssl rehash`), which
thumbor_urls/aws/clients.py gives the TLS context instead of the bundle: OpenSSL then reads only
the certificates a handshake asks for, where the bundle costs 16-26 ms of parsing at every cold
start. Without an `openssl` command on the packaging machine the folder is left out (one line
on stderr says so) and the bundle is used as before.

The same function trims a folder (the cold-start benchmark's copy of botocore) or a zip (after
`sls package`, from scripts/lambda-zip.js, before the bytecode is added).

Usage: python scripts/trim_botocore.py .serverless/thumbor-urls.zip
       python scripts/trim_botocore.py path/to/a/copy/of/botocore/data
       python scripts/trim_botocore.py path/to/a/bundle.pem   (writes bundle.pem.hashed/)
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from thumbor_urls.aws.calls import CALLS  # noqa: E402

DATA = "botocore/data/"
BUNDLE = "botocore/cacert.pem"
HASHED = ".hashed"  # the folder next to a bundle that holds it hashed (clients.py reads it)
_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.S)
_HASH_NAME = re.compile(r"^[0-9a-f]{8}\.[0-9]+$")
_UNHASHED = "no `openssl rehash`: botocore's CA bundle stays unhashed"
# The files a service's folder keeps: its model and the rules that give its endpoints.
KEPT = (
    "service-2.json",
    "service-2.json.gz",
    "service-2.sdk-extras.json",  # botocore merges it into the model
    "endpoint-rule-set-1.json",
    "endpoint-rule-set-1.json.gz",
)
# Written without gzip: reading it back costs a few milliseconds that a few KB do not justify.
MODEL = "service-2.json"


def _shape_names(shape: Mapping[str, Any]) -> Iterable[str]:
    """The shapes that `shape` refers to (members, list members, map keys and values)."""
    for member in shape.get("members", {}).values():
        yield member["shape"]
    for key in ("member", "key", "value"):
        if key in shape:
            yield shape[key]["shape"]


def _undocumented(value: Any) -> Any:
    # Emptied, not removed: botocore reads some (clientContextParams') without a default.
    if isinstance(value, dict):
        return {k: "" if k == "documentation" else _undocumented(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_undocumented(v) for v in value]
    return value


def trim_model(model: Mapping[str, Any], operations: Iterable[str]) -> dict[str, Any]:
    """`model` (a service-2.json) with only `operations` and the shapes they reach."""
    kept_operations = {name: model["operations"][name] for name in operations}
    wanted: list[str] = []
    for operation in kept_operations.values():
        for key in ("input", "output"):
            if key in operation:
                wanted.append(operation[key]["shape"])
        wanted.extend(error["shape"] for error in operation.get("errors", ()))
    shapes: dict[str, Any] = {}
    while wanted:
        name = wanted.pop()
        if name not in shapes:
            shapes[name] = model["shapes"][name]
            wanted.extend(_shape_names(shapes[name]))
    trimmed = dict(model, operations=kept_operations, shapes=shapes)
    return _undocumented(trimmed)  # type: ignore[no-any-return]


def trim_endpoints(endpoints: Mapping[str, Any], services: Iterable[str]) -> dict[str, Any]:
    """endpoints.json with only `services` in each partition."""
    endpoint_prefixes = set(services)
    partitions = [
        dict(partition, services={
            name: value for name, value in partition["services"].items()
            if name in endpoint_prefixes
        })
        for partition in endpoints["partitions"]
    ]  # fmt: skip
    return dict(endpoints, partitions=partitions)


def _endpoint_prefix(model: Mapping[str, Any]) -> str:
    return str(model["metadata"]["endpointPrefix"])


def trimmed_data(read: Callable[[str], bytes], names: Iterable[str]) -> dict[str, bytes | None]:
    """What becomes of each file of botocore's data folder, given `names` (paths under it) and
    `read(name) -> bytes`: new bytes, or None to drop it; files not in the answer stay."""
    changes: dict[str, bytes | None] = {}
    prefixes = []
    for name in names:
        parts = name.split("/")
        if len(parts) == 1:
            continue  # the folder's root files: endpoints.json is rewritten below
        service = parts[0]
        if service not in CALLS or len(parts) != 3 or parts[2] not in KEPT:
            changes[name] = None
            continue
        if parts[2] in ("service-2.json", "service-2.json.gz"):
            raw = read(name)
            model = json.loads(gzip.decompress(raw) if name.endswith(".gz") else raw)
            prefixes.append(_endpoint_prefix(model))
            changes[name] = None
            trimmed = trim_model(model, CALLS[service])
            changes[f"{parts[0]}/{parts[1]}/{MODEL}"] = json.dumps(trimmed).encode()
    endpoints = json.loads(read("endpoints.json"))
    changes["endpoints.json"] = json.dumps(trim_endpoints(endpoints, prefixes)).encode()
    return changes


def hashed_certificates(pem: bytes) -> dict[str, bytes] | None:
    """The certificates of PEM bundle `pem` as OpenSSL's hashed directory would hold them:
    {"<subject hash>.<n>": certificate}; None without a working `openssl rehash`."""
    with tempfile.TemporaryDirectory() as folder:
        for index, certificate in enumerate(_CERTIFICATE.findall(pem)):
            Path(folder, f"{index}.pem").write_bytes(certificate)
        try:
            subprocess.run(["openssl", "rehash", folder], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            return None
        return {
            link.name: link.read_bytes()
            for link in sorted(Path(folder).iterdir())
            if _HASH_NAME.match(link.name) and link.is_symlink()
        }


def write_hashed(bundle: Path) -> bool:
    """`<bundle>.hashed/`, OpenSSL's hashed directory of `bundle`; whether it was made."""
    hashed = hashed_certificates(bundle.read_bytes())
    if not hashed:
        return False
    folder = bundle.with_name(bundle.name + HASHED)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name, certificate in hashed.items():
        (folder / name).write_bytes(certificate)
    return True


def trim_folder(botocore_data: Path) -> None:
    """Trim a botocore/data folder in place."""
    names = [
        path.relative_to(botocore_data).as_posix()
        for path in botocore_data.rglob("*")
        if path.is_file()
    ]
    for name, data in trimmed_data(lambda n: (botocore_data / n).read_bytes(), names).items():
        path = botocore_data / name
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data)
    for folder in sorted(botocore_data.rglob("*"), reverse=True):  # the deepest first
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    bundle = botocore_data.parent / "cacert.pem"
    if bundle.exists() and not write_hashed(bundle):
        print(_UNHASHED, file=sys.stderr)


def trim_zip(archive: Path) -> int | None:
    """Trim the botocore inside a Lambda zip (replaced atomically); how many entries went, or
    None for a zip without botocore, left as it is."""
    with zipfile.ZipFile(archive) as zipped:
        entries = {e.filename: e for e in zipped.infolist() if not e.is_dir()}
        names = [n[len(DATA) :] for n in entries if n.startswith(DATA)]
        if not names:
            return None
        changes = trimmed_data(lambda n: zipped.read(DATA + n), names)
        hashed = hashed_certificates(zipped.read(BUNDLE)) if BUNDLE in entries else None
        if hashed is None:
            print(_UNHASHED, file=sys.stderr)
        # New entries: written now, dated and permissioned as the zip's own data files.
        added = {DATA + name: data for name, data in changes.items() if data is not None}
        added.update({f"{BUNDLE}{HASHED}/{name}": pem for name, pem in (hashed or {}).items()})
        handle, temporary = tempfile.mkstemp(dir=archive.parent, suffix=".zip")
        os.close(handle)
        try:
            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as out:
                for name, entry in entries.items():
                    if name.startswith(DATA) and name[len(DATA) :] in changes:
                        continue
                    if hashed is not None and name.startswith(BUNDLE + HASHED + "/"):
                        continue  # written again below
                    out.writestr(entry, zipped.read(entry), compresslevel=9)
                template = entries[DATA + "endpoints.json"]
                for name, data in added.items():
                    info = zipfile.ZipInfo(name, date_time=template.date_time)
                    info.external_attr = template.external_attr
                    info.create_system = template.create_system
                    out.writestr(info, data, zipfile.ZIP_DEFLATED, compresslevel=9)
            shutil.copymode(archive, temporary)
            os.replace(temporary, archive)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    return sum(1 for data in changes.values() if data is None)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    target = Path(argv[0])
    if target.is_dir():
        trim_folder(target)
        return 0
    if target.suffix == ".pem":
        return 0 if write_hashed(target) else 1
    dropped = trim_zip(target)
    if dropped is not None:  # silent otherwise: the plugin logs what is printed
        print(f"botocore trimmed to {', '.join(sorted(CALLS))}: {dropped} data files dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
