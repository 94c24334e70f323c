"""pip installs a package that carries libami: a fresh virtual environment,
outside the checkout, no AMI_LIBRARY, from the source tree and from an sdist."""

import os
import subprocess
import sys
import venv
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "bindings" / "python"

PING = """
import sys, ami
assert "site-packages" in ami._lib.lib._name, ami._lib.lib._name
with ami.Client() as c:
    c.connect("127.0.0.1", int(sys.argv[1]))
    c.login("admin", "admin")
    print(c.action("Ping")["Ping"])
"""


def run(cmd, cwd, env):
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_pip_install_carries_the_library(tmp_path, sim):
    venv.create(tmp_path / "venv", with_pip=True)
    py = tmp_path / "venv" / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("AMI_LIBRARY", "PYTHONPATH", "VIRTUAL_ENV")}
    # Dependencies compiled once for the checkout are reused; the library is built by pip.
    env["CARGO_TARGET_DIR"] = str(REPO / "target" / "wheel")
    run([py, "-m", "pip", "install", "-q", PACKAGE], tmp_path, env)
    assert run([py, "-c", PING, sim.port], tmp_path, env).strip() == "Pong"

    # An sdist carries the crate (rust/), so a wheel builds from it alone.
    run([py, "-m", "pip", "install", "-q", "build"], tmp_path, env)
    run([py, "-m", "build", "--sdist", "--outdir", tmp_path / "dist", PACKAGE], tmp_path, env)
    (sdist,) = (tmp_path / "dist").glob("ami-*.tar.gz")
    run([py, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", sdist], tmp_path, env)
    assert run([py, "-c", PING, sim.port], tmp_path, env).strip() == "Pong"
    assert sys.prefix not in str(py)
