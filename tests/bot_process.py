"""The real bot in a real process, pointed at the local emulator, for end-to-end tests.

The process is started exactly as an operator starts it (``python -m bot run``), with
the endpoint overrides design.md documents. A ``sitecustomize`` module on its path adds
an audit hook that records every address the process resolves or connects to, so a
test can prove that nothing ever leaves loopback.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_SITECUSTOMIZE = """
import json, os, sys

_LOG = os.environ["TUTOR_TEST_CONNECT_LOG"]

def _record(event, args):
    if event == "socket.connect":
        address = args[1]
        host = address[0] if isinstance(address, tuple) else str(address)
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    if isinstance(host, bytes):
        host = host.decode()
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps({"event": event, "host": str(host)}) + "\\n")

sys.addaudithook(_record)
"""


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class BotProcess:
    """``membrane-tutor`` as a child process; logs and connection records in ``workdir``."""

    workdir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = field(default=0.0)

    @property
    def connect_log(self) -> Path:
        return self.workdir / "connections.jsonl"

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "bot.stdout"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "bot.stderr"

    def _environment(self) -> dict[str, str]:
        hooks = self.workdir / "hooks"
        hooks.mkdir(parents=True, exist_ok=True)
        (hooks / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
        base = {key: value for key, value in os.environ.items() if not key.startswith(("DISCORD_", "TUTOR_"))}
        pythonpath = os.pathsep.join(filter(None, [str(hooks), base.get("PYTHONPATH", "")]))
        return {
            **base,
            "PYTHONPATH": pythonpath,
            "TUTOR_TEST_CONNECT_LOG": str(self.connect_log),
            "MPLBACKEND": "Agg",
            **self.env,
        }

    def run_once(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a one-shot subcommand (e.g. ``sync --guild ID``) to completion."""
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=self._environment(),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def start(self, *args: str) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.started_at = time.monotonic()
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", *args],
                env=self._environment(),
                cwd=self.workdir,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Send ``signum`` and wait; kill if it does not stop in time. Returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace") if self.stderr_path.exists() else ""

    def hosts_contacted(self) -> list[str]:
        if not self.connect_log.exists():
            return []
        lines = self.connect_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["host"] for line in lines if line.strip()]
