"""Starts ami-sim processes for the tests ($AMI_SIM, or the checkout's build)."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def sim_path() -> str:
    path = os.environ.get("AMI_SIM") or str(REPO / "target" / "release" / "ami-sim")
    if not os.path.exists(path):
        raise RuntimeError(f"ami-sim not found at {path}: run cargo build --release or set AMI_SIM")
    return path


class Sim:
    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [sim_path(), "--listen", "127.0.0.1:0", "--quiet", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on 127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1])
        self.http_port = None
        if "--http" in args:
            line = self.proc.stdout.readline().strip()
            assert line.startswith("http on 127.0.0.1:"), line
            self.http_port = int(line.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def start_sim():
    sims = []

    def start(*args: str) -> Sim:
        s = Sim(*args)
        sims.append(s)
        return s

    yield start
    for s in sims:
        s.stop()


@pytest.fixture
def sim(start_sim):
    return start_sim()
