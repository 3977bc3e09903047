"""What hostile pictures cost the classifier's decoding and preprocessing: seconds and peak
memory per file, each measured in a fresh process (``classifier.preprocess.prepare``, the
function the bot's worker threads run), with the time and pair checks spent grouping ink
into digits (``photo_layout.group_parts``); then, for the 40-megapixel files, decoding alone
(``imageio.decode``) as ``prepare`` asks for it first (``min_side=DECODE_SIDE``) and at full
resolution.

The bot runs ``DIGITBOT_WORKERS`` of these at once and lets one user have
``DIGITBOT_MAX_IN_FLIGHT_PER_USER`` photos in flight, so a file that takes 1 GB or 20 s here
takes that per worker. Files under the pixel cap (40 megapixels) are decoded: JPEGs at
reduced scale, anything else shrunk to at most ``imageio.FULL_SIDE`` pixels a side while it
is converted. Peak memory is the process's high-water mark (VmHWM, reset first) above what it
held before: ``ru_maxrss`` would start at the parent's peak.

    .venv/bin/python bench/bench_hostile.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

SIDE = 6300  # 39.7 megapixels: just under the decoder's 40-megapixel cap


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _page(lines: int) -> bytes:
    page = np.full((960, 1280), 245, np.uint8)
    scale, thick = {4: (2.0, 4), 8: (1.5, 3), 12: (1.1, 2)}[lines]
    text = "Lorem ipsum 0123456789 dolor sit amet consec"
    for i in range(lines):
        y = 60 + i * (900 // lines)
        cv2.putText(page, text, (20, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 20, thick)
    return _save(Image.fromarray(page), "JPEG", quality=90)


CASES: dict[str, Callable[[], bytes]] = {
    "JPEG 40 MP": lambda: _save(Image.new("RGB", (SIDE, SIDE), "white"), "JPEG"),
    "PNG grey 40 MP": lambda: _save(Image.new("L", (SIDE, SIDE), 255), "PNG"),
    "PNG RGB 40 MP": lambda: _save(Image.new("RGB", (SIDE, SIDE), "white"), "PNG"),
    "PNG RGBA 40 MP (transparent)": lambda: _save(Image.new("RGBA", (SIDE, SIDE)), "PNG"),
    "PNG 16-bit 40 MP": lambda: _save(Image.fromarray(np.full((SIDE, SIDE), 60000, np.uint16)), "PNG"),
    "TIFF float 40 MP": lambda: _save(
        Image.fromarray(np.ones((SIDE, SIDE), np.float32)), "TIFF", compression="tiff_deflate"
    ),
    "WebP 40 MP": lambda: _save(Image.new("RGB", (SIDE, SIDE), "white"), "WEBP", quality=10),
    "GIF 40 MP": lambda: _save(Image.new("L", (SIDE, SIDE), 255), "GIF"),
    "printed page, 4 lines": lambda: _page(4),
    "printed page, 8 lines": lambda: _page(8),
    "printed page, 12 lines": lambda: _page(12),
}

_PEAK = """
import json, sys, time
sys.path.insert(0, {root!r})
def kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0
"""

CHILD = (
    _PEAK
    + """
from classifier import photo_layout
from classifier.preprocess import prepare
from classifier.imageio import ImageError
grouping = {{"seconds": 0.0, "checks": 0, "parts": 0}}
group_parts, belong_together = photo_layout.group_parts, photo_layout._belong_together
def timed_group_parts(parts):
    started = time.process_time()
    try:
        return group_parts(parts)
    finally:
        grouping["seconds"] += time.process_time() - started
        grouping["parts"] = max(grouping["parts"], len(parts))
def counted_belong_together(a, b):
    grouping["checks"] += 1
    return belong_together(a, b)
photo_layout.group_parts, photo_layout._belong_together = timed_group_parts, counted_belong_together
data = open({path!r}, "rb").read()
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM)
base = kb("VmRSS")
started = time.process_time()
try:
    digits = len(prepare(data).digits)
except ImageError as exc:
    digits = str(exc)
print(json.dumps({{"cpu": time.process_time() - started, "peak_mb": (kb("VmHWM") - base) / 1024,
                  "digits": digits, **grouping}}))
"""
)

DECODE_CHILD = (
    _PEAK
    + """
from classifier.imageio import decode
from classifier.preprocess import DECODE_SIDE
data = open({path!r}, "rb").read()
min_side = DECODE_SIDE if {reduced!r} else 0
open("/proc/self/clear_refs", "w").write("5")
base = kb("VmRSS")
started = time.process_time()
decoded = decode(data, min_side=min_side)
print(json.dumps({{"cpu": time.process_time() - started, "peak_mb": (kb("VmHWM") - base) / 1024,
                  "min_side": min_side, "shape": decoded.gray.shape, "scale": decoded.scale}}))
"""
)


def _run(code: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", help="names (or parts of names) of the cases to run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digitbot-bench-hostile-"))
    path = work / "input.bin"
    chosen = {
        name: make
        for name, make in CASES.items()
        if not args.only or any(part.lower() in name.lower() for part in args.only)
    }
    made: dict[str, bytes] = {}
    print("prepare (bytes -> digits), each file in a fresh process")
    head = f"{'file':<30} {'bytes':>9} {'CPU s':>7} {'peak MB':>8}"
    print(f"{head} {'parts':>6} {'checks':>8} {'group s':>8}  result")
    for name, make in chosen.items():
        data = made[name] = make()
        path.write_bytes(data)
        try:
            result = _run(CHILD.format(root=str(ROOT), path=str(path)))
            digits = result["digits"]
            outcome = digits if isinstance(digits, str) else f"{digits} digits"
            print(
                f"{name:<30} {len(data):>9} {result['cpu']:>7.2f} {result['peak_mb']:>8.0f}"
                f" {result['parts']:>6} {result['checks']:>8} {result['seconds']:>8.3f}  {outcome}"
            )
        except subprocess.TimeoutExpired:
            print(f"{name:<30} {len(data):>9}  over 180 s")
        except subprocess.CalledProcessError as exc:
            print(f"{name:<30} {len(data):>9}  failed: {exc.stderr.strip().splitlines()[-1:]}")
    big = [name for name in chosen if "40 MP" in name]
    if big:
        print("\ndecode alone, each in a fresh process: reduced (as prepare asks first) and full resolution")
        print(f"{'file':<30} {'min_side':>8} {'CPU s':>7} {'peak MB':>8}  decoded")
        for name in big:
            path.write_bytes(made[name])
            for reduced in (True, False):
                try:
                    result = _run(DECODE_CHILD.format(root=str(ROOT), path=str(path), reduced=reduced))
                    height, width = result["shape"]
                    print(
                        f"{name:<30} {result['min_side']:>8} {result['cpu']:>7.2f} {result['peak_mb']:>8.0f}"
                        f"  {width}x{height} (1/{result['scale']:.3g})"
                    )
                except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as exc:
                    print(f"{name:<30}  failed: {exc}")
    path.unlink(missing_ok=True)
    work.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
