"""`erf --images`: real images (written here as PNGs), resized, centre-cropped and normalised,
and a tiny model trained a few steps here, so that trained weights changing the ERF is shown."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
Image = pytest.importorskip("PIL.Image")
from PIL import ImageDraw  # noqa: E402
from torch import nn  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.core.errors import CnncalcError  # noqa: E402
from cnncalc.measure.images import IMAGENET_MEAN, IMAGENET_STD, image_paths, load_images  # noqa: E402
from tests.conftest import cli  # noqa: E402


@pytest.fixture
def images(tmp_path):
    """Six synthetic scenes of different sizes: a colour field, slanted stripes, a dark disc."""
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(6):
        img = Image.new("RGB", (48 + 8 * i, 40), (20 * i, 80, 200 - 20 * i))
        draw = ImageDraw.Draw(img)
        for k in range(0, 64, 6 + i):
            draw.line([(k, 0), (k + 10, 40)], fill=(255, 255 - 30 * i, 0), width=2)
        draw.ellipse([10 + i, 8, 30 + i, 28], fill=(0, 0, 0))
        img.save(folder / f"scene{i}.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_images_are_resized_centre_cropped_and_normalised(tmp_path):
    img = Image.new("L", (60, 20), 0)  # 60 wide, 20 high: black, a white middle third
    ImageDraw.Draw(img).rectangle([20, 0, 39, 19], fill=255)
    img.save(tmp_path / "bar.png")
    (x,) = load_images(image_paths(str(tmp_path / "*.png")), (1, 10, 10), None, None)
    assert x.shape == (1, 10, 10)  # scale 1/2 (the shorter side 20 -> 10): 30×10, crop 10 wide
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert float(x[0, :, 3:7].min()) == pytest.approx(1.0, abs=0.02)  # the bar fills the middle
    rgb = Image.new("RGB", (8, 8), (255, 0, 0))
    rgb.save(tmp_path / "red.png")
    (y,) = load_images([tmp_path / "red.png"], (3, 8, 8), IMAGENET_MEAN, IMAGENET_STD)
    assert float(y[0, 0, 0]) == pytest.approx((1 - 0.485) / 0.229, rel=1e-4)
    assert float(y[1, 0, 0]) == pytest.approx((0 - 0.456) / 0.224, rel=1e-4)


def test_the_folder_and_its_mistakes(images, tmp_path):
    assert [p.name for p in image_paths(str(images))] == [f"scene{i}.png" for i in range(6)]
    with pytest.raises(CnncalcError, match="no images in"):
        image_paths(str(tmp_path / "nothing*"))
    grey = nn.Conv2d(1, 1, 3)
    with pytest.raises(CnncalcError, match="ImageNet's --mean is for 3 channels"):
        cnncalc.erf(grey, (1, 16, 16), images=str(images))
    with pytest.raises(CnncalcError, match="bad --std"):
        cnncalc.erf(grey, (1, 16, 16), images=str(images), mean="0.5", std="0")


def test_trained_weights_change_the_erf_on_images(images):
    torch.manual_seed(0)
    layers = [m for _ in range(4) for m in (nn.Conv2d(3, 3, 3, padding=1), nn.ReLU())][:-1]
    net = nn.Sequential(*layers)
    before = cnncalc.erf(net, (3, 24, 24), images=str(images))
    assert (before.samples, before.inputs) == (6, "images")
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(40):  # learn the identity: each output pixel should come to read its own
        x = torch.randn(8, 3, 24, 24)
        loss = (net(x) - x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = cnncalc.erf(net.eval(), (3, 24, 24), images=str(images))
    assert after.sigma[0] < 0.9 * before.sigma[0] and after.sigma[1] < 0.95 * before.sigma[1]
    # RepLKNet's high-contribution areas, on log10(1 + map), at its four thresholds
    assert [a.t for a in after.log_areas] == [0.2, 0.3, 0.5, 0.99]


def test_the_command_takes_images(images, tmp_path, monkeypatch):
    (tmp_path / "model.py").write_text(
        "from torch import nn\n"
        "class Net(nn.Sequential):\n"
        "    def __init__(self):\n"
        "        super().__init__(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),\n"
        "                         nn.Conv2d(4, 4, 3, padding=1))\n")
    monkeypatch.chdir(tmp_path)
    r = cli("erf", "model.py:Net", "--input", "3x24x24", "--images", str(images), "--mean",
            "none", "--std", "none", "-f", "json")
    assert r.code == 0, r.err
    assert (r.json()["samples"], r.json()["inputs"]) == (6, "images")
    r = cli("erf", "--stack", "3x3", "--images", str(images))
    assert r.code == 2 and "not --stack" in r.err
