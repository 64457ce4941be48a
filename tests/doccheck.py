"""Run the commands and Python examples of a Markdown page and compare what they print.

The conventions a page follows (docs/internals.md#documentation-that-runs says the same for writers):

- A ```sh block is a shell transcript when its lines start with ``$ ``: each such line is a command
  (a line ending in ``\\`` continues it), and the lines after it, up to the next ``$ ``, are what it
  prints (stdout and stderr, in the order written). A ```sh block without prompts is a script: its
  commands run one by one, and a ```text block right after it (only blank lines between) is what
  they print together; without one, they must succeed. ```` ```sh no-run ```` marks the blocks that
  are not run (the installation commands, a synopsis).
- A ```python block with ``>>>`` prompts is a doctest; one without prompts is run as a script, its
  printed output compared with a ```text block right after it, if any.
- A block whose info string holds ``file=NAME`` (```` ```toml file=typo.toml ````) is written to
  ``NAME`` before the blocks after it run; it is shown to the reader as the file it is.
- Expected output is compared line by line, trailing spaces aside; a line holding only ``...``
  stands for any number of lines (output that legitimately varies, such as a timing), and in a
  doctest ``...`` inside a line too (doctest's ELLIPSIS).

All blocks of one page run in order in one temporary folder (the current folder of the commands
and of the doctests, whose names carry over from block to block), with ``stepviz`` and
``python`` the console script and interpreter of the Python running the tests.
"""
from __future__ import annotations

import difflib
import doctest
import io
import os
import re
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

SHELLS = {"sh", "console", "shell", "bash"}
OUTPUTS = {"text", ""}
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^`]*)$")


@dataclass
class Block:
    """A fenced block: its language, the rest of its info string, its first content line (1-based)."""
    lang: str
    attrs: list[str]
    line: int
    text: str
    output: Block | None = field(default=None, repr=False)  # the ```text block right after it

    @property
    def file(self) -> str | None:
        return next((a[5:] for a in self.attrs if a.startswith("file=")), None)

    @property
    def runs(self) -> bool:
        return "no-run" not in self.attrs


def blocks(markdown: str) -> list[Block]:
    """The page's fenced blocks in order, each output block attached to the block it follows."""
    lines = markdown.splitlines()
    found: list[Block] = []
    gap = True  # only blank lines since the last block ended
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            gap = gap and not lines[i].strip()
            i += 1
            continue
        indent, fence = len(m["indent"]), m["fence"]
        words = m["info"].split()
        body, j = [], i + 1
        while j < len(lines) and not re.match(rf"^ *{fence}\s*$", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        block = Block(words[0] if words else "", words[1:], i + 2, "\n".join(body) + ("\n" if body else ""))
        previous = found[-1] if found else None
        if (block.lang in OUTPUTS and gap and previous is not None and previous.output is None
                and previous.lang in SHELLS | {"python"} and ">>>" not in previous.text
                and not any(line.startswith("$ ") for line in previous.text.splitlines())):
            previous.output = block
        else:
            found.append(block)
        gap = True
        i = j + 1
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; a ``...`` line matches any run of lines."""
    memo: dict[tuple[int, int], bool] = {}

    def go(e: int, a: int) -> bool:
        if (e, a) not in memo:
            if e == len(expected):
                memo[e, a] = a == len(actual)
            elif expected[e] == "...":
                memo[e, a] = any(go(e + 1, k) for k in range(a, len(actual) + 1))
            else:
                memo[e, a] = a < len(actual) and expected[e] == actual[a] and go(e + 1, a + 1)
        return memo[e, a]

    return go(0, 0)


def clean(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def compare(where: str, expected: str, actual: str) -> str | None:
    """None when they match, else a report with a diff."""
    want, got = clean(expected), clean(actual)
    if matches(want, got):
        return None
    diff = "\n".join(difflib.unified_diff(want, got, "documented", "printed", lineterm=""))
    return f"{where}: the output differs\n{diff}"


@dataclass
class Command:
    line: int
    text: str
    expected: str


def transcript(block: Block) -> list[Command]:
    """The commands of a ```sh block, each with the output documented for it."""
    commands: list[Command] = []
    lines = block.text.splitlines()
    prompts = any(line.startswith("$ ") for line in lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        if prompts and not line.startswith("$ "):
            if not commands:
                raise ValueError(f"line {block.line + i}: output before the first $ prompt")
            commands[-1].expected += line + "\n"
            i += 1
            continue
        start = i
        text = line[2:] if prompts else line
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + "\n" + lines[i]
        i += 1
        if prompts or (text.strip() and not text.lstrip().startswith("#")):
            commands.append(Command(block.line + start, text, ""))
    return commands


def shell_bin(folder: Path) -> Path:
    """A folder of ``stepviz`` and ``python`` for this interpreter, first on the commands' PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    script = Path(sys.executable).parent / "stepviz"
    for name, target in (("stepviz", script), ("python", Path(sys.executable)), ("python3", Path(sys.executable))):
        if not (folder / name).exists():
            (folder / name).symlink_to(target)
    return folder


def run_shell(commands: list[Command], cwd: Path, bin_dir: Path) -> list[tuple[str, int]]:
    """Run the commands in one bash, in order, each in a subshell (an ``exit`` ends only its command),
    and split what each printed and its exit status."""
    marker = "@@doccheck-{}@@"
    parts = ["__rc=0"]
    for k, command in enumerate(commands):
        parts.append(f"printf '\\n{marker.format(k)}\\n'")
        parts.append(f"(exit $__rc); (\n{command.text}\n) 2>&1; __rc=$?; printf '\\n{marker.format('rc')}%d\\n' $__rc")
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONUNBUFFERED="1",
                COLUMNS="80", NO_COLOR="1")
    env.pop("STEPVIZ_REQUIRE_LIBREOFFICE", None)
    done = subprocess.run(["bash", "--noprofile", "--norc", "-c", "\n".join(parts)], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    out = done.stdout
    results = []
    for k in range(len(commands)):
        start = out.index(f"\n{marker.format(k)}\n") + len(marker.format(k)) + 2
        end = out.index(f"\n{marker.format('rc')}", start)
        rc = int(out[end:].split("@@", 2)[2].split("\n", 1)[0])
        results.append((out[start:end], rc))
    return results


class Page:
    """One Markdown page run in one folder."""

    def __init__(self, path: Path, cwd: Path, bin_dir: Path, root: Path):
        self.path, self.cwd, self.bin_dir = path, cwd, bin_dir
        self.name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        self.globs: dict = {"__name__": "__doc__"}
        self.failures: list[str] = []
        self.ran = 0

    def run(self) -> list[str]:
        old = Path.cwd()
        os.chdir(self.cwd)
        try:
            for block in blocks(self.path.read_text(encoding="utf-8")):
                if block.file:
                    (self.cwd / block.file).parent.mkdir(parents=True, exist_ok=True)
                    (self.cwd / block.file).write_text(block.text, encoding="utf-8")
                if not block.runs or block.file:
                    continue
                if block.lang in SHELLS:
                    self.shell(block)
                elif block.lang == "python" and ">>>" in block.text:
                    self.doctest(block)
                elif block.lang == "python":
                    self.script(block)
        finally:
            os.chdir(old)
        return self.failures

    def where(self, line: int) -> str:
        return f"{self.name}:{line}"

    def shell(self, block: Block):
        try:
            commands = transcript(block)
        except ValueError as e:
            self.failures.append(f"{self.name}: {e}")
            return
        if not commands:
            return
        self.ran += len(commands)
        results = run_shell(commands, self.cwd, self.bin_dir)
        prompts = any(line.startswith("$ ") for line in block.text.splitlines())
        if prompts:
            for command, (out, _) in zip(commands, results):
                report = compare(f"{self.where(command.line)}: $ {command.text}", command.expected, out)
                if report:
                    self.failures.append(report)
        elif block.output is not None:
            report = compare(f"{self.where(block.line)} (output at line {block.output.line})", block.output.text,
                             "".join(out for out, _ in results))
            if report:
                self.failures.append(report)
        else:
            for command, (out, rc) in zip(commands, results):
                if rc:
                    self.failures.append(f"{self.where(command.line)}: {command.text} exited {rc}\n{out}")

    def doctest(self, block: Block):
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.text, self.globs, f"{self.name}:{block.line}", self.name, block.line - 1)
        self.ran += len(test.examples)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        report = io.StringIO()
        runner.run(test, out=report.write, clear_globs=False)
        self.globs = test.globs
        if runner.failures:
            self.failures.append(report.getvalue())

    def script(self, block: Block):
        self.ran += 1
        out = io.StringIO()
        try:
            with redirect_stdout(out):
                exec(compile(block.text, self.where(block.line), "exec"), self.globs)
        except Exception as e:  # noqa: BLE001 - reported with its place
            self.failures.append(f"{self.where(block.line)}: raised {type(e).__name__}: {e}")
            return
        if block.output is not None:
            report = compare(f"{self.where(block.line)} (output at line {block.output.line})", block.output.text,
                             out.getvalue())
            if report:
                self.failures.append(report)


def run_page(path: Path, cwd: Path, bin_dir: Path, root: Path) -> Page:
    page = Page(path, cwd, bin_dir, root)
    page.run()
    return page


if __name__ == "__main__":  # python tests/doccheck.py README.md docs/learner.md ...
    import tempfile

    root = Path(__file__).resolve().parent.parent
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        for k, name in enumerate(sys.argv[1:]):
            cwd = Path(d) / f"page{k}"
            cwd.mkdir()
            page = run_page(Path(name).resolve(), cwd, shell_bin(Path(d) / "bin"), root)
            print(f"{name}: {page.ran} commands/examples, {len(page.failures)} failing")
            for failure in page.failures:
                print(failure, "\n")
            failed += bool(page.failures)
    sys.exit(1 if failed else 0)
