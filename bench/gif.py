"""GIF palettes: what each way of reducing an animation's frames to 256 colours costs and gives.

`python -m bench.gif [--runs N] [--width W] [IMAGE...]`: every frame of the animation (the
corpus' 16-frame pan by default) resized to W wide (240, as the bench's gif240 job) once, then
each candidate writes the GIF, round by round, interleaved; prints its median time, the file size
and the PSNR of the decoded frames against the frames it was given (mean and lowest).
`per-frame median cut` is what Pillow's GIF writer does with RGB frames, and so what our encoder
does today; the others are the alternatives the performance issue names (a palette shared by
every frame, another quantiser).
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageChops, ImageSequence, ImageStat

ANIMATION = Path(__file__).resolve().parent.parent / "tests/corpus/animated_pan_16f_480x270.gif"
MEDIAN_CUT, OCTREE = Image.Quantize.MEDIANCUT, Image.Quantize.FASTOCTREE
Frames = list[Image.Image]


def _frames(path: Path, width: int) -> Frames:
    with Image.open(path) as image:
        frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
    height = round(frames[0].height * width / frames[0].width)
    return [frame.resize((width, height), Image.Resampling.LANCZOS) for frame in frames]


def _save(frames: Frames) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], loop=0, duration=100)
    return buffer.getvalue()


def _shared(method: Image.Quantize, dither: Image.Dither) -> Callable[[Frames], bytes]:
    def run(frames: Frames) -> bytes:
        montage = Image.new("RGB", (frames[0].width, frames[0].height * len(frames)))
        for index, frame in enumerate(frames):
            montage.paste(frame, (0, index * frame.height))
        palette = montage.quantize(256, method=method)
        return _save([frame.quantize(palette=palette, dither=dither) for frame in frames])

    return run


def _per_frame(method: Image.Quantize) -> Callable[[Frames], bytes]:
    return lambda frames: _save([frame.quantize(256, method=method) for frame in frames])


def _sampled(factor: int) -> Callable[[Frames], bytes]:
    def run(frames: Frames) -> bytes:
        return _save(
            [
                frame.quantize(palette=frame.reduce(factor).quantize(256), dither=Image.Dither.NONE)
                for frame in frames
            ]
        )

    return run


CANDIDATES: dict[str, Callable[[Frames], bytes]] = {
    "per-frame median cut": _save,  # Pillow's GIF writer quantises each RGB frame itself
    "per-frame fast octree": _per_frame(OCTREE),
    "per-frame max coverage": _per_frame(Image.Quantize.MAXCOVERAGE),
    "per-frame median cut of 1/9 of the pixels": _sampled(3),
    "shared median cut, dithered": _shared(MEDIAN_CUT, Image.Dither.FLOYDSTEINBERG),
    "shared median cut": _shared(MEDIAN_CUT, Image.Dither.NONE),
    "shared fast octree, dithered": _shared(OCTREE, Image.Dither.FLOYDSTEINBERG),
}


def _psnr(a: Image.Image, b: Image.Image) -> float:
    stat = ImageStat.Stat(ImageChops.difference(a, b))
    mse = sum(stat.sum2) / (len(stat.sum2) * a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--width", type=int, default=240)
    parser.add_argument("images", nargs="*", type=Path, default=[ANIMATION])
    args = parser.parse_args(argv)
    print(f"GIF palettes, {args.runs} interleaved runs")
    print("| animation | candidate | ms | KB | PSNR dB mean / lowest frame |")
    print("|---|---|---|---|---|")
    for path in args.images:
        frames = _frames(path, args.width)
        times: dict[str, list[float]] = {name: [] for name in CANDIDATES}
        outputs: dict[str, bytes] = {}
        for _ in range(args.runs):
            for name, candidate in CANDIDATES.items():
                started = time.perf_counter()
                outputs[name] = candidate(frames)
                times[name].append(time.perf_counter() - started)
        label = f"{path.name} {len(frames)} x {frames[0].width}x{frames[0].height}"
        for name, data in outputs.items():
            with Image.open(io.BytesIO(data)) as decoded:
                scores = [
                    _psnr(frame, written.convert("RGB"))
                    for frame, written in zip(frames, ImageSequence.Iterator(decoded), strict=True)
                ]
            print(
                f"| {label} | {name} | {statistics.median(times[name]) * 1000:.0f} "
                f"| {len(data) / 1024:.0f} | {statistics.mean(scores):.2f} / {min(scores):.2f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
