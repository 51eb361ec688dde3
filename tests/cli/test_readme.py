"""The README's shell examples, run as written, in order, against a fresh demo store.

Every line of every ```sh block runs in a shell with `guihua` on the PATH, from a folder holding
the project's `examples/`, with `GUIHUA_DB` on a store built as `make demo` builds it; a line
exiting non-zero fails the test with the line and what it printed. `make` lines are the README's
own set-up and are not run again. The only changes made to a line are the receivers of
`notices deliver`: the addresses written in the README are replaced by a real SMTP server and a
real HTTP receiver this test starts (`SUBSTITUTES`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import Mailbox, free_port
from tests.usecases.test_outbox import Receiver

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = ROOT / ".venv" / "bin"
EXAMPLE_RESIDENTS = ("110105194112275182", "310115194811122863")


def shell_lines(text: str) -> list[str]:
    """Every command line of every ```sh block, in order (comments and blank lines dropped)."""
    lines = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.splitlines():
            command = line.strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def test_the_readme_has_examples_to_run() -> None:
    lines = shell_lines(README.read_text(encoding="utf-8"))
    assert len(lines) > 30
    assert any(line.startswith("guihua notices deliver") for line in lines)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    (folder / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    env.pop("GUIHUA_DB", None)
    env.pop("GUIHUA_TODAY", None)  # the README is run on the day it is read, as a user runs it
    built = subprocess.run(
        ["guihua", "demo", "--db", "demo/guihua-demo.db", "--json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    examples = {e["label"]: e["subject_id"] for e in json.loads(built.stdout)["examples"]}
    # the README names the demo city's own residents: the same the demo explains
    assert (examples["above"], examples["below"]) == EXAMPLE_RESIDENTS
    return folder


def test_every_readme_example_runs(demo: Path) -> None:
    mailbox = Mailbox()
    mailbox.controller.start()
    try:
        with Receiver(free_port()) as receiver:
            substitutes = {
                "localhost:2525": f"127.0.0.1:{mailbox.port}",
                "http://localhost:8080/notices": receiver.url,
            }
            env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "GUIHUA_DB": "demo/guihua-demo.db"}
            env.pop("GUIHUA_TODAY", None)
            for line in shell_lines(README.read_text(encoding="utf-8")):
                if line.startswith("make "):
                    continue
                for written, real in substitutes.items():
                    line = line.replace(written, real)
                done = subprocess.run(
                    ["bash", "-c", line], cwd=demo, env=env, capture_output=True, text=True, timeout=600
                )
                assert done.returncode == 0, (
                    f"{line}\nexit {done.returncode}\n{done.stderr}{done.stdout[-2000:]}"
                )
            assert receiver.unique, "notices deliver sent nothing to the webhook"
    finally:
        mailbox.controller.stop()
