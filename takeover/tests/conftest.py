from pathlib import Path

import pytest

from takeover.__main__ import main
from takeover.tests.fake import World


class Session:
    """Runs `python3 -m takeover --stack kde04 ...` against one fake world, as often as a test likes."""

    def __init__(self, world: World, root: Path):
        self.world, self.root = world, root
        self.lines: list = []

    def run(self, *args, answer="yes") -> int:
        self.last = []

        def out(line):
            self.lines.append(line)
            self.last.append(line)
        def ask(prompt):
            if answer is EOFError:
                raise EOFError
            return answer
        return main(["--stack", "kde04", *args], runner=self.world.run, history=self.world.history,
                    clock=self.world.clock, out=out, ask=ask, repo_root=self.root)

    @property
    def state_path(self) -> Path:
        return self.root / ".takeover" / "kde04" / "state.json"

    def text(self, last=False) -> str:
        return "\n".join(self.last if last else self.lines)


@pytest.fixture
def world():
    return World()


@pytest.fixture
def session(world, tmp_path):
    return Session(world, tmp_path)
