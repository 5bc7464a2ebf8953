"""Every error message cnncalc gives, with an example that produces it and the fix.

This table drives both `tests/cli/test_error_doc.py` (each example must still produce its message)
and `scripts/errors_doc.py` (which writes docs/errors.md from the messages actually produced).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = "spec.yaml"


@dataclass(frozen=True)
class Case:
    section: str
    title: str
    expect: str  # a piece of the message the example must produce
    fix: str
    spec: str | None = None  # written to spec.yaml; None: no file
    args: tuple[str, ...] = ("shapes", SPEC)
    shown: str | None = None  # what the doc shows instead of a spec too long to print
    call: Callable[[], str] | None = None  # for backend errors: returns the message


def _torch_missing() -> str:
    code = ("import sys; sys.modules['torch'] = None\n"
            "from cnncalc.core.errors import BackendError\n"
            "try:\n    import cnncalc.measure.build\nexcept BackendError as e:\n"
            "    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return r.stdout.strip()


def _backend(fn: Callable[[], object]) -> str:
    from cnncalc.core.errors import BackendError

    try:
        fn()
    except BackendError as e:
        return str(e)
    raise AssertionError("no BackendError")


def _no_cuda() -> str:
    from cnncalc.measure.device import pick_device

    return _backend(lambda: pick_device("cuda"))


def _bad_device() -> str:
    from cnncalc.measure.device import pick_device

    return _backend(lambda: pick_device("gpu"))


def _oom() -> str:
    from cnncalc.measure.device import out_of_memory

    def run() -> None:
        with out_of_memory("at batch 512"):
            raise RuntimeError("CUDA out of memory. Tried to allocate 24.00 GiB")

    return _backend(run)


def _cannot_build() -> str:
    from cnncalc.core.engine import Layer
    from cnncalc.core.rf import RF
    from cnncalc.measure.build import build_layer

    return _backend(lambda: build_layer(Layer("x", "mystery", {}, ("input",), [(3, 8, 8)],
                                              (3, 8, 8), RF.input(8, 8))))


H = "input: 3x8x8\n"  # the header most examples share
LOL = "".join(f"{a}: &{a} [{', '.join([f'*{p}'] * 9 if p else ['lol'] * 9)}]\n"
              for p, a in zip(["", "a", "b", "c", "d", "e", "f", "g", "h"], "abcdefghi"))
CHAIN = H + "blocks:\n" + "".join(f"  b{n}: {{body: [b{n + 1}]}}\n" for n in range(33)) + \
    "  b33: {body: [relu]}\nlayers: [b0]\n"

CASES: list[Case] = [
    # Reading the file ----------------------------------------------------------------------
    Case("Reading the file", "No such spec", "no spec file or zoo spec named 'resnet5'",
         "Check the path, or run `cnncalc zoo` for the names of the shipped specs.",
         args=("shapes", "resnet5")),
    Case("Reading the file", "A folder, a pipe or a device", "adir is a folder, not a spec file",
         "Give the spec file itself. What a path is, and its size, are checked before reading: a "
         "FIFO or /dev/zero never blocks, a 4 GiB file costs no memory.",
         args=("shapes", "adir"), spec=None),
    Case("Reading the file", "Not UTF-8 text", "spec.yaml is not UTF-8 text (byte 0xe9 at line 2)",
         "Save the file as UTF-8.", spec="input: 3x8x8\nlayers: [relu]  # caf\udce9\n",
         shown="input: 3x8x8\nlayers: [relu]  # caf<byte 0xe9, Latin-1>\n"),
    Case("Reading the file", "YAML syntax", "YAML syntax:",
         "The position is where the parser gave up; the mistake is there or just before "
         "(here a `{` never closed).", spec="input: {channels: 3, size: 8\nlayers: [relu]\n"),
    Case("Reading the file", "Tabs", "(a tab: YAML indents with spaces only)",
         "YAML indents with spaces only.", spec=H + "layers:\n\t- relu\n"),
    Case("Reading the file", "Control characters", "YAML cannot hold the character",
         "Remove the character (often pasted from a PDF or a terminal).",
         spec=H + "layers: [relu, \x07]\n", shown=H + "layers: [relu, <BEL, 0x07>]\n"),
    Case("Reading the file", "Empty file", "spec is empty", "Write `input:` and `layers:`.",
         spec="# nothing yet\n"),
    Case("Reading the file", "Two documents", "a spec file holds one YAML document",
         "One network per file; remove the `---` and what follows, or split the file.",
         spec=H + "layers: [relu]\n---\n" + H + "layers: [bn]\n"),
    Case("Reading the file", "Duplicate key", "duplicate key 'k'",
         "A key appears once per mapping; YAML would silently keep the last one, cnncalc refuses.",
         spec=H + "layers: [{conv: {out: 8, k: 3, k: 5}}]\n"),
    Case("Reading the file", "Complex key", "mapping keys must be plain names",
         "Keys are words such as `conv` or `out`.", spec=H + "layers: [{[conv]: 3}]\n"),
    Case("Reading the file", "Unknown alias", "unknown alias *stem",
         "Define the anchor (`&stem`) before the alias (`*stem`) uses it.",
         spec=H + "layers: [*stem]\n"),
    # Limits ---------------------------------------------------------------------------------
    Case("Limits", "File too large", "spec.yaml is 2,000,002 bytes; a spec file is at most 2,000,000",
         "A spec is a page of text; generate repeated parts with `repeat:` and blocks.",
         spec="#" * 2_000_001 + "\n", shown="(a file of 2,000,001 bytes)\n"),
    Case("Limits", "Nesting too deep", "spec is nested deeper than 64 levels",
         "Flatten the structure; real networks nest a handful of levels.",
         spec=H + "layers: " + "[" * 70 + "]" * 70 + "\n",
         shown=H + "layers: [[[[[[ … 70 levels … ]]]]]]\n"),
    Case("Limits", "Aliases that multiply (\"billion laughs\")",
         "spec expands to more than 200,000 values (aliases?)",
         "Aliases may repeat a part, not multiply it without bound. cnncalc counts values as it "
         "reads and stops before memory grows (this file would expand to 9^9 = 387,420,489 "
         "strings; it is refused after reading 6 lines, in well under a millisecond).", spec=LOL),
    Case("Limits", "Too many layers", "spec expands to more than 10,000 layers",
         "A `repeat` (or nested repeats) ran away: ResNet-1001 has about 3,300 layers.",
         spec=H + "layers: [{seq: [relu], repeat: 10000, name: a}, {seq: [relu], repeat: 10, "
         "name: b}]\n"),
    Case("Limits", "Expansion does too much work", "spec expands to more than 200,000 items",
         "Every item expansion visits costs one step (each repeat copy, each `if: false` item, "
         "each block call; an expression one step per 8 characters), whether or not it makes a "
         "layer; nested repeats multiply. Lower a repeat count.",
         spec=H + "layers:\n  - {seq: [{seq: [{seq: [], repeat: 10000}], repeat: 10000}], "
         "repeat: 10000}\n  - relu\n"),
    Case("Limits", "A number past 2**128", "its receptive-field jump exceeds 2**128",
         "Every number a layer keeps (output size, params, MACs, the field's size, jump and "
         "start) is below 2**128; a thousand strides of 1,000,000 are not a network.",
         spec="input: 1x1x1\nlayers: [{conv: {out: 1, k: 1, s: 1000000}, repeat: 1000}]\n"),
    Case("Limits", "Repeat count out of range", "repeat must be an integer from 0 to 10,000",
         "Use a count from 0 to 10,000.", spec=H + "layers: [{relu: , repeat: 20000}]\n"),
    Case("Limits", "Blocks nested too deep", "blocks nest deeper than 32",
         "Blocks may use other blocks 32 levels deep.", spec=CHAIN,
         shown=H + "blocks:\n  b0: {body: [b1]}\n  b1: {body: [b2]}\n  # … to b33\n"
         "layers: [b0]\n"),
    Case("Limits", "A block that uses itself", "block 'a' uses itself (a → b → a)",
         "A block cannot contain itself, directly or through other blocks; use `repeat:`.",
         spec=H + "blocks: {a: {body: [b]}, b: {body: [relu, a]}}\nlayers: [a]\n"),
    Case("Limits", "Input too large", "input channels and size must be positive integers up to "
         "100,000", "Each input dimension is from 1 to 100,000.",
         spec="input: {channels: 3, size: 1000000}\nlayers: [relu]\n"),
    Case("Limits", "Dimension too large", "out expected a positive integer, got 2000000 (at most "
         "1,000,000)", "Kernels, strides, channels and sizes are at most 1,000,000.",
         spec=H + "layers: [{conv: {out: 2000000, k: 1}}]\n"),
    # The header -------------------------------------------------------------------------------
    Case("The header", "Not a mapping", "a spec is a mapping with 'input' and 'layers'",
         "The top level is `input:`, `layers:` and optional `name`, `info`, `blocks`.",
         spec="- relu\n- bn\n"),
    Case("The header", "Misspelt top-level key", "unknown top-level key 'layer'",
         "Use one of the listed keys; the hint names the closest.", spec=H + "layer: [relu]\n"),
    Case("The header", "Missing input", "spec needs 'input'",
         "Add `input: 3x224x224` (or `{channels: 3, size: [224, 224]}`).",
         spec="layers: [relu]\n"),
    Case("The header", "Name is not text", "'name' is a line of text",
         "Write the name as plain text.", spec="name: [a, b]\n" + H + "layers: [relu]\n"),
    Case("The header", "Info is not a mapping", "'info' is a mapping (paper, year, idea)",
         "Write `info: {paper: ..., year: ..., idea: ...}`.",
         spec="info: a paper\n" + H + "layers: [relu]\n"),
    Case("The header", "Empty layers", "'layers' is a non-empty list of layers",
         "List at least one layer.", spec=H + "layers: []\n"),
    Case("The header", "Unknown input key", "input takes 'channels' and 'size', not 'sise'",
         "Use `channels` and `size`.", spec="input: {channels: 3, sise: 8}\nlayers: [relu]\n"),
    Case("The header", "Incomplete input", "input needs 'channels' and 'size'",
         "Give both.", spec="input: {channels: 3}\nlayers: [relu]\n"),
    Case("The header", "Bad input size", "bad input size '3x0x8'",
         "Write CxHxW (3x224x224) or HxW, each from 1 to 100,000.",
         spec=H + "layers: [relu]\n", args=("shapes", SPEC, "--input", "3x0x8")),
    Case("The header", "Several mistakes at once", "unknown top-level key 'inpt'",
         "Independent mistakes are reported together, one per line (up to 10).",
         spec="name: [1]\ninpt: 3x8x8\nlayers: 3\n"),
    # Blocks ------------------------------------------------------------------------------------
    Case("Blocks", "Blocks is not a mapping", "'blocks' maps block names to {args, body}",
         "Write `blocks: {NAME: {args: ..., body: [...]}}`.", spec=H + "blocks: [a]\n"
         "layers: [relu]\n"),
    Case("Blocks", "Block named like a kind", "block name 'relu' is already a layer kind",
         "Rename the block.", spec=H + "blocks: {relu: {body: [bn]}}\nlayers: [relu]\n"),
    Case("Blocks", "Block without body", "block 'b' needs a 'body' list",
         "Add `body: [...]`.", spec=H + "blocks: {b: {args: [c]}}\nlayers: [b]\n"),
    Case("Blocks", "Unknown block key", "block 'b' takes 'args', 'body' and 'doc', not 'bdy'",
         "Use the keys listed.", spec=H + "blocks: {b: {bdy: [relu], body: [relu]}}\n"
         "layers: [b]\n"),
    Case("Blocks", "Argument named in", "argument name 'in' is reserved",
         "`$in` is the channel count entering the block; call the argument something else.",
         spec=H + "blocks: {b: {args: [in], body: [relu]}}\nlayers: [b]\n"),
    Case("Blocks", "Body is not a list", "block 'b': 'body' is a list of layers",
         "Write `body: [...]`.", spec=H + "blocks: {b: {body: relu}}\nlayers: [b]\n"),
    Case("Blocks", "Argument list with non-names", "block args are names",
         "Write `args: [out, stride]` or `args: {out: 64}`.",
         spec=H + "blocks: {b: {args: [[x]], body: [relu]}}\nlayers: [b]\n"),
    Case("Blocks", "Arguments neither list nor mapping", "block 'args' is a mapping of names to "
         "defaults, or a list of names", "As above.",
         spec=H + "blocks: {b: {args: 3, body: [relu]}}\nlayers: [b]\n"),
    Case("Blocks", "Unknown block argument", "block 'b' has no argument 'outt'",
         "Use one of the block's arguments; the hint names the closest.",
         spec=H + "blocks: {b: {args: {out: 8}, body: [relu]}}\nlayers: [{b: {outt: 3}}]\n"),
    Case("Blocks", "Missing block argument", "block 'b' needs argument 'out'",
         "Give the argument, or a default in `args: {out: 64}`.",
         spec=H + "blocks: {b: {args: [out], body: [relu]}}\nlayers: [b]\n"),
    Case("Blocks", "Argument to a block without arguments", "block 'b' takes no arguments",
         "Write the block as a bare item: `- b`.",
         spec=H + "blocks: {b: {body: [relu]}}\nlayers: [{b: 3}]\n"),
    # Items -----------------------------------------------------------------------------------
    Case("Items", "Unknown kind", "unknown layer kind 'convv' (did you mean 'conv'?)",
         "Use a kind from docs/spec.md (or `cnncalc schema`), or define a block of that name.",
         spec=H + "layers: [relu, convv]\n"),
    Case("Items", "Unknown kind, nothing close", "unknown layer kind 'lstm' (the kinds are "
         "in docs/spec.md", "cnncalc has no such kind; write it as a block of known kinds.",
         spec=H + "layers: [lstm]\n"),
    Case("Items", "Two kinds in one item", "a layer item needs exactly one kind key, found several",
         "One kind per item; put the second in the next item.",
         spec=H + "layers: [{conv: {out: 8, k: 3}, relu: }]\n"),
    Case("Items", "Not a layer", "expected a layer: a kind like 'relu'",
         "An item is a word or a one-kind mapping.", spec=H + "layers: [[relu]]\n"),
    Case("Items", "Bad layer name", "a layer name is letters, digits, _ and -, got 'a.b'",
         "Dots separate nesting levels and are added by cnncalc.",
         spec=H + "layers: [{relu: , name: a.b}]\n"),
    Case("Items", "Layer named input", "'input' is reserved for the network's input",
         "Pick another name.", spec=H + "layers: [{relu: , name: input}]\n"),
    Case("Items", "Two layers with one name", "two layers are named 'x'",
         "Names are unique within their group.",
         spec=H + "layers: [{relu: , name: x}, {bn: , name: x}]\n"),
    Case("Items", "Condition not a boolean", "'if' takes true, false or a condition",
         "Write `if: true`, `if: false` or a comparison such as `\"$t != 1\"`.",
         spec=H + "layers: [{relu: , if: 1}]\n"),
    Case("Items", "seq without a list", "seq takes a list of layers", "Write `seq: [...]`.",
         spec=H + "layers: [{seq: relu}]\n"),
    Case("Items", "Unknown residual key", "residual takes 'body' and 'shortcut', not 'bdy'",
         "Use `body` and `shortcut`.", spec=H + "layers: [{residual: {bdy: [relu]}}]\n"),
    Case("Items", "Residual without a list", "residual takes a list of layers (its body)",
         "Write `residual: [...]` or `residual: {body: [...]}`.",
         spec=H + "layers: [{residual: relu}]\n"),
    Case("Items", "Unknown shortcut", "shortcut must be one of auto, identity, optional",
         "Use auto, identity, optional or a list of layers.",
         spec=H + "layers: [{residual: {body: [relu], shortcut: conv}}]\n"),
    Case("Items", "Join without paths", "concat takes a list of paths",
         "Write `concat: [[...], [...]]`.", spec=H + "layers: [{concat: relu}]\n"),
    Case("Items", "Join with one path", "concat joins two or more paths, got 1",
         "Add the other paths; `[]` is the identity path.",
         spec=H + "layers: [{concat: [[relu]]}]\n"),
    # Arguments --------------------------------------------------------------------------------
    Case("Arguments", "Unknown argument", "conv conv1: unknown argument 'kernal'",
         "Use one of the allowed names (aliases such as k, s, p work too).",
         spec=H + "layers: [{conv: {out: 8, kernal: 3}}]\n"),
    Case("Arguments", "Argument given twice", "conv conv1: 'kernel_size' given twice",
         "`k`, `kernel` and `kernel_size` are one argument; give it once.",
         spec=H + "layers: [{conv: {out: 8, k: 3, kernel_size: 3}}]\n"),
    Case("Arguments", "Missing argument", "conv conv1: missing required argument 'out'",
         "Give it.", spec=H + "layers: [{conv: {k: 3}}]\n"),
    Case("Arguments", "yes where a number goes", "got 'yes' (YAML 1.1 reads this as a boolean",
         "cnncalc reads only `true`/`false` as booleans (YAML 1.1 also takes yes/no/on/off, which "
         "is how Norway's code NO became false); here a number is needed.",
         spec=H + "layers: [{conv: {out: yes, k: 3}}]\n"),
    Case("Arguments", "A boolean where a number goes", "got True (a boolean is not a number)",
         "Write the number.", spec=H + "layers: [{conv: {out: true, k: 3}}]\n"),
    Case("Arguments", "Hex, octal or underscores", "got '0x10' (write decimal 16)",
         "Only plain decimal integers are integers, so a value means what it says.",
         spec=H + "layers: [{conv: {out: 0x10, k: 3}}]\n"),
    Case("Arguments", "1e3 or 8.0", "got 1000.0 (write 1000; in an expression use //",
         "Counts are integers: write 1000. In an expression, `/` gives a float; use `//`.",
         spec=H + "layers: [{conv: {out: 1e3, k: 1}}]\n"),
    Case("Arguments", "Zero or negative", "out expected a positive integer, got 0",
         "Channels, kernels and strides are at least 1 (padding at least 0).",
         spec=H + "layers: [{conv: {out: 0, k: 3}}]\n"),
    Case("Arguments", "Not true or false", "bias expected true or false, got 'yes' (booleans are "
         "written true or false)", "Write true or false.",
         spec=H + "layers: [{conv: {out: 8, k: 3, bias: yes}}]\n"),
    Case("Arguments", "Not one of the choices", "mode expected one of 'nearest'",
         "Use one of the listed values.", spec=H + "layers: [{upsample: {mode: cubic}}]\n"),
    Case("Arguments", "A scalar for a kind without a primary argument",
         "conv takes its arguments as a mapping", "Write `{conv: {out: 8, k: 3}}`.",
         spec=H + "layers: [{conv: 8}]\n"),
    # Expressions --------------------------------------------------------------------------------
    Case("Expressions", "Unknown reference", "unknown argument $ot (did you mean 'out'?)",
         "Use the block's argument names (or `$in`, `$i`).",
         spec=H + "blocks: {b: {args: {out: 8}, body: [{conv: {out: $ot, k: 1}}]}}\n"
         "layers: [b]\n"),
    Case("Expressions", "Cannot parse", "cannot parse expression",
         "Write Python-like arithmetic: `$out * 4`, `max(8, $in // 4)`.",
         spec=H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: '$c *', k: 1}}]}}\n"
         "layers: [b]\n"),
    Case("Expressions", "Not allowed", "not allowed in an expression",
         "Only numbers, `$names`, arithmetic, comparisons, `and`/`or`/`not`, `a if c else b` and "
         "min, max, int, round, ceil, floor, divisible.",
         spec=H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: '$c.real', k: 1}}]}}\n"
         "layers: [b]\n"),
    Case("Expressions", "Division by zero", "division by zero in '$c // 0'", "Fix the divisor.",
         spec=H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: '$c // 0', k: 1}}]}}\n"
         "layers: [b]\n"),
    Case("Expressions", "Power too large", "**: the result exceeds 2**256",
         "Every value an expression makes is below 2**256 (a finite float at most 1e300); a "
         "power is refused before it is computed when its result would not be.",
         spec=H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: '$c ** 99', k: 1}}]}}\n"
         "layers: [b]\n"),
    Case("Expressions", "Round to too many digits",
         "round: round's digits are an integer from -20 to 20",
         "round(x, n) takes n from -20 to 20.",
         spec=H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: 'round($c, -10**9)', k: 1}}]}}\n"
         "layers: [b]\n"),
    Case("Expressions", "Ordering text", "arithmetic on a non-number ('same')",
         "< <= > >= compare numbers; == and != compare anything.",
         spec=H + "blocks: {b: {args: {p: same}, body: [{conv: {out: 8, k: 1, "
         "if: '$p < 3'}}]}}\nlayers: [b]\n"),
    Case("Expressions", "Arithmetic on text", "arithmetic on a non-number ('same')",
         "Only numbers take part in arithmetic.",
         spec=H + "blocks: {b: {args: {p: same}, body: [{conv: {out: '$p * 2', k: 1}}]}}\n"
         "layers: [b]\n"),
    Case("Expressions", "Expression too long", "expression longer than 200 characters",
         "Split it across block arguments.",
         spec=H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: '" + "$c + " * 50 + "1', "
         "k: 1}}]}}\nlayers: [b]\n",
         shown=H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: '$c + $c + … (250 "
         "characters)', k: 1}}]}}\nlayers: [b]\n"),
    Case("Expressions", "Bad reference", "bad reference in '$1 + 2': write $name",
         "A reference is `$` and a name.",
         spec=H + "blocks: {b: {args: {c: 8}, body: [{conv: {out: '$1 + 2', k: 1}}]}}\n"
         "layers: [b]\n"),
    # Shapes ----------------------------------------------------------------------------------
    Case("Shapes", "Kernel larger than the input", "conv kernel 7 (k=7, d=1) is larger than "
         "the padded input 5", "Pad, use a smaller kernel, or a larger `--input`.",
         spec="input: 3x5x5\nlayers: [{conv: {out: 8, k: 7}}]\n"),
    Case("Shapes", "Channels not divisible by groups", "in channels 3 are not divisible by "
         "groups 2", "groups must divide the in and out channels.",
         spec=H + "layers: [{conv: {out: 8, k: 3, groups: 2}}]\n"),
    Case("Shapes", "Add of different shapes", "shapes do not match at an add: 8×8×8 vs 3×8×8",
         "Make the paths end in the same shape (a 1×1 conv on the shortcut), or use "
         "`residual` with `shortcut: auto`.",
         spec=H + "layers: [{add: [[{conv: {out: 8, k: 1}}], []]}]\n"),
    Case("Shapes", "Concat of different sizes", "concat needs equal spatial sizes",
         "Pad or crop the paths so their height and width agree.",
         spec=H + "layers: [{concat: [[{maxpool: 2}], []]}]\n"),
    Case("Shapes", "Spatial layer after flatten", "conv needs a C×H×W input, got 192",
         "Put `flatten` after the last spatial layer.",
         spec=H + "layers: [flatten, {conv: {out: 8, k: 3}}]\n"),
    Case("Shapes", "same padding with stride", "padding 'same' needs stride 1",
         "As in torch: give the padding as a number when the stride is above 1.",
         spec=H + "layers: [{conv: {out: 8, k: 3, s: 2, p: same}}]\n"),
    Case("Shapes", "Pool padding", "pool padding 2 must be at most half the kernel 2",
         "As in torch: padding at most kernel // 2.",
         spec=H + "layers: [{maxpool: {k: 2, p: 2}}]\n"),
    Case("Shapes", "Transposed conv output padding", "output_padding 2 must be smaller than "
         "stride or dilation", "As in torch: output_padding < stride (or < dilation).",
         spec=H + "layers: [{convT: {out: 8, k: 3, s: 2, op: 2}}]\n"),
    Case("Shapes", "Transposed conv too much padding", "transposed conv output size -2 is not "
         "positive", "(H − 1)·S − 2·P + D·(K − 1) + P_out + 1 must be at least 1: lower the padding.",
         spec=H + "layers: [{convT: {out: 8, k: 1, p: 5}}]\n"),
    Case("Shapes", "Split sizes", "split sizes [1, 1] add up to 2, not the 3 channels",
         "The sizes add up to the channels entering the split.",
         spec=H + "layers: [{split: {sizes: [1, 1]}}]\n"),
    Case("Shapes", "Uneven split", "channels 3 do not split into 2 equal parts",
         "Give `sizes`, or a number of parts that divides the channels.",
         spec=H + "layers: [{split: {index: 1}}]\n"),
    Case("Shapes", "Shuffle groups", "channels 3 are not divisible by groups 2",
         "The groups divide the channels.", spec=H + "layers: [{shuffle: 2}]\n"),
    Case("Shapes", "Multiply of different shapes", "shapes do not broadcast at a multiply",
         "A multiply takes equal shapes, or C×1×1 against C×H×W (squeeze-and-excitation).",
         spec=H + "layers: [{mul: [[{conv: {out: 4, k: 1}}], []]}]\n"),
    Case("Shapes", "A per-axis list of the wrong length", "kernel_size [3, 7, 7] has 3 values, "
         "the input has 2 spatial axes (H×W)",
         "One int for every axis, or one value per spatial axis of the input: [k] on C×L, "
         "[kh, kw] on C×H×W, [kt, kh, kw] on C×T×H×W.",
         spec=H + "layers: [{conv: {out: 8, k: [3, 7, 7]}}]\n"),
    Case("Shapes", "Padding pairs of the wrong length", "padding [[2, 0]] has 1 (leading, "
         "trailing) pair, the input has 2 spatial axes",
         "Give one [leading, trailing] pair per spatial axis.",
         spec=H + "layers: [{conv: {out: 8, k: 3, padding: [[2, 0]]}}]\n"),
    Case("Shapes", "An alias of another rank", "conv1d is for a L map (1 spatial axis), but its "
         "input is 3×8×8", "Write `conv` (every kind takes the input's rank), or give the spec a "
         "1-D input: `input: {channels: 1, size: [16000]}`.",
         spec=H + "layers: [{conv1d: {out: 8, k: 3}}]\n"),
    Case("Shapes", "Causal transposed conv", "convT convT1: padding expected a non-negative "
         "integer or one per spatial axis",
         "'causal' and (leading, trailing) pairs pad before a window; a transposed conv pads "
         "its output symmetrically (write a pad layer after it to shift it).",
         spec=H + "layers: [{convT: {out: 8, k: 2, s: 2, padding: causal}}]\n"),
    Case("Shapes", "Four spatial axes", "input size [8, 8, 8, 8] has 4 axes: give 1 to 3",
         "cnncalc takes C×L, C×H×W and C×T×H×W inputs.",
         spec="input: {channels: 3, size: [8, 8, 8, 8]}\nlayers: [relu]\n"),
    Case("Shapes", "Four spatial axes on the command line", "4 spatial axes; cnncalc takes 1 to 3",
         "Give CxL, CxHxW or CxTxHxW.", args=("shapes", "lenet5", "--input", "3x4x8x8x8")),
    Case("Shapes", "Window shift", "shift 7 must be smaller than the window 7",
         "Swin shifts by half the window (window // 2) on every other block.",
         spec=H + "layers: [{window_attention: {heads: 1, window: 7, shift: 7}}]\n"),
    Case("Shapes", "Windowed attention on tokens", "window_attention needs a C×H×W input, got 3×64",
         "Swin keeps its tokens on their grid: use window_attention before to_tokens.",
         spec=H + "layers: [to_tokens, {window_attention: 1}]\n"),
    # The command line --------------------------------------------------------------------------
    Case("The command line", "sizes on a 1-D or 3-D spec", "sizes scans H×W images",
         "`sizes` scans 2-D inputs; for a 1-D or 3-D spec use `shapes --input`.",
         spec="input: {channels: 1, size: [64]}\nlayers: [{conv: {out: 4, k: 3}}]\n",
         args=("sizes", SPEC)),
    Case("The command line", "Unknown format", "unknown format 'yaml'",
         "Use table, md, json or csv.", spec=H + "layers: [relu]\n",
         args=("shapes", SPEC, "-f", "yaml")),
    Case("The command line", "Unknown --attention-macs", "unknown --attention-macs 'qk'; "
         "choose one of all, projections", "all counts the projections and Q·Kᵀ and A·V; "
         "projections the projections only.", args=("shapes", "vit_b_32", "--attention-macs", "qk")),
    Case("The command line", "apply: too much work", "values to visit, more than the 1,000,000 "
         "apply computes", "apply is for small worked examples: lower the padding or the kernel.",
         args=("apply", "-m", "[[1,2],[3,4]]", "-k", "[[1]]", "-p", "1000")),
    Case("The command line", "No such layer to explain", "no layer named 'c9' in lenet5",
         "Give a layer name from the table (or a group's name for all layers under it).",
         args=("shapes", "lenet5", "--explain", "-l", "c9")),
    # The calculators ---------------------------------------------------------------------------
    Case("The calculators", "Empty stack item", "--stack:1:5: empty item in the stack",
         "Items are separated by single commas.", args=("rf", "--stack", "3x3,,3x3")),
    Case("The calculators", "Stack without a kernel", "the first item needs a kernel size",
         "Start with a kernel such as 3x3 (later items may give only options).",
         args=("rf", "--stack", "s2")),
    Case("The calculators", "Unknown stack layer", "unknown layer 'foo' in the stack",
         "Use conv (the default), max or avg.", args=("rf", "--stack", "foo3")),
    Case("The calculators", "Pool without a window", "max needs a window size, e.g. max2",
         "Give the window: max2, avg3.", args=("rf", "--stack", "3x3,max")),
    Case("The calculators", "Stack too long", "a stack has at most 1000 layers",
         "Lower the `*N` counts.", args=("rf", "--stack", "3x3*1001")),
    Case("The calculators", "Spec and stack both", "give a spec (file or zoo name) or --stack, "
         "not both", "One or the other.", args=("rf", "lenet5", "--stack", "3x3")),
    Case("The calculators", "Kernel larger than the input (conv)", "layer conv: conv on 1×8×8: "
         "conv kernel 9", "Pad, or use a smaller kernel.", args=("conv", "8", "-k", "9")),
    Case("The calculators", "Ragged matrix", "the input must be a rectangular matrix",
         "Every row has the same length.", args=("apply", "-m", "[[1,2],[3]]", "-k", "blur")),
    Case("The calculators", "Infinite value", "the input holds inf; only finite numbers",
         "1e999 is infinity in floating point; use finite numbers.",
         args=("apply", "-m", "[[1e999]]", "-k", "blur")),
    Case("The calculators", "Unknown kernel name", "unknown kernel 'sobl'",
         "Use a named kernel (the hint names the closest) or a matrix.",
         args=("apply", "-m", "[[1]]", "-k", "sobl")),
    Case("The calculators", "No input file", "no matrix file (.csv, .npy or an image) 'nofile.csv'",
         "Give a matrix inline, or the path of a .csv, .npy or image.",
         args=("apply", "-m", "nofile.csv", "-k", "blur")),
    Case("The calculators", "-o that is not a PNG", "-o writes a PNG image: give a path ending "
         "in .png, got 'notes.yaml'", "apply -o writes a PNG; it never overwrites its own input "
         "or anything but a regular file, and it says what it wrote.",
         args=("apply", "-m", "[[1, 2], [3, 4]]", "-k", "[[1]]", "-o", "notes.yaml")),
    Case("The calculators", "A matrix nested too deep", "the input nests 3 levels",
         "A matrix has rows of numbers; the nesting is measured before parsing.",
         args=("apply", "-m", "[[[1]]]", "-k", "[[1]]")),
    Case("The calculators", "Unknown operation", "unknown --op 'min'; choose conv, max or avg",
         "Use conv, max or avg.", args=("apply", "-m", "[[1]]", "--op", "min")),
    Case("The calculators", "Conv without kernel", "give the kernel with -k",
         "Name a kernel (sobel_x, blur, ...) or give a matrix.", args=("apply", "-m", "[[1]]")),
    # sizes and check ------------------------------------------------------------------------
    Case("Sizes and budgets", "Bad size range", "bad --range '32-64'",
         "Write LO..HI (square sizes), LO..HI:STEP, or HxW ranges like 64..512x64..256:32.",
         args=("sizes", "unet", "--range", "32-64")),
    Case("Sizes and budgets", "Too many sizes", "gives 40,000 sizes; at most 10,000",
         "Narrow the range or give it a step (32..1024:8): the scan is bounded before it starts.",
         args=("sizes", "unet", "--range", "1..200x1..200")),
    Case("Sizes and budgets", "Tile smaller than the field", "is smaller than the receptive "
         "field", "Take a tile at least as large as the field (the hint says how large).",
         args=("sizes", "unet", "--range", "32..64", "--tile", "64")),
    Case("Sizes and budgets", "Bad budget amount", "max_params: bad amount 'lots'",
         "Write a number with an optional K, M, G or T (memory: KiB, MiB, GiB or KB, MB, GB).",
         args=("check", "resnet50", "--max-params", "lots")),
    Case("Sizes and budgets", "No limits", "no limits to check",
         "Give --max-params, --max-macs, --max-memory or --min-rf, or a budget: in the spec.",
         args=("check", "resnet50")),
    Case("Sizes and budgets", "Unknown budget key", "unknown budget key 'max_parms'",
         "Use max_params, max_macs, max_memory, min_rf or input.",
         spec="input: 3x32x32\nbudget: {max_parms: 5M}\nlayers: [relu]\n",
         args=("check", SPEC)),
    Case("The calculators", "No conv maps the sizes", "no conv maps 224 to 900",
         "A conv shrinks a map (or grows it by its padding); upsample with convT or upsample.",
         args=("conv", "224", "--to", "900")),
    Case("The calculators", "Field never reached", "never reaches a 224 field",
         "A stack of 1×1 convs never grows its field; use kernels larger than 1.",
         args=("rf", "--stack", "1x1", "--target", "224")),
    Case("The calculators", "A per-axis value of another rank", "3x7x7 has 3 values, the input "
         "'16x112' has 2 spatial axes", "Give every per-axis option and the size the same number "
         "of axes (--axes 1, 2 or 3).",
         args=("conv", "16x112", "-k", "3x7x7", "--axes", "2")),
    Case("The calculators", "'...' that does not reach", "'...' from d1 by ×2 does not reach d500",
         "`...` continues a geometric run (ratio of the two values before it, else 2) up to the "
         "next item's value exactly.", args=("rf", "--stack", "k2 d1,...,d500 causal")),
    # torch ----------------------------------------------------------------------------------
    Case("The torch backend", "torch not installed", "torch is not installed",
         "The analytic commands need no torch; the measuring ones do: "
         "`pip install 'cnncalc[torch]'`.", call=_torch_missing),
    Case("The torch backend", "No CUDA", "CUDA is not available here",
         "Use `--device cpu`, or a machine with a GPU and a CUDA build of torch.", call=_no_cuda),
    Case("The torch backend", "Unknown device", "unknown device 'gpu'",
         "Use cpu, cuda or cuda:N.", call=_bad_device),
    Case("The torch backend", "Out of memory", "out of memory at batch 512",
         "Lower `--batches` (or the input size); the message names the batch that failed.",
         call=_oom),
    Case("The torch backend", "Batch norm on one value per channel", "batch norm in training "
         "needs more than one value per channel", "Train (and measure) with `--batch 2` or a "
         "larger `--input`: the analytic output warns of it, naming the layer, before torch "
         "runs.", args=("memory", "resnet18", "--input", "3x32x32", "--measure")),
    Case("The torch backend", "A kind torch cannot build", "the torch backend cannot build "
         "kind 'mystery'", "A bug: every registered kind has a builder (a test checks it); "
         "please report it.", call=_cannot_build),
]


def produce(case: Case) -> list[str]:
    """The message lines the case's example produces now."""
    if case.call is not None:
        return [case.call()]
    from tests.conftest import cli

    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            if case.spec is not None:
                Path(SPEC).write_text(case.spec, encoding="utf-8", errors="surrogateescape")
            Path("adir").mkdir()  # a folder, for the case that names one
            r = cli(*case.args)
        finally:
            os.chdir(old)
    assert r.code == 2 and r.out == "", (case.title, r.code, r.out, r.err)
    return r.err.strip().splitlines()
