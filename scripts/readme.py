"""Regenerate the README's command outputs, or check that they are current.

A generated block in README.md looks like

    <!-- cnncalc: shapes resnet18 --depth 1 -->
    ```
    …output…
    ```
    <!-- end -->

and is rewritten with the real output of `cnncalc shapes resnet18 --depth 1` at a fixed width
(Markdown output, `-f md`, is inserted as is, without a code fence). A Python block

    <!-- cnncalc-python -->
    ```python
    >>> import cnncalc
    >>> cnncalc.analyze("resnet50").totals.params
    …output…
    ```
    <!-- end -->

keeps its `>>>` lines and gets each one's real output, as a doctest shows it.

    python scripts/readme.py          # rewrite README.md
    python scripts/readme.py --check  # exit 1 if README.md is stale (tests/cli/test_readme.py)
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- cnncalc: (?P<cmd>.*?) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)
PYTHON = re.compile(r"(<!-- cnncalc-python -->\n```python\n)(?P<body>.*?)(```\n<!-- end -->)",
                    re.S)
WIDTH = 100


def cli_output(args: list[str], check: bool = False) -> str:
    """`cnncalc ARGS` in-process at a fixed width: stdout and stderr, trailing spaces stripped.
    With check=True a failing command raises (for outputs that must be answers)."""
    from typer.testing import CliRunner

    from cnncalc.cli.main import app

    r = CliRunner().invoke(app, args, env={"TERMINAL_WIDTH": str(WIDTH), "COLUMNS": str(WIDTH),
                                           "NO_COLOR": "1"}, prog_name="cnncalc")
    if check and r.exit_code != 0:
        raise RuntimeError(f"cnncalc {shlex.join(args)} failed: {r.stderr}")
    text = (r.stdout + r.stderr).rstrip()
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def run(cmd: str) -> str:
    text = cli_output(shlex.split(cmd))
    return text if ("-f md" in cmd or "--format md" in cmd) else f"```\n{text}```\n"


def run_python(body: str) -> str:
    """The `>>>` examples of BODY, each followed by what it prints or shows, run in one
    namespace as an interactive session would."""
    namespace: dict[str, object] = {}
    out: list[str] = []
    for example in doctest.DocTestParser().get_examples(body):
        first, *more = example.source.rstrip("\n").splitlines()
        out += [f">>> {first}", *(f"... {line}" for line in more)]
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            exec(compile(example.source, "<README>", "single"), namespace)
        out += [line.rstrip() for line in shown.getvalue().splitlines()]
    return "\n".join(out) + "\n"


def render(readme: str) -> str:
    readme = BLOCK.sub(lambda m: m.group(1) + run(m.group("cmd")) + m.group(4), readme)
    return PYTHON.sub(lambda m: m.group(1) + run_python(m.group("body")) + m.group(3), readme)


def main() -> int:
    old = README.read_text(encoding="utf-8")
    new = render(old)
    if "--check" in sys.argv:
        if new != old:
            print("README.md is stale: run python scripts/readme.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
