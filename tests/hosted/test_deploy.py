"""The Dockerfile, tried as far as this machine allows (no Docker engine here): its user, its
settings, and its exact start command and health check, run from the repository as the image
would run them."""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    text = DOCKERFILE.replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.*)$", text, re.M)]


def env_of_image() -> dict[str, str]:
    env = {}
    for line in instructions("ENV"):
        for part in shlex.split(line):
            key, _, value = part.partition("=")
            env[key] = value
    return env


def test_the_image_runs_hosted_as_a_non_root_user_with_cpu_torch():
    users = instructions("USER")
    assert users and users[-1] not in ("root", "0"), users
    env = env_of_image()
    assert env["GENLIB_HOSTED"] == "1" and env["GENLIB_DATA_DIR"] == "/data"
    assert env["GENLIB_RUNS_DIR"].startswith(env["GENLIB_DATA_DIR"])
    assert any("torch==2.13.0" in r and "/whl/cpu" in r for r in instructions("RUN"))
    assert "${PORT}" in instructions("CMD")[0] and "/_stcore/health" in instructions("HEALTHCHECK")[0]


def test_the_build_context_keeps_what_the_app_needs():
    ignored = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip()]
    for needed in ("app.py", "requirements.txt", "app_pages/home.py", "genlib/pipeline.py",
                   ".streamlit/config.toml", "genlib/data/mnist/t10k-images-idx3-ubyte.gz"):
        assert not any(fnmatch.fnmatch(needed, pat) or needed.startswith(pat.rstrip("/") + "/")
                       for pat in ignored), needed


def test_the_start_command_and_health_check_work(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "data"
    data.mkdir()
    env = {**os.environ, **env_of_image(), "PORT": str(port), "GENLIB_DATA_DIR": str(data),
           "GENLIB_RUNS_DIR": str(data / "runs"), "GENLIB_SECRET": "a-long-enough-test-secret",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = json.loads(instructions("CMD")[0])
    cmd = [c.replace("--server.address=0.0.0.0", "--server.address=127.0.0.1") for c in cmd]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    health = instructions("HEALTHCHECK")[0].split("CMD", 1)[1].strip()
    try:
        deadline, ok = time.time() + 120, False
        while time.time() < deadline and not ok:
            assert proc.poll() is None, "the start command exited"
            ok = subprocess.run(health, shell=True, env=env, capture_output=True).returncode == 0
            time.sleep(0.5)
        assert ok, "the health check never passed"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200 and b"<html" in r.read().lower()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)
