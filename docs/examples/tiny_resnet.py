"""A small ResNet for 32×32 images, as a Python spec: `cnncalc shapes docs/examples/tiny_resnet.py`.

Python specs use the YAML vocabulary as functions (docs/python.md); this file runs without torch.
"""

from cnncalc.spec.python import block, bn, conv, flatten, gap, linear, net, relu, residual, seq


@block
def basic(out, stride=1):
    """3×3 → 3×3 with a shortcut; the shortcut projects (1×1 conv + BN) when the shape changes."""
    return [residual(conv(out, 3, s=stride, p=1, bias=False), bn(), relu(),
                     conv(out, 3, p=1, bias=False), bn()),
            relu()]


def stage(out, blocks, stride, name):
    return seq(*(basic(out, stride if i == 0 else 1, name=i) for i in range(blocks)), name=name)


def make(width=16, blocks=2, classes=10):
    """`cnncalc shapes docs/examples/tiny_resnet.py:make --arg width=32` for a wider one."""
    return net("tiny_resnet", "3x32x32", [
        conv(width, 3, p=1, bias=False, name="stem"), bn(), relu(),
        *(stage(width * 2**i, blocks, 1 if i == 0 else 2, f"stage{i + 1}") for i in range(3)),
        gap(), flatten(), linear(classes, name="fc"),
    ])


SPEC = make()
