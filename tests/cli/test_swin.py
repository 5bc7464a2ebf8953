"""`cnncalc rf swin_t`: fields growing through the shifted windows, stage by stage, and one
window over stage 4's grid making them global."""

from __future__ import annotations

from tests.cli.test_interview import js, ok


def test_swin_t_fields_grow_through_the_shifted_windows():
    layers = {x["name"]: x["rf"] for x in js("rf", "swin_t")["layers"]}
    sizes = {name: layers[name]["size"][0] for name in (
        "patch_embed.conv1", "stage1.0.add2", "stage1.1.add2", "merge1", "stage2.0.add2",
        "stage2.1.add2", "merge2", "stage3.5.add2", "merge3")}
    # In stage-1 tokens of 4 px: a window of 7 tokens: 7·4 = 28; the shifted windows
    # [3 + 7k, 10 + 7k) each read two unshifted ones: 14·4 = 56; merge1's token 1 reads
    # tokens 2 and 3, in the shifted windows [−4, 3) and [3, 10), which read −7…13: 21·4 = 84;
    # stage2.0's window of 7 merged tokens = tokens 0…13, in [−4, 3), [3, 10), [10, 17),
    # which read −7…20: 28·4 = 112. So a merging and the first block after it each add 7
    # tokens of the stage before (7·4 = 28, 7·8 = 56, 7·16 = 112), every other block 7 of its
    # own: 112 + 56 = 168; merge2 224; stage3.0 280; + 5·112 = 840; merge3 840 + 112 = 952
    assert sizes == {"patch_embed.conv1": 4, "stage1.0.add2": 28, "stage1.1.add2": 56,
                     "merge1": 84, "stage2.0.add2": 112, "stage2.1.add2": 168, "merge2": 224,
                     "stage3.5.add2": 840, "merge3": 952}
    assert layers["merge3"]["jump"] == [32, 32] and not layers["merge3"]["global"]
    assert layers["stage4.0.attn"]["global"]  # a 7×7 grid in one 7×7 window
    assert "stage1.1.attn" in ok("rf", "swin_t")
