"""Digits that touch: where a wide part may be cut, and which cut the model's answers support."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import cv2
import numpy as np

from classifier.photo_layout import Layout, Part
from classifier.preprocess import Prepared, _crop, _piece
from classifier.reader import assemble, calibrate
from classifier.segments import (
    APART_MARGIN,
    LIKELY_PIECE,
    SURE_PIECE,
    Segment,
    best_split,
    cut_columns,
    cut_paths,
    spans,
    strokes_crossed,
)


def _touching_rings() -> np.ndarray:
    """Two 0s, 40 px tall, joined by a short stroke between them (an "00" written fast)."""
    mask = np.zeros((44, 64), np.uint8)
    cv2.ellipse(mask, (15, 22), (12, 19), 0, 0, 360, 1, 3)
    cv2.ellipse(mask, (48, 22), (12, 19), 0, 0, 360, 1, 3)
    cv2.line(mask, (26, 30), (37, 30), 1, 3)
    return mask > 0


def test_a_part_as_wide_as_two_digits_is_cut_where_they_touch() -> None:
    mask = _touching_rings()
    cuts = cut_columns(mask, stroke=3.0)
    assert cuts and all(27 <= c <= 36 for c in cuts), cuts
    edges, runs = spans(mask, stroke=3.0)
    assert edges[0] == 0 and edges[-1] == mask.shape[1]
    assert runs[0] == (0, len(edges) - 1)  # the whole part first
    assert (0, 1) in runs and (len(edges) - 2, len(edges) - 1) in runs


def test_a_long_even_stroke_is_cut_once_and_leaves_cuts_for_the_next_join() -> None:
    # "000": a long ligature of even thickness, then a short join. Each column of the
    # ligature is a minimum: they once took all five cuts, leaving none for the join.
    mask = np.zeros((44, 120), np.uint8)
    cv2.ellipse(mask, (14, 22), (11, 19), 0, 0, 360, 1, 3)
    cv2.line(mask, (25, 30), (50, 30), 1, 3)
    cv2.ellipse(mask, (62, 22), (11, 19), 0, 0, 360, 1, 3)
    cv2.line(mask, (73, 30), (83, 30), 1, 3)
    cv2.ellipse(mask, (95, 22), (11, 19), 0, 0, 360, 1, 3)
    cuts = cut_columns(mask > 0, stroke=3.0)
    assert sum(25 <= c <= 50 for c in cuts) == 1 and any(73 <= c <= 84 for c in cuts), cuts


def _leaning_strokes() -> np.ndarray:
    """Two thick strokes leaning the same way, 40 px tall, overlapping across: no column
    between them is free of ink, but a slanted gap is."""
    mask = np.zeros((40, 60), np.uint8)
    cv2.line(mask, (10, 39), (33, 0), 1, 5)
    cv2.line(mask, (27, 39), (50, 0), 1, 5)
    return mask > 0


def test_a_cut_bends_along_the_gap_between_digits_that_lean_into_each_other() -> None:
    mask = _leaning_strokes()
    rows = np.arange(mask.shape[0])
    assert all(mask[:, c].any() for c in range(10, 51))  # a straight cut slices a stroke
    (path,) = cut_paths(mask, [30])
    assert not mask[rows, path].any()  # the bent one crosses no ink
    assert (np.abs(np.diff(path)) <= 1).all()  # one column sideways a row, at most
    # Where strokes join, the cut crosses as little ink as it can: the join's width.
    joined = mask.copy()
    joined[18:21, :] = True  # a ligature 3 px thick across everything
    assert joined[rows, cut_paths(joined, [30])[0]].sum() == 3


def test_cuts_traced_together_are_each_the_cut_traced_alone() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        h, w = int(rng.integers(4, 70)), int(rng.integers(8, 140))
        mask = rng.random((h, w)) < rng.uniform(0.05, 0.5)
        columns = sorted({int(c) for c in rng.integers(1, w - 1, size=4)})
        together = cut_paths(mask, columns)
        alone = [cut_paths(mask, [c])[0] for c in columns]
        assert all(np.array_equal(a, b) for a, b in zip(together, alone, strict=True))
        assert all(((p >= 1) & (p < w)).all() for p in together)


def test_a_piece_between_bent_cuts_holds_only_its_own_stroke() -> None:
    mask = _leaning_strokes()
    layout = Layout([], mask.astype(np.uint16), [])  # one part, label 1
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    whole = Part(x, y, w, h, int(mask.sum()), [1])
    own = layout.mask_of(whole)
    (cut,) = cut_paths(own, [30 - x])
    left = _piece(whole, own, np.zeros(h, np.intp), cut)
    right = _piece(whole, own, cut, np.full(h, w, np.intp))
    assert left is not None and right is not None
    assert left.x1 > right.x  # their boxes overlap across
    first = np.zeros(mask.shape, np.uint8)
    cv2.line(first, (10, 39), (33, 0), 1, 5)
    assert left.area == int(first.sum()) and right.area == int(mask.sum()) - left.area
    assert np.array_equal(layout.mask_of(left), first[left.y : left.y1, left.x : left.x1] > 0)
    # The right piece's crop: its own stroke, and of the left one's only what lies within a
    # pixel of the cut (a blurred edge), though both are one part.
    strength = mask.astype(np.float32)
    ink = SimpleNamespace(strength=lambda y0, y1, x0, x1: strength[y0:y1, x0:x1])
    crop = _crop(ink, layout, right)  # type: ignore[arg-type]
    assert right.within is not None
    beyond = ~(cv2.dilate(right.within.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    assert crop[layout.mask_of(right)].min() == 1.0
    assert crop[beyond].max() == 0.0 and (first[right.y : right.y1, right.x : right.x1] > 0)[beyond].any()


def test_a_part_narrower_than_tall_is_not_cut() -> None:
    mask = np.zeros((40, 34), bool)  # a 0 as MNIST's are, a little narrower than tall
    cv2.ellipse(mask.view(np.uint8), (17, 20), (14, 18), 0, 0, 360, 1, 3)
    assert spans(mask, stroke=3.0) == ([], [])


def test_the_pieces_are_read_only_when_the_model_is_fairly_sure_of_each() -> None:
    # A part offered whole and cut once: the whole (0-2), and its two pieces (0-1, 1-2).
    segments = [Segment(0, 0, 2, 2), Segment(0, 0, 1, 2), Segment(0, 1, 2, 2)]
    assert best_split(segments, [0.4, 0.99, 0.98]) == [1, 2]
    # The model is sure of the whole: it stands (a wide 0 is not two 1s).
    assert best_split(segments, [0.999, 0.99, 0.98]) == [0]
    # A piece read less surely than a piece must be: the whole stands, however unsure.
    assert best_split(segments, [0.4, 0.99, LIKELY_PIECE - 0.01]) == [0]
    assert best_split(segments, [0.4, 0.99, LIKELY_PIECE]) == [1, 2]


def test_pieces_that_each_look_like_a_digit_stand_when_read_nearly_as_well_as_the_whole() -> None:
    # A touching "44": the model reads it whole as a 4 at 0.998, its pieces at 1.0 and 0.993.
    whole, left, right = Segment(0, 0, 2, 2), Segment(0, 0, 1, 2, True), Segment(0, 1, 2, 2, True)
    assert best_split([whole, left, right], [0.998, 1.0, 0.993]) == [1, 2]
    # Only pieces that stand apart get the margin: half a 9, its loop, is shorter than it.
    assert best_split([whole, left, replace(right, apart=False)], [0.998, 1.0, 0.993]) == [0]
    # ... and only the margin: pieces read much less well than the whole leave it whole.
    below = 0.998 * APART_MARGIN - 0.001
    assert best_split([whole, left, right], [0.998, 1.0, below]) == [0]
    assert best_split([whole, left, right], [0.998, 1.0, below + 0.002]) == [1, 2]
    # A run mixing pieces apart with one that is not gets no margin either.
    middle = Segment(0, 1, 2, 3, True)
    three = [Segment(0, 0, 3, 3), Segment(0, 0, 1, 3, True), middle, Segment(0, 2, 3, 3)]
    assert best_split(three, [0.9995, 1.0, 1.0, 0.999]) == [0]
    assert best_split([*three[:3], replace(three[3], apart=True)], [0.9995, 1.0, 1.0, 0.999]) == [1, 2, 3]


def test_a_cut_counts_the_strokes_it_crosses() -> None:
    mask = _touching_rings()
    h = mask.shape[0]
    assert strokes_crossed(mask, np.full(h, 32)) == 1  # the stroke joining the two 0s
    assert strokes_crossed(mask, np.full(h, 15)) == 2  # a ring's top and bottom
    assert strokes_crossed(mask, np.full(h, 31)) == 1
    mask[:, 31] = False  # the join broken: the cut crosses no ink
    assert strokes_crossed(mask, np.full(h, 31)) == 0
    # A cut bent along the gap crosses only what it meets on its way.
    assert strokes_crossed(_touching_rings(), cut_paths(_touching_rings(), [31])[0]) == 1


def _sure_of(digit: int, confidence: float) -> np.ndarray:
    probs = np.full(10, (1.0 - confidence) / 9, np.float32)
    probs[digit] = confidence
    return probs


def test_the_reader_answers_from_the_pieces_of_a_part_cut_in_two() -> None:
    # Rows: "4", a wide part "31" the model cannot read whole, then its two pieces.
    prepared = Prepared(
        digits=np.zeros((4, 28, 28), np.uint8),
        boxes=[(0, 0, 20, 30), (30, 0, 40, 30), (30, 0, 18, 30), (50, 2, 20, 28)],
        gray=np.zeros((40, 80), np.uint8),
        scale=1.0,
        filled=[False] * 4,
        segments=[None, Segment(1, 0, 2, 2), Segment(1, 0, 1, 2), Segment(1, 1, 2, 2)],
    )
    assert prepared.parts_of_look(0) == [0, 1]
    # (Raw probabilities: the reader calibrates them, which softens them.)
    probabilities = np.stack(
        [_sure_of(4, 0.9999), _sure_of(0, 0.5), _sure_of(3, 0.9999), _sure_of(1, 0.9998)]
    )
    reading = assemble(prepared, probabilities)
    assert reading.number == "431" and reading.kept == [0, 2, 3]
    assert [d.box for d in reading.digits] == [prepared.boxes[i] for i in (0, 2, 3)]
    assert reading.guessed_pieces == 0 and not reading.unsure
    # A piece the model is fairly but not quite sure of (calibrated below SURE_PIECE, not
    # below LIKELY_PIECE): still read, but where the part was cut is a guess.
    probabilities[3] = _sure_of(1, 0.998)
    calibrated = float(calibrate(probabilities[3:])[0].max())
    assert LIKELY_PIECE <= calibrated < SURE_PIECE
    guessed = assemble(prepared, probabilities)
    assert guessed.number == "431" and guessed.guessed_pieces == 1 and guessed.unsure
    probabilities[1] = _sure_of(8, 0.99999)  # sure of the whole: one digit
    assert assemble(prepared, probabilities).number == "48"


def test_pieces_read_no_better_than_the_whole_make_the_answer_unsure() -> None:
    # A wide part the model reads whole as a sure 4, and its two pieces, which stand apart
    # (``segments.APART_MARGIN``), each sure too but together read a little less well: a
    # touching "44", or a wide 0 cut across its bottom into a "6" and a "7".
    prepared = Prepared(
        digits=np.zeros((3, 28, 28), np.uint8),
        boxes=[(0, 0, 40, 30), (0, 0, 18, 30), (20, 2, 20, 28)],
        gray=np.zeros((40, 80), np.uint8),
        scale=1.0,
        filled=[False] * 3,
        segments=[Segment(0, 0, 2, 2), Segment(0, 0, 1, 2, True), Segment(0, 1, 2, 2, True)],
    )
    probabilities = np.stack([_sure_of(4, 0.99999), _sure_of(4, 0.99998), _sure_of(4, 0.99997)])
    calibrated = calibrate(probabilities).max(axis=1)
    assert calibrated[1] * calibrated[2] < calibrated[0] and min(calibrated[1:]) >= SURE_PIECE
    reading = assemble(prepared, probabilities)
    assert reading.number == "44" and reading.guessed_pieces == 2 and reading.unsure
    # Pieces read better than the whole are the model's own answer: sure.
    probabilities[0] = _sure_of(4, 0.9999)
    reading = assemble(prepared, probabilities)
    assert reading.number == "44" and reading.guessed_pieces == 0 and not reading.unsure


def test_a_blob_is_read_whole_never_from_its_pieces() -> None:
    # A part flagged as a blob is a digit only if the model is sure of it and it is not a 0
    # or 1; read from its pieces, it would have dodged that rule ("10" from a pebble).
    prepared = Prepared(
        digits=np.zeros((3, 28, 28), np.uint8),
        boxes=[(0, 0, 40, 30), (0, 0, 18, 30), (20, 0, 20, 30)],
        gray=np.zeros((40, 80), np.uint8),
        scale=1.0,
        filled=[True, False, False],
        segments=[Segment(0, 0, 2, 2), Segment(0, 0, 1, 2), Segment(0, 1, 2, 2)],
    )
    # The whole sure enough to be kept as a blob (calibrated 0.91-0.98), the pieces so sure
    # that, were it not a blob, they would be read instead.
    probabilities = np.stack([_sure_of(5, 0.998), _sure_of(1, 0.99999), _sure_of(0, 0.99999)])
    assert assemble(replace(prepared, filled=[False] * 3), probabilities).number == "10"
    assert assemble(prepared, probabilities).number == "5"
