"""Reading digits: the shared preprocessing plus the model, assembled into an answer.

``Reading.to_json`` is the contract of ``digitbot predict --json``: keys may be added, never
renamed, removed or given another meaning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from classifier.preprocess import OTHER_WAY, Box, ImageError, Prepared, prepare
from classifier.segments import SURE_PIECE, best_split
from classifier.serving import Classifier

# Below this confidence the answer is marked "not sure" and alternatives are listed.
# Chosen by `digitbot photo-eval --calibrate --count 100` on the calibration photos (3,204
# digits, model 1.3.0 at 99.65% on MNIST): the lowest confidence above which digits were
# right at least 99.5% of the time. 4.7% of digits fall below it, and 72% of the wrong ones.
UNSURE_BELOW = 0.91
# The model's probabilities are softened by this temperature so that a digit read with
# confidence p is right about p of the time on photos (fitted by the same command,
# minimising the log-loss on the calibration photos; it cut the calibration error there
# from 0.0079 to 0.0050). Refit both whenever the model is retrained.
TEMPERATURE = 1.44
TOP_K = 3
# Digits no blob can be: a 0 whose loop fills in is a dot, and a marker's 1 is a bar,
# which is kept by its length before it is ever taken for a blob.
BLOBS_ARE_NEVER = (0, 1)
FILLED_HINT = (
    "I found a filled shape, but could not tell which digit it is; "
    "if you wrote it with a thick marker, a thinner pen will help"
)


def calibrate(probabilities: np.ndarray, temperature: float = TEMPERATURE) -> np.ndarray:
    """Temperature scaling of (n, 10) softmax probabilities: softmax(log(p) / T)."""
    if temperature == 1.0 or len(probabilities) == 0:
        return np.asarray(probabilities, np.float32)
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return np.asarray(scaled / scaled.sum(axis=1, keepdims=True), np.float32)


@dataclass(frozen=True)
class DigitResult:
    digit: int
    confidence: float
    box: Box
    top: list[tuple[int, float]]  # the TOP_K most likely digits, best first


def number_of(digits: Sequence[DigitResult]) -> str:
    """The digits read left to right, as text."""
    return "".join(str(d.digit) for d in digits)


def joint_confidence(digits: Sequence[DigitResult]) -> float:
    """How sure a whole answer is: every digit must be right."""
    return float(np.prod([d.confidence for d in digits])) if digits else 0.0


@dataclass(frozen=True)
class Reading:
    digits: list[DigitResult] = field(default_factory=list)
    error: str | None = None  # the image could not be read at all
    hint: str | None = None  # the image was read but no digit was found: why
    # The prepared row each digit was read from (None: one digit per row, in order).
    kept: list[int] | None = None
    dropped: int = 0  # prepared parts not answered: blobs the model was not sure of
    # Digits read from pieces of a part cut apart (digits that touch) that the model was
    # fairly but not quite sure of (``segments.SURE_PIECE``), or read no better than the
    # part whole (``segments.APART_MARGIN``): where to cut was a guess.
    guessed_pieces: int = 0
    look: int = 0  # of a photo read twice or turned, the look answered from (``Prepared.look``)
    # Writing on other lines was seen and not read: only the main row is (``photo_layout``).
    other_lines: bool = False
    # Parts beside the digits were left out as too small, though together they may be one,
    # or as smaller writing (``photo_layout.pieces_left_out``), or digits as tall farther
    # along their line (``photo_layout.row_left_out``), or a card was read alone, the desk
    # around it left out (``photo_layout.Layout.card``), or a barcode was dropped beside
    # them (``photo_layout.beside_a_barcode``): the answer may lack a digit, or hold a bar.
    left_out: bool = False

    def of_digits(self, per_part: np.ndarray) -> np.ndarray:
        """Of an array with one row per prepared row (``Prepared.digits``), those read."""
        return per_part if self.kept is None else per_part[self.kept]

    @property
    def number(self) -> str:
        return number_of(self.digits)

    @property
    def confidence(self) -> float:
        return joint_confidence(self.digits)

    @property
    def unsure(self) -> bool:
        """The answer is not to be trusted as it stands (none is when no digit was read)."""
        if not self.digits:
            return False
        # A blob left out of a number may have been one of its digits.
        unsure_digit = any(d.confidence < UNSURE_BELOW for d in self.digits)
        return self.dropped > 0 or self.guessed_pieces > 0 or self.left_out or unsure_digit

    def to_json(self, file: str) -> dict[str, Any]:
        return {
            "file": file,
            "number": self.number,
            "digits": [
                {
                    "digit": d.digit,
                    "confidence": round(d.confidence, 4),
                    "box": list(d.box),
                    "top": [[digit, round(p, 4)] for digit, p in d.top],
                }
                for d in self.digits
            ],
            "unsure": self.unsure,
            "hint": self.hint,
            "other_lines": self.other_lines,
            "error": self.error,
        }


def assemble(prepared: Prepared, probabilities: np.ndarray) -> Reading:
    """Combine one image's preprocessing with the model's (n, 10) probabilities for it
    (calibrated here). A part shaped like a blob is a digit only if the model is sure of it.
    Of a photo read twice (``Prepared.look``), the second look answers when the model is sure
    of it and not of the first, or (then "not sure") when the first found no digit; of a
    photo whose row slopes, its other reading (turned, or as it lay: ``OTHER_WAY``) answers
    when the model is sure of that and not of the first, or of the first only as cut into
    pieces while the other is read without any cut. A part as wide as several digits
    is answered from its pieces when they read better (``_split``), "not sure" unless the
    model is sure of each piece (``Reading.guessed_pieces``)."""
    reading = _choose_look(prepared, calibrate(probabilities))
    if not reading.digits:
        return reading
    other_way = reading.look == OTHER_WAY
    other_lines = bool(prepared.notes.get("other_way_other_line_parts" if other_way else "other_line_parts"))
    # (Measured on the usual look and the other way only: the wide look's parts are its own.)
    left_out = (
        bool(prepared.notes.get("other_way_left_out" if other_way else "left_out")) and reading.look != 1
    )
    return replace(reading, other_lines=other_lines, left_out=left_out)


def _choose_look(prepared: Prepared, calibrated: np.ndarray) -> Reading:
    reading = _choose_wide_look(prepared, calibrated)
    other_way = prepared.parts_of_look(OTHER_WAY)
    sure = bool(reading.digits) and not reading.unsure
    # Where to cut a part is a guess: a leaning 2 as wide as tall, cut into its curl and the
    # rest, was read "12" for sure; turned level, it is read whole.
    if not other_way or (sure and not _from_pieces(prepared, reading)):
        return reading
    other = _read_parts(prepared, calibrated, other_way)
    if not other.digits or other.unsure or (sure and _from_pieces(prepared, other)):
        return reading
    return replace(other, look=OTHER_WAY)


def _from_pieces(prepared: Prepared, reading: Reading) -> bool:
    """Whether ``reading`` answered from a part's pieces (``_split``) anywhere."""
    return any(prepared.is_piece(k) for k in reading.kept or [])


def _choose_wide_look(prepared: Prepared, calibrated: np.ndarray) -> Reading:
    first = _read_parts(prepared, calibrated, prepared.parts_of_look(0))
    if not prepared.look:
        return first
    second = _read_parts(prepared, calibrated, prepared.parts_of_look(1))
    if second.digits and (not first.digits or (first.unsure and not second.unsure)):
        return replace(second, look=1)
    if not first.digits and not first.dropped and not second.digits and second.dropped:
        return replace(second, look=1)  # nothing read either way, but a blob: the fat-marker hint
    return first


def _read_parts(prepared: Prepared, calibrated: np.ndarray, parts: list[int]) -> Reading:
    """The reading of the prepared ``parts`` (indices), given the calibrated probabilities."""
    results = []
    kept = []
    dropped = guessed = 0
    for index in parts:
        probs = calibrated[index]
        if prepared.is_filled(index) and (probs.max() < UNSURE_BELOW or probs.argmax() in BLOBS_ARE_NEVER):
            # A pebble, a shadow, or a fat marker's digit the model cannot place.
            dropped += 1
            continue
        rows = _split(prepared, calibrated, index)
        # Pieces the model reads no better than the whole were chosen against it, for looking
        # like digits of their own (``segments.APART_MARGIN``): a guess too. A wide 0 open at
        # the top, cut across its bottom, was read as a sure "67" so.
        against_the_model = len(rows) > 1 and math.prod(
            float(calibrated[row].max()) for row in rows
        ) <= float(probs.max())
        for row in rows:
            results.append(_result(calibrated[row], prepared.boxes[row]))
            kept.append(row)
            if prepared.is_piece(row) and (calibrated[row].max() < SURE_PIECE or against_the_model):
                guessed += 1
    if results:
        return Reading(digits=results, kept=kept, dropped=dropped, guessed_pieces=guessed)
    return Reading(hint=FILLED_HINT if dropped else prepared.hint, kept=[], dropped=dropped)


def _result(probs: np.ndarray, box: Box) -> DigitResult:
    order = np.argsort(probs)[::-1][:TOP_K]
    top = [(int(i), float(probs[i])) for i in order]
    return DigitResult(digit=top[0][0], confidence=top[0][1], box=box, top=top)


def _split(prepared: Prepared, calibrated: np.ndarray, index: int) -> list[int]:
    """The rows part ``index`` is read from: itself, or the pieces of it the model reads
    best (digits that touch, ``segments``)."""
    rows = prepared.candidates_of(index)
    if not rows or prepared.is_filled(index):
        return [index]  # a blob kept is read whole: its pieces would dodge the blob rule
    segments = [s for s in (prepared.segments[r] for r in rows) if s is not None]
    assert len(segments) == len(rows)  # every candidate row says which cut it is
    chosen = best_split(segments, [float(calibrated[r].max()) for r in rows])
    return [rows[k] for k in chosen]


class DigitReader:
    """Bytes in, a ``Reading`` out; several images share one model call."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    def prepare(self, data: bytes) -> Prepared | Reading:
        """The CPU-heavy first half; a Reading with ``error`` set for unreadable bytes."""
        try:
            return prepare(data)
        except ImageError as exc:
            return Reading(error=str(exc))

    def classify(self, items: Sequence[Prepared | Reading]) -> list[Reading]:
        """The model half: one batched call for every digit of every prepared image."""
        prepared = [p for p in items if isinstance(p, Prepared)]
        digits = [p.digits for p in prepared if len(p.digits)]
        probabilities = (
            self.classifier.predict(np.concatenate(digits)) if digits else np.zeros((0, 10), np.float32)
        )
        readings: list[Reading] = []
        offset = 0
        for item in items:
            if isinstance(item, Reading):
                readings.append(item)
                continue
            n = len(item.digits)
            readings.append(assemble(item, probabilities[offset : offset + n]))
            offset += n
        return readings

    def read(self, data: bytes) -> Reading:
        return self.classify([self.prepare(data)])[0]

    def read_many(self, images: Sequence[bytes]) -> list[Reading]:
        return self.classify([self.prepare(d) for d in images])
