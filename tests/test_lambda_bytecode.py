"""scripts/add_bytecode.py on a tiny zip, and the plugin that calls it (scripts/lambda-zip.js)
with a stand-in for the framework: fast, no `sls package` (test_deploy_template.py does that)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "add_bytecode.py"
PLUGIN = ROOT / "scripts" / "lambda-zip.js"
NODE = shutil.which("node")

SOURCES = {
    "top.py": b"VALUE = 'top'\n",
    "pkg/__init__.py": b"",
    "pkg/mod.py": b"def member(x):\n    return x in {'a', 'b', 'c'}\n",
    "pkg/tool.py": b"#!/usr/bin/env python3\nprint('tool')\n",
    "stored.py": b"STORED = True\n",
}
BROKEN = {"broken.py": b"def (:\n"}  # in a wheel too, some .py files are not Python
DATA = {"pkg/data.txt": b"not a module\n"}


def tiny_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in {**SOURCES, **BROKEN, **DATA}.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6))
            info.external_attr = (0o100755 if name == "pkg/tool.py" else 0o100644) << 16
            info.compress_type = zipfile.ZIP_STORED if name == "stored.py" else zipfile.ZIP_DEFLATED
            zipped.writestr(info, data)
    return path


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def pyc_of(name: str) -> str:
    return importlib.util.cache_from_source(name)  # this interpreter's tag, as the script's


def test_adds_an_unchecked_hash_pyc_next_to_every_module(tmp_path: Path) -> None:
    archive = tiny_zip(tmp_path / "package.zip")
    with zipfile.ZipFile(archive) as zipped:
        before = [(i.filename, i.CRC, i.compress_type, i.external_attr) for i in zipped.infolist()]
    done = run_script(str(archive))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"5 {sys.implementation.cache_tag} pycs added")
    assert "not compiled: broken.py" in done.stderr
    with zipfile.ZipFile(archive) as zipped:
        infos = zipped.infolist()
        # The original entries first, untouched; then one pyc per module that compiles.
        assert [(i.filename, i.CRC, i.compress_type, i.external_attr) for i in infos[:7]] == before
        assert [i.filename for i in infos[7:]] == [pyc_of(name) for name in SOURCES]
        for name, source in SOURCES.items():
            info = zipped.getinfo(pyc_of(name))
            assert info.compress_type == zipped.getinfo(name).compress_type
            assert info.external_attr >> 16 == 0o100644
            data = zipped.read(info)
            assert data[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, not checked
            assert data[8:16] == importlib.util.source_hash(source)
        assert pyc_of("broken.py") not in zipped.namelist()
    # A second run adds nothing and changes no byte.
    first = archive.read_bytes()
    again = run_script(str(archive))
    assert again.returncode == 0
    assert again.stdout.startswith(f"0 {sys.implementation.cache_tag} pycs added")
    assert archive.read_bytes() == first


def test_python_runs_the_pycs_without_the_sources(tmp_path: Path) -> None:
    archive = tiny_zip(tmp_path / "package.zip")
    assert run_script(str(archive)).returncode == 0
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(folder)
    for name in SOURCES:
        (folder / name).write_text("this is not Python (\n")
    code = "import sys, top, pkg.mod; print(top.VALUE, pkg.mod.member('b'), pkg.mod.__cached__)"
    env = {**os.environ, "PYTHONPATH": str(folder)}
    done = subprocess.run(
        [sys.executable, "-B", "-c", code], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["top", "True", str(folder / pyc_of("pkg/mod.py"))]


def test_reproducible(tmp_path: Path) -> None:
    """The same zip in, the same bytes out: an unchanged package is not deployed again."""
    outputs = []
    for seed in ("1", "2"):
        archive = tiny_zip(tmp_path / f"package-{seed}.zip")
        command = [sys.executable, str(SCRIPT), str(archive)]
        env = {**os.environ, "PYTHONHASHSEED": seed}  # nothing may follow the hash order
        subprocess.run(command, env=env, capture_output=True, timeout=60, check=True)
        outputs.append(archive.read_bytes())
    assert outputs[0] == outputs[1]


def test_usage_and_a_broken_zip(tmp_path: Path) -> None:
    assert run_script().returncode == 2
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    done = run_script(str(bad))
    assert done.returncode != 0
    assert bad.read_bytes() == b"not a zip"
    assert list(tmp_path.iterdir()) == [bad]  # no temporary file left behind


# -- the plugin ------------------------------------------------------------------------------

HARNESS = """
const Plugin = require(process.env.PLUGIN);
const test = JSON.parse(process.env.CASE);
const warnings = [], infos = [];
const log = { warning: (m) => warnings.push(m), info: (m) => infos.push(m) };
const functions = { image: { package: { artifact: test.artifact } } };
const serverless = {
  serviceDir: test.serviceDir,
  classes: { Error },
  service: {
    provider: { runtime: test.runtime },
    package: { artifact: test.artifact },
    getFunction: (name) => functions[name],
  },
};
const plugin = new Plugin(serverless, { function: 'image' }, { log });
let error = null;
try { plugin.hooks[test.hook](); } catch (e) { error = e.message; }
process.stdout.write(JSON.stringify({ warnings, infos, error }));
"""
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


def run_plugin(
    service: Path,
    python: str | None,
    runtime: str = RUNTIME,
    artifact: str = ".serverless/thumbor-urls.zip",
    hook: str = "after:package:createDeploymentArtifacts",
) -> dict[str, Any]:
    case = {"serviceDir": str(service), "runtime": runtime, "artifact": artifact, "hook": hook}
    env = {**os.environ, "PLUGIN": str(PLUGIN), "CASE": json.dumps(case)}
    env.pop("PYTHON_FOR_LAMBDA_BYTECODE", None)
    if python is not None:
        env["PYTHON_FOR_LAMBDA_BYTECODE"] = python
    done = subprocess.run(
        [str(NODE), "-e", HARNESS], env=env, capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def service(tmp_path: Path) -> Path:
    (tmp_path / ".serverless").mkdir()
    tiny_zip(tmp_path / ".serverless" / "thumbor-urls.zip")
    return tmp_path


def pycs(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as zipped:
        return [name for name in zipped.namelist() if name.endswith(".pyc")]


needs_node = pytest.mark.skipif(NODE is None, reason="needs node (the plugin is JavaScript)")


@needs_node
@pytest.mark.parametrize("hook", ["createDeploymentArtifacts", "deploy function"])
def test_plugin_adds_the_bytecode(service: Path, hook: str) -> None:
    name = {"createDeploymentArtifacts": "after:package:createDeploymentArtifacts"}.get(
        hook, "after:deploy:function:packageFunction"
    )
    result = run_plugin(service, sys.executable, hook=name)
    assert result["error"] is None
    assert result["infos"][0].startswith(f"5 {sys.implementation.cache_tag} pycs added")
    (warning,) = result["warnings"]
    assert warning.startswith("not compiled: broken.py: ")
    assert pycs(service / ".serverless" / "thumbor-urls.zip") == [pyc_of(n) for n in SOURCES]


@needs_node
@pytest.mark.parametrize("python", ["missing", "pyenv shim", "another version"])
def test_plugin_without_the_runtime_python_warns_once_and_leaves_the_zip(
    service: Path, python: str
) -> None:
    shim = service / "python-shim"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    interpreter = {
        "missing": str(service / "no-such-python"),
        "pyenv shim": str(shim),
        "another version": sys.executable,
    }[python]
    archive = service / ".serverless" / "thumbor-urls.zip"
    before = archive.read_bytes()
    result = run_plugin(service, interpreter, runtime="python3.9")  # older than we can run
    assert result["error"] is None
    assert len(result["warnings"]) == 1
    assert result["warnings"][0].startswith("No .pyc in the package")
    assert "python3.9" in result["warnings"][0]
    assert archive.read_bytes() == before


@needs_node
def test_plugin_leaves_prebuilt_artifacts_and_other_runtimes_alone(service: Path) -> None:
    prebuilt = tiny_zip(service / "prebuilt.zip")
    before = prebuilt.read_bytes()
    assert run_plugin(service, sys.executable, artifact="prebuilt.zip") == {
        "warnings": [], "infos": [], "error": None,
    }  # fmt: skip
    assert prebuilt.read_bytes() == before
    assert run_plugin(service, sys.executable, runtime="nodejs20.x")["infos"] == []
    assert pycs(service / ".serverless" / "thumbor-urls.zip") == []


@needs_node
def test_plugin_fails_the_packaging_when_the_script_fails(service: Path) -> None:
    (service / ".serverless" / "thumbor-urls.zip").write_bytes(b"not a zip")
    result = run_plugin(service, sys.executable)
    assert "trim_botocore.py failed on" in result["error"]  # the first step
    assert "BadZipFile" in result["error"]
