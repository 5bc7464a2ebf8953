"""Fuzzing cnncalc's front door: broken zoo specs and random YAML through `cnncalc shapes`, and
odd command lines for the calculators (conv, pool, dsconv, fc-vs-conv, apply, rf --stack).

Every case must end in a result (exit 0) or error lines and exit 2. An exception escaping the
command is a *traceback*; a case still running after `timeout` seconds is a *hang*. Cases are
made from a `random.Random`, so hypothesis (tests/fuzz/test_fuzz.py) and the 10,000-case script
(benchmarks/fuzz.py) share them, and a seed reproduces a case.
"""

from __future__ import annotations

import random
import re
import signal
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from cnncalc.cli.main import app
from cnncalc.core.layers.registry import all_kinds
from cnncalc.frontends.load import TOP_KEYS, ZOO, zoo_names

OUTCOMES = ("result", "error", "traceback", "hang")
ARGV_SHARE = 0.2  # of the cases are calculator command lines; the rest are spec files

# Values people (and copy-paste) put where numbers go
ODD_VALUES = ["0", "-1", "1e3", "0x10", "0o7", "1_000", "yes", "no", "on", "~", "null", "2.5",
              "999999999999", "1000001", "[]", "{}", "[1, 2, 3]", "''", "'$x'", "$in * 1000",
              "\"$in // 0\"", "\"2 ** 99\"", "\"$i\"", "same", ".inf", ".nan", "true", "*a", "&a 3",
              "!!python/object:os.system", "\"__import__('os')\"", "-", "?", "|", ">", "%", "@",
              # issue 15: numbers past every bound, leading zeros, costly expressions
              "010", "9" * 40, "1e999", "-1e999", "1000000", "\"round($in, -10**9)\"",
              "\"((2**64)**64)**64\"", "\"divisible($in, 0)\"", "\"$in < 'a'\"",
              "{seq: [{seq: [], repeat: 10000}], repeat: 10000}", "\"x\\e[2J\\e]0;t\\a\""]
ODD_CHARS = list("[]{}:,-*&!|>'\"#%@`\t\n ?$\\") + ["\x00", "\u202e", "\ufeff", "é"]
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def vocabulary() -> list[str]:
    """Words that mean something to the spec reader: kinds, aliases, arguments, keywords."""
    words = set(TOP_KEYS) | {"seq", "residual", "concat", "add", "mul", "name", "repeat", "if",
                             "body", "shortcut", "args", "doc", "channels", "size", "auto",
                             "identity", "optional", "same", "valid"}
    for kind in all_kinds().values():
        words |= {kind.name, *kind.aliases}
        for arg in kind.args:
            words |= {arg.name, *arg.aliases}
    return sorted(words)


VOCAB = vocabulary()
ZOO_TEXTS = {name: (ZOO / f"{name}.yaml").read_text() for name in zoo_names()}


# Mutations of a zoo spec --------------------------------------------------------------------

def _lines(text: str) -> list[str]:
    return text.split("\n")


def mutate(text: str, rng: random.Random) -> str:
    """One random edit of the kind a person or a bad paste makes."""
    op = rng.randrange(10)
    lines = _lines(text)
    i = rng.randrange(len(lines))
    if op == 0:  # delete a line
        del lines[i]
    elif op == 1:  # duplicate a line
        lines.insert(i, lines[i])
    elif op == 2:  # swap two lines
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:  # an odd value where a number was
        nums = list(_NUMBER.finditer(text))
        if nums:
            m = rng.choice(nums)
            return text[:m.start()] + rng.choice(ODD_VALUES) + text[m.end():]
    elif op == 4:  # another meaningful word, or a misspelling
        words = list(_WORD.finditer(text))
        if words:
            m = rng.choice(words)
            new = rng.choice(VOCAB)
            if rng.random() < 0.3 and len(new) > 2:  # drop or double one letter
                k = rng.randrange(len(new))
                new = new[:k] + new[k + 1:] if rng.random() < 0.5 else new[:k] + new[k] + new[k:]
            return text[:m.start()] + new + text[m.end():]
    elif op == 5:  # a stray character
        k = rng.randrange(len(text) + 1)
        return text[:k] + rng.choice(ODD_CHARS) + text[k:]
    elif op == 6:  # cut off
        return text[: rng.randrange(len(text) + 1)]
    elif op == 7:  # indent or dedent a line
        lines[i] = ("  " + lines[i]) if rng.random() < 0.5 else lines[i][2:]
    elif op == 8:  # a big number where a number was
        nums = list(_NUMBER.finditer(text))
        if nums:
            m = rng.choice(nums)
            return text[:m.start()] + str(rng.choice([10**k for k in range(3, 13)])) + text[m.end():]
    else:  # a repeat or an if on some item
        lines[i] = lines[i].replace("}", f", {rng.choice(['repeat', 'if', 'name'])}: "
                                         f"{rng.choice(ODD_VALUES)}}}", 1)
    return "\n".join(lines)


def mutated_zoo_spec(rng: random.Random) -> str:
    text = ZOO_TEXTS[rng.choice(sorted(ZOO_TEXTS))]
    for _ in range(rng.choice([1, 1, 1, 2, 3, 5])):
        text = mutate(text, rng)
    return text


# Random YAML -------------------------------------------------------------------------------

def _scalar(rng: random.Random) -> Any:
    return rng.choice([rng.randint(-3, 300), rng.choice(VOCAB), rng.choice(ODD_VALUES),
                       rng.random() * 10, True, None, [3, 3]])


def _tree(rng: random.Random, depth: int) -> Any:
    r = rng.random()
    if depth <= 0 or r < 0.35:
        return _scalar(rng)
    if r < 0.65:
        return [_tree(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {rng.choice(VOCAB): _tree(rng, depth - 1) for _ in range(rng.randrange(4))}


def random_spec(rng: random.Random) -> str:
    """Random YAML, usually shaped like a spec (input + layers) so it gets past the header."""
    if rng.random() < 0.2:
        return yaml.safe_dump(_tree(rng, 4))
    doc: dict[str, Any] = {"input": rng.choice(["3x32x32", "1x8x8", {"channels": 3, "size": 16},
                                                _scalar(rng)])}
    if rng.random() < 0.3:
        doc["blocks"] = {rng.choice(["b", "blk", "relu"]): {"args": {"c": rng.randint(1, 8)},
                                                           "body": _tree(rng, 3)}}
    doc["layers"] = [_tree(rng, 3) if rng.random() < 0.4 else {rng.choice(VOCAB): _tree(rng, 2)}
                     for _ in range(rng.randint(0, 6))]
    text = yaml.safe_dump(doc, allow_unicode=True)
    return mutate(text, rng) if rng.random() < 0.3 else text


def make_case(rng: random.Random) -> tuple[str, list[str]]:
    """(spec text, command line after `cnncalc COMMAND FILE`) for one case; `cnncalc shapes`
    mostly, sometimes `--explain`, `--all-ops` or `cnncalc rf` (whose options are the same)."""
    text = mutated_zoo_spec(rng) if rng.random() < 0.6 else random_spec(rng)
    options = ["-f", rng.choice(["json", "json", "csv", "md", "table"])]
    r = rng.random()
    if r < 0.05:
        options = ["--explain", "-f", rng.choice(["table", "md", "json", "latex"])]
    elif r < 0.1:
        options.append("--all-ops")
    elif r < 0.2:
        options.append("--rf")  # run_case turns this into the rf command
    if rng.random() < 0.1:
        options += ["--input", rng.choice(["3x0x8", "64", "3x64x64", "1e3", "x", "3x99999x2"])]
    if rng.random() < 0.05:
        options += ["--depth", str(rng.randint(0, 3))]
    return text, options


# Random command lines for the calculators ---------------------------------------------------

ODD_SIZES = ["224", "3x224x224", "224x200", "0", "-1", "3x0x8", "1x1", "100000", "99999999",
             "1e3", "x", "", "3x3x3x3", "same", "valid", "2x", "4×4", "1,2", "  7 ", "0x10", "5"]
ODD_MATRICES = ["[[1,2],[3,4]]", "[[1,2],[3]]", "[]", "[[]]", "[[1e309]]", "[[nan]]", "[1,2]",
                "[[1,2],[3,4]", "sobel_x", "blur", "lapl", "[[" + "1," * 40 + "1]]", "3", "2x2",
                "[['a']]", "[[1]]"]
STACKS = ["3x3*7", "3x3 d1,d2,d4,d8", "7x7 s2, max3 s2 p1, 3x3*2", "", ",", "3x3*0", "3x3*9999",
          "d2", "max", "avg3 s1 p1", "3x3 s0", "3x3 pfoo", "conv0", "3x3 s2 s2", "5x5 psame s2",
          "mystery3", "3x3 d99999", "1x1*1001"]


def random_argv(rng: random.Random) -> list[str]:
    """A command line for one of the calculators, with odd values in its options."""
    def size() -> str:
        return rng.choice(ODD_SIZES)

    cmd = rng.choice(["conv", "pool", "dsconv", "fc-vs-conv", "apply", "rf"])
    argv = [cmd]
    if cmd in ("conv", "pool", "fc-vs-conv"):
        argv.append(size())
        for opt in ("-k", "-s", "-p", "-d"):
            if rng.random() < 0.4 and not (cmd == "fc-vs-conv" and opt != "-k"):
                argv += [opt, size()]
        if cmd == "conv" and rng.random() < 0.3:
            argv += [rng.choice(["--cin", "--cout", "-g"]), str(rng.randint(-1, 70))]
        if cmd == "pool" and rng.random() < 0.3:
            argv += rng.choice([["--gap"], ["--ceil"], ["--op", rng.choice(["max", "avg", "min"])]])
    elif cmd == "dsconv":
        argv += ["--cin", str(rng.randint(1, 600)), "--cout", str(rng.randint(1, 600)),
                 "-k", size()]
        if rng.random() < 0.5:
            argv += ["--size", size()]
        if rng.random() < 0.3:
            argv += ["-p", size(), "-s", size()]
    elif cmd == "apply":
        argv += ["-i", rng.choice(ODD_MATRICES), "-k", rng.choice(ODD_MATRICES)]
        if rng.random() < 0.4:
            argv += ["--op", rng.choice(["conv", "max", "avg", "sum"])]
        if rng.random() < 0.4:
            argv += [rng.choice(["-s", "-p"]), size()]
        if rng.random() < 0.3:
            argv += ["--at", rng.choice(["0,0", "1,1", "9,9", "-1,0", "x", "0"])]
    else:
        argv += ["--stack", rng.choice(STACKS) if rng.random() < 0.7 else
                 ", ".join(rng.choice(STACKS) for _ in range(3))]
        if rng.random() < 0.3:
            argv += ["--input", size()]
    if rng.random() < 0.3:
        argv.append("--explain")
    if rng.random() < 0.5:
        argv += ["-f", rng.choice(["table", "md", "json", "latex", "csv", "yaml"])]
    return argv


# Running a case ---------------------------------------------------------------------------

class Hang(BaseException):
    """The case ran past its time. A BaseException, so no `except Exception` in the code under
    test can swallow it and make a hang look like an error."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Outcome:
    kind: str  # one of OUTCOMES
    detail: str = ""


_RUNNER = CliRunner()
_DIR = Path(tempfile.mkdtemp(prefix="cnncalc-fuzz-"))


def run_case(text: str, options: list[str], timeout: float = 30.0) -> Outcome:
    """Run `cnncalc shapes FILE OPTIONS` (or `rf` when OPTIONS hold --rf) in-process on `text`;
    classify how it ended."""
    path = _DIR / "case.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    command = "rf" if "--rf" in options else "shapes"
    return run_argv([command, str(path), *(o for o in options if o != "--rf")], timeout)


def run_argv(argv: list[str], timeout: float = 30.0) -> Outcome:
    """Run `cnncalc ARGV` in-process as `cnncalc.cli.main` does; classify how it ended.

    Like `main`, usage errors (a bad option) come back as click exceptions that `main` prints as
    one line with their exit code, and a CnncalcError is one line from `handle_errors`."""
    env = {"TERMINAL_WIDTH": "120", "COLUMNS": "120"}
    try:
        with time_limit(timeout):
            r = _RUNNER.invoke(app, argv, env=env, standalone_mode=False)
    except Hang as e:
        return Outcome("hang", str(e))
    exc = r.exception
    if isinstance(exc, Hang):
        return Outcome("hang", str(exc))
    if exc is not None and hasattr(exc, "format_message") and getattr(exc, "exit_code", 0) == 2:
        return Outcome("error", exc.format_message().splitlines()[0])
    code = r.return_value if isinstance(r.return_value, int) else r.exit_code
    if exc is None and code == 0:
        return Outcome("result")
    lines = r.stderr.strip().splitlines()
    if exc is None and code == 2 and r.stdout == "" and lines \
            and not any(x.startswith("Traceback") or not x.strip() for x in lines):
        return Outcome("error", lines[0])
    detail = repr(exc) if exc else f"exit {code}: {r.stderr[-300:]}"
    return Outcome("traceback", detail)


def fuzz(cases: int, seed: int, timeout: float = 30.0) -> tuple[Counter[str], list[str]]:
    """Counts of each outcome over `cases` cases, and the first few failures (seed, detail)."""
    counts: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
    failures: list[str] = []
    for n in range(cases):
        rng = random.Random(f"{seed}:{n}")
        if rng.random() < ARGV_SHARE:
            out = run_argv(random_argv(rng), timeout)
        else:
            text, options = make_case(rng)
            out = run_case(text, options, timeout)
        counts[out.kind] += 1
        if out.kind in ("traceback", "hang") and len(failures) < 20:
            failures.append(f"case {seed}:{n}: {out.kind}: {out.detail}")
    return counts, failures
