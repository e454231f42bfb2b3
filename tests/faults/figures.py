"""The figures each fault test measured: printed at the end of the run and kept in test-output/faults.txt."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "faults.txt"


class Figures:
    def __init__(self):
        self.sections: dict[str, list[str]] = {}

    def add(self, test: str, line: str) -> None:
        self.sections.setdefault(test, []).append(line)

    def text(self) -> str:
        return "\n".join(f"{test}\n" + "\n".join(f"    {line}" for line in lines)
                         for test, lines in self.sections.items())

    def save(self) -> Path:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(self.text() + "\n")
        return OUTPUT


FIGURES = Figures()
