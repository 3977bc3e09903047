"""How well the whole photo pipeline reads rendered test photos (``digitbot photo-eval``).

Samples come from ``classifier.synth`` (MNIST test digits only). The ``report`` split is
for the numbers we quote; the ``calibration`` split, disjoint in digits and random
stream, fits the confidence calibration (temperature and "not sure" threshold), so the
calibration error is always measured on photos it was not fitted on; the ``dev`` split is
the one to look at while changing the pipeline (``--split dev --failures`` names the
images read wrong, to render again with ``synth.make_sample`` and look at).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classifier import synth
from classifier.preprocess import Prepared
from classifier.reader import TEMPERATURE, UNSURE_BELOW, DigitReader, assemble, calibrate
from classifier.serving import Classifier

# Targets from issue 3.
GROUPS: dict[str, tuple[tuple[str, ...], float]] = {
    "single digits, photos": (tuple(synth.PHOTO_LOOKS), 0.99),
    "single digits, drawings and crops": (synth.DRAWING_STYLES, 0.99),
    "single digits, all": (synth.SINGLE_STYLES, 0.99),
    "numbers of 2-4 digits": (("number2", "number3", "number4"), 0.95),
    "numbers of 5-6 digits": (("number5-6",), 0.0),
    "numbers of 2-4 touching digits": (("number-touching",), 0.0),
    "no digit (empty images)": (synth.EMPTY_STYLES, 0.95),
}
ECE_BINS = 15
TARGET_SURE_ACCURACY = 0.995  # digits not marked "not sure" should be right this often


@dataclass
class Outcome:
    style: str
    index: int  # the sample's index in its style and split (``synth.make_sample``)
    label: str  # expected digits ("" for no digit)
    read: str  # what was read ("" for no digit)
    error: str | None  # the image could not be read
    seconds: float  # bytes to prepared digits
    raw: np.ndarray = field(repr=False)  # (n, 10) the model's uncalibrated probabilities

    @property
    def correct(self) -> bool:
        return self.error is None and self.read == self.label


def evaluate(
    reader: DigitReader,
    styles: Sequence[str],
    count: int,
    split: str,
    x: np.ndarray,
    y: np.ndarray,
    progress: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Read ``count`` samples of each style."""
    outcomes: list[Outcome] = []
    for style in styles:
        for sample in synth.generate(style, count, split, x, y):
            started = time.perf_counter()
            prepared = reader.prepare(sample.data)
            seconds = time.perf_counter() - started
            if isinstance(prepared, Prepared):
                raw = reader.classifier.predict(prepared.digits)
                reading = assemble(prepared, raw)
                raw = reading.of_digits(raw)  # calibration is fitted on the digits answered
            else:
                raw, reading = np.zeros((0, 10), np.float32), prepared
            outcomes.append(
                Outcome(style, sample.index, sample.label, reading.number, reading.error, seconds, raw)
            )
        if progress:
            done = [o for o in outcomes if o.style == style]
            progress(f"{style}: {sum(o.correct for o in done)}/{len(done)}")
    return outcomes


def digit_pairs(outcomes: Iterable[Outcome]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 10) raw probabilities and (n,) true digits of every digit read from an image
    whose digits were all found (so each read digit has a known true value)."""
    probabilities: list[np.ndarray] = []
    truth: list[int] = []
    for o in outcomes:
        if o.label and len(o.raw) == len(o.label):
            probabilities.append(o.raw)
            truth.extend(int(c) for c in o.label)
    if not probabilities:
        return np.zeros((0, 10), np.float32), np.zeros(0, np.int64)
    return np.concatenate(probabilities), np.asarray(truth)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted
    by how many answers fall in each bin."""
    if confidence.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap += members.mean() * abs(float(confidence[members].mean()) - float(correct[members].mean()))
    return gap


def fit_temperature(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of the true digits."""
    if truth.size == 0:
        return 1.0
    grid = np.exp(np.linspace(np.log(0.3), np.log(5.0), 200))
    losses = [
        -float(np.mean(np.log(calibrate(probabilities, t)[np.arange(truth.size), truth] + 1e-12)))
        for t in grid
    ]
    return float(grid[int(np.argmin(losses))])


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, target: float = TARGET_SURE_ACCURACY
) -> float:
    """The lowest confidence above which answers are right at least ``target`` of the time."""
    order = np.argsort(-confidence)
    hits = np.cumsum(correct[order])
    accuracy = hits / np.arange(1, order.size + 1)
    good = np.flatnonzero(accuracy >= target)
    if good.size == 0:
        return 1.0
    # The largest set, taken from the most confident down, that still meets the target.
    return float(confidence[order][good[-1]])


def calibration_report(outcomes: Sequence[Outcome], temperature: float, threshold: float) -> dict[str, float]:
    probabilities, truth = digit_pairs(outcomes)
    raw_conf = probabilities.max(axis=1) if truth.size else np.zeros(0)
    calibrated = calibrate(probabilities, temperature) if truth.size else probabilities
    conf = calibrated.max(axis=1) if truth.size else np.zeros(0)
    correct = (calibrated.argmax(axis=1) == truth) if truth.size else np.zeros(0, bool)
    sure = conf >= threshold
    return {
        "digits": int(truth.size),
        "ece_uncalibrated": expected_calibration_error(raw_conf, correct),
        "ece": expected_calibration_error(conf, correct),
        "temperature": temperature,
        "threshold": threshold,
        "share_not_sure": float(np.mean(~sure)) if truth.size else 0.0,
        "accuracy_sure": float(np.mean(correct[sure])) if sure.any() else 0.0,
        "accuracy_not_sure": float(np.mean(correct[~sure])) if (~sure).any() else 0.0,
        "errors_flagged": float(np.mean(~sure[~correct])) if (~correct).any() else 1.0,
    }


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    by_style: dict[str, dict[str, float]] = {}
    for style in dict.fromkeys(o.style for o in outcomes):
        mine = [o for o in outcomes if o.style == style]
        by_style[style] = {
            "n": len(mine),
            "accuracy": float(np.mean([o.correct for o in mine])),
            "prepare_ms_p50": float(np.median([o.seconds for o in mine]) * 1000),
        }
    groups: dict[str, dict[str, float]] = {}
    for name, (styles, target) in GROUPS.items():
        mine = [o for o in outcomes if o.style in styles]
        if mine:
            groups[name] = {
                "n": len(mine),
                "accuracy": float(np.mean([o.correct for o in mine])),
                "target": target,
            }
    return {"styles": by_style, "groups": groups}


def format_report(summary: dict[str, Any], calibration: dict[str, float] | None) -> str:
    lines = [f"{'style':24s} {'n':>5s} {'correct':>8s} {'prepare p50':>12s}"]
    for style, row in summary["styles"].items():
        lines.append(f"{style:24s} {row['n']:5.0f} {row['accuracy']:8.1%} {row['prepare_ms_p50']:9.1f} ms")
    lines.append("")
    for name, row in summary["groups"].items():
        target = f"   (target >= {row['target']:.0%})" if row["target"] else ""
        lines.append(f"{name:36s} {row['accuracy']:6.1%} of {row['n']:.0f}{target}")
    if calibration:
        c = calibration
        lines += [
            "",
            f"confidence of {c['digits']:.0f} digits: ECE {c['ece']:.4f}"
            f" at temperature {c['temperature']:.2f} (uncalibrated {c['ece_uncalibrated']:.4f})",
            f'"not sure" below {c["threshold"]:.2f}: {c["share_not_sure"]:.1%} of digits flagged;'
            f" sure ones {c['accuracy_sure']:.2%} right, flagged ones {c['accuracy_not_sure']:.1%} right;"
            f" {c['errors_flagged']:.0%} of wrong digits flagged",
        ]
    return "\n".join(lines)


def format_failures(outcomes: Sequence[Outcome]) -> str:
    """One line per image read wrong: its style and index, what it holds and what was read."""
    lines = ["images read wrong (style, index: expected -> read):"]
    for o in outcomes:
        if not o.correct:
            read = f"error: {o.error}" if o.error else repr(o.read) if o.read else "no digit"
            lines.append(f"  {o.style} {o.index}: {o.label or 'no digit'} -> {read}")
    return "\n".join(lines) if len(lines) > 1 else "no image read wrong"


def run_cli(args: argparse.Namespace) -> int:
    """``digitbot photo-eval``: see ``classifier.cli``."""
    styles = args.styles.split(",") if args.styles else list(synth.STYLES)
    unknown = [s for s in styles if s not in synth.STYLES]
    if unknown:
        known = ", ".join(synth.STYLES)
        print(f"digitbot photo-eval: unknown styles {unknown}; known: {known}", file=sys.stderr)
        return 2
    split = args.split or ("calibration" if args.calibrate else "report")
    if args.calibrate and split != "calibration":
        print("digitbot photo-eval: --calibrate fits on the calibration split only", file=sys.stderr)
        return 2
    reader = DigitReader(Classifier(args.model))
    x, y = synth.load_test_digits(args.data)
    model = f"{reader.classifier.path} (version {reader.classifier.version})"
    print(f"model {model}; split {split}, {args.count} images per style")
    outcomes = evaluate(
        reader, styles, args.count, split, x, y, progress=lambda line: print("  " + line, flush=True)
    )
    summary = summarise(outcomes)
    if args.calibrate:
        probabilities, truth = digit_pairs(outcomes)
        temperature = fit_temperature(probabilities, truth)
        calibrated = calibrate(probabilities, temperature)
        threshold = choose_threshold(calibrated.max(axis=1), calibrated.argmax(axis=1) == truth)
        calibration = calibration_report(outcomes, temperature, threshold)
        print(format_report(summary, calibration))
        fitted = f"TEMPERATURE = {temperature:.2f}, UNSURE_BELOW = {threshold:.2f}"
        print(f"\nfitted for classifier/reader.py: {fitted}")
    else:
        calibration = calibration_report(outcomes, TEMPERATURE, UNSURE_BELOW)
        print(format_report(summary, calibration))
    if args.failures:
        print(format_failures(outcomes))
    if args.json:
        print(json.dumps({"split": split, **summary, "calibration": calibration}))
    return 0
