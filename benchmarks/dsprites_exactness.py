"""How exactly the procedural dSprites renderer reproduces the real images (book/design.md, "Procedural datasets").

Renders the factors of every image in ``shared/data/dsprites_subset.npz`` (20,000 real images)
and prints, per shape, the share of pixel-exact images and the mean per-image pixel
disagreement, separately for the 70 % of the subset the outlines were fitted on and the 30 %
held out (split: ``np.random.default_rng(0).permutation(20000)[:14000]`` = fitted). Also
checks the 320 real frames of ``dsprites.gif`` whose latents are known (book/design.md, "Procedural datasets").

    python benchmarks/dsprites_exactness.py [--subset PATH] [--gif PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from disentangle.data import dsprites_render

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def gif_frames_with_latents() -> list[tuple[int, list[int]]]:
    """(frame, [shape, scale, orientation, posX, posY]) for the GIF's sweeps at pos (0, 0)."""
    out = []
    for shape, first_scale, first_orient in ((2, 0, 18), (1, 192, 210), (0, 256, 274)):
        if shape != 2:
            out += [(first_scale + i, [shape, i, 0, 0, 0]) for i in range(6)]
        out += [(first_orient + i, [shape, 5, i, 0, 0]) for i in range(40)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=Path, default=SHARED / "dsprites_subset.npz")
    parser.add_argument("--gif", type=Path, default=SHARED / "dsprites.gif")
    args = parser.parse_args()

    z = np.load(args.subset, allow_pickle=False)
    imgs, classes = z["imgs"].astype(bool), z["latents_classes"]
    start = time.perf_counter()
    pred = dsprites_render.render(classes)
    seconds = time.perf_counter() - start
    wrong = (pred != imgs).reshape(len(imgs), -1).sum(1)
    fitted = np.zeros(len(imgs), bool)
    fitted[np.random.default_rng(0).permutation(len(imgs))[:14000]] = True
    print(f"rendered {len(imgs)} images in {seconds:.1f} s ({len(imgs) / seconds:.0f} images/s)")
    print(f"{'shape':8s} {'split':9s} {'n':>6s} {'exact %':>8s} {'mean disagreement %':>20s} {'max px':>7s}")
    for shape, name in enumerate(dsprites_render.SHAPES):
        for split, sel in (("all", np.ones_like(fitted)), ("fitted", fitted), ("held-out", ~fitted)):
            m = (classes[:, 0] == shape) & sel
            w = wrong[m]
            print(f"{name:8s} {split:9s} {m.sum():6d} {100 * np.mean(w == 0):8.2f} {100 * w.mean() / 4096:20.4f} {w.max():7d}")
    print(f"{'all':8s} {'all':9s} {len(imgs):6d} {100 * np.mean(wrong == 0):8.2f} {100 * wrong.mean() / 4096:20.4f}")

    if args.gif.exists():
        gif = Image.open(args.gif)
        frames, latents = zip(*gif_frames_with_latents())
        real = []
        for f in frames:
            gif.seek(f)
            real.append(np.asarray(gif.convert("L")) > 127)
        gw = (dsprites_render.render(np.array(latents)) != np.array(real)).reshape(len(real), -1).sum(1)
        for shape, name in enumerate(dsprites_render.SHAPES):
            m = np.array(latents)[:, 0] == shape
            print(f"gif {name:8s} frames {m.sum():3d}: exact {100 * np.mean(gw[m] == 0):.1f} %, mean {gw[m].mean():.2f} px")


if __name__ == "__main__":
    main()
