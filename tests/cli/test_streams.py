"""Terminal safety and the process's streams and signals (cli/main.py main, cli/app.py emit/fail).

Every character cnncalc writes passes core/text.terminal_safe; main() owns SIGINT, SIGPIPE and
write errors."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.core.text import terminal_safe
from tests.conftest import cli

SRC = str(Path(__file__).resolve().parents[2] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "100"}
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX streams and signals")
UNSAFE = "".join(chr(c) for c in [*range(0x20), 0x7f, *range(0x80, 0xa0)] if chr(c) not in "\n\t")


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True,
                          text=True, env=ENV, timeout=30, **kw)


def test_terminal_safe_escapes_controls_and_keeps_colours_only_when_asked():
    assert terminal_safe("a\x1b[2J\x1b]0;t\x07b\u202e\n") == "a\\x1b[2J\\x1b]0;t\\x07b\\u202e\n"
    assert terminal_safe("\x1b[1;31mred\x1b[0m\x1b[2J", colours=True) == (
        "\x1b[1;31mred\x1b[0m\\x1b[2J")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from([*UNSAFE, "\u202e", "\u2028", "[", "]", "/", "a", "é"]),
               min_size=1, max_size=12))
def test_no_user_text_reaches_the_terminal_raw(tmp_path_factory, name):
    path = tmp_path_factory.mktemp("t") / "s.yaml"
    path.write_text("name: " + _yaml_quoted(name) + "\ninput: 3x8x8\nlayers: [relu]\n")
    for fmt in ("table", "md", "csv", "json"):
        r = cli("shapes", str(path), "-f", fmt)
        assert r.code in (0, 2)
        text = r.out + r.err
        assert not set(text) & set(UNSAFE + "\u202e\u2028"), (fmt, text)


def _yaml_quoted(s: str) -> str:
    return '"' + "".join(f"\\x{ord(c):02x}" if ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 else
                         f"\\u{ord(c):04x}" if c in "\u202e\u2028" else
                         "\\\"" if c == '"' else c for c in s) + '"'


def test_markup_in_a_name_is_text_not_a_crash(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text('name: "[/dim] [bold red]x"\ninput: 3x8x8\nlayers: [relu]\n')
    r = cli("shapes", str(path))
    assert r.code == 0 and "[/dim] [bold red]x" in r.out


@posix
@pytest.mark.parametrize("fmt", ["table", "md", "csv", "json"])
def test_a_full_disk_is_one_line_and_exit_2(fmt):
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "cnncalc", "shapes", "resnet18", "-f", fmt],
                           stdout=full, stderr=subprocess.PIPE, text=True, env=ENV, timeout=30)
    assert r.returncode == 2
    assert r.stderr == "cannot write the output: No space left on device\n"


@posix
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_closed_pipe_ends_quietly(fmt):
    p = subprocess.Popen([sys.executable, "-m", "cnncalc", "shapes", "densenet121", "-f", fmt],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    code = p.wait(timeout=30)
    assert err == b"" and code in (0, -signal.SIGPIPE)


@posix
def test_ctrl_c_prints_interrupted_and_exits_130(tmp_path):
    (tmp_path / "slow.py").write_text("import time\ntime.sleep(30)\n")
    p = subprocess.Popen([sys.executable, "-m", "cnncalc", "shapes", "slow.py"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert (p.returncode, err) == (130, "interrupted\n")


def test_main_leaves_the_collector_as_it_found_it(monkeypatch, capsys):
    """main() tunes the collector for one short process and puts it back for a caller that goes
    on (this test)."""
    from cnncalc.cli.main import main

    before = gc.get_threshold(), gc.get_freeze_count()
    monkeypatch.setattr(sys, "argv", ["cnncalc", "shapes", "resnet18", "-f", "json"])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 0 and capsys.readouterr().out.startswith("{")
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_the_process_entry_freezes_what_is_left_before_shutdown():
    """run() (the `cnncalc` script, `python -m cnncalc`) ends with everything frozen, so the
    interpreter's shutdown collections do not walk it again; atexit handlers still run."""
    script = ("import atexit, gc, sys\n"
              "atexit.register(lambda: sys.stderr.write(f'frozen {gc.get_freeze_count()}\\n'))\n"
              "sys.argv = ['cnncalc', 'shapes', 'resnet18', '-f', 'json']\n"
              "from cnncalc.cli.main import run\nrun()\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("{")
    assert r.stderr.startswith("frozen ") and int(r.stderr.split()[1]) > 10_000
