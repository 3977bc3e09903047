"""Confidence: temperature scaling, its fitting, the calibration error and the "not sure"
threshold chosen from data."""

from __future__ import annotations

import numpy as np

from classifier.photo_eval import choose_threshold, expected_calibration_error, fit_temperature
from classifier.preprocess import OTHER_WAY, Prepared
from classifier.reader import FILLED_HINT, UNSURE_BELOW, assemble, calibrate
from classifier.segments import Segment


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True), np.float32)


def test_temperature_scaling_keeps_the_answer_and_changes_the_confidence() -> None:
    rng = np.random.default_rng(0)
    probabilities = _softmax(rng.normal(0, 4, (50, 10)))
    assert np.allclose(calibrate(probabilities, 1.0), probabilities)
    softer, sharper = calibrate(probabilities, 2.0), calibrate(probabilities, 0.5)
    assert np.allclose(softer.sum(axis=1), 1.0, atol=1e-5)
    assert (softer.argmax(axis=1) == probabilities.argmax(axis=1)).all()
    assert (softer.max(axis=1) <= probabilities.max(axis=1) + 1e-6).all()
    assert (sharper.max(axis=1) >= probabilities.max(axis=1) - 1e-6).all()


def test_fitting_recovers_the_temperature_that_made_a_model_overconfident() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2.5, (4000, 10))
    truth = np.array([rng.choice(10, p=p) for p in _softmax(logits)])  # honest probabilities
    overconfident = _softmax(logits * 2.0)  # the same model, twice as sure of itself
    temperature = fit_temperature(overconfident, truth)
    assert 1.7 < temperature < 2.3
    honest = calibrate(overconfident, temperature)
    correct = honest.argmax(axis=1) == truth
    before = expected_calibration_error(overconfident.max(axis=1), correct)
    after = expected_calibration_error(honest.max(axis=1), correct)
    assert after < before / 2 and after < 0.03


def test_calibration_error_of_perfect_and_of_overconfident_answers() -> None:
    confidence = np.full(1000, 0.9)
    assert expected_calibration_error(confidence, np.arange(1000) < 900) < 1e-9
    assert abs(expected_calibration_error(confidence, np.arange(1000) < 600) - 0.3) < 1e-9


def test_the_threshold_keeps_sure_answers_right_often_enough() -> None:
    rng = np.random.default_rng(2)
    confidence = rng.uniform(0.3, 1.0, 5000)
    correct = rng.random(5000) < confidence  # right as often as claimed
    threshold = choose_threshold(confidence, correct, target=0.97)
    sure = confidence >= threshold
    assert correct[sure].mean() >= 0.97
    assert 0.9 < threshold < 1.0
    assert 0.0 < UNSURE_BELOW < 1.0


def _sure_of(digit: int, confidence: float) -> np.ndarray:
    """Raw probabilities whose calibrated top answer is ``digit`` at ``confidence``."""
    for raw in np.linspace(0.1, 1.0, 2000):
        probs = np.full(10, (1.0 - raw) / 9, np.float32)
        probs[digit] = raw
        if calibrate(probs[None])[0, digit] >= confidence:
            return probs
    raise AssertionError("unreachable confidence")


def _prepared(filled: list[bool]) -> Prepared:
    n = len(filled)
    boxes = [(10 * i, 0, 8, 12) for i in range(n)]
    return Prepared(
        np.zeros((n, 28, 28), np.uint8), boxes, np.zeros((4, 4), np.uint8), 1.0, "blank", filled=filled
    )


def test_a_blob_is_a_digit_only_when_the_model_is_sure_and_never_a_0_or_a_1() -> None:
    sure_8, unsure_6 = _sure_of(8, 0.99), _sure_of(6, UNSURE_BELOW - 0.2)
    sure_0, sure_1 = _sure_of(0, 0.99), _sure_of(1, 0.99)
    assert assemble(_prepared([True]), sure_8[None]).number == "8"
    for probs in (unsure_6, sure_0, sure_1):
        reading = assemble(_prepared([True]), probs[None])
        assert reading.number == "" and reading.hint == FILLED_HINT
    # Strokes are read however unsure the model is ("not sure" is the answer's to give).
    assert assemble(_prepared([False]), unsure_6[None]).number == "6"
    # A blob beside real digits: only the blob goes, the digits stay in order, and the
    # answer says it may be short of a digit.
    reading = assemble(_prepared([False, True, False]), np.stack([sure_1, unsure_6, sure_8]))
    assert reading.number == "18" and [d.box[0] for d in reading.digits] == [0, 20]
    assert reading.kept == [0, 2] and reading.dropped == 1 and reading.unsure
    assert not assemble(_prepared([False, False]), np.stack([sure_1, sure_8])).unsure


def test_pieces_left_out_beside_the_digits_make_the_answer_unsure() -> None:
    # ``photo_layout.pieces_left_out``: the answer may lack a digit broken apart (glare).
    sure_8, sure_1 = _sure_of(8, 0.99), _sure_of(1, 0.99)
    prepared = _prepared([False, False])
    assert not assemble(prepared, np.stack([sure_8, sure_1])).unsure
    prepared.notes["left_out"] = True
    reading = assemble(prepared, np.stack([sure_8, sure_1]))
    assert reading.number == "81" and reading.left_out and reading.unsure
    # Of the first look only: the photo answered the other way has its own.
    prepared.look = [0, OTHER_WAY]
    reading = assemble(prepared, np.stack([_sure_of(6, UNSURE_BELOW - 0.2), sure_1]))
    assert reading.look == OTHER_WAY and not reading.unsure
    prepared.notes["other_way_left_out"] = True
    assert assemble(prepared, np.stack([_sure_of(6, UNSURE_BELOW - 0.2), sure_1])).unsure


def _read_twice(filled: list[bool]) -> Prepared:
    """A photo read twice: part 0 from the first look, part 1 from the second."""
    prepared = _prepared(filled)
    prepared.look = [0, 1]
    return prepared


def test_which_look_of_a_photo_read_twice_answers() -> None:
    sure_4, unsure_6 = _sure_of(4, 0.99), _sure_of(6, UNSURE_BELOW - 0.2)
    sure_9, unsure_2 = _sure_of(9, 0.98), _sure_of(2, UNSURE_BELOW - 0.1)
    cases = [
        ((unsure_6, sure_4), "4", [1], 1),  # the first look unsure, the second sure
        ((sure_9, sure_4), "9", [0], 0),  # the first look sure: it stands
        ((unsure_6, unsure_2), "6", [0], 0),  # neither sure: the first look's answer
    ]
    for (first, second), number, kept, look in cases:
        reading = assemble(_read_twice([False, False]), np.stack([first, second]))
        assert (reading.number, reading.kept, reading.look) == (number, kept, look)
    # The first look found nothing: its part was a blob the model could not place.
    assert assemble(_read_twice([True, False]), np.stack([unsure_6, sure_4])).number == "4"
    unsure_second = assemble(_read_twice([True, False]), np.stack([unsure_6, unsure_2]))
    assert unsure_second.number == "2" and unsure_second.unsure

    # The first look found nothing: the second answers, "not sure" if the model is not.
    only_second = _prepared([False])
    only_second.look = [1]
    reading = assemble(only_second, unsure_6[None])
    assert reading.number == "6" and reading.unsure
    # The first look found nothing, the second only a blob the model could not place: the
    # answer is the hint for a fat marker, not the first look's.
    only_second = _prepared([True])
    only_second.look = [1]
    reading = assemble(only_second, unsure_6[None])
    assert reading.number == "" and reading.hint == FILLED_HINT and reading.look == 1


def test_a_sloping_row_is_answered_the_other_way_only_when_sure_of_that_and_not_of_the_first() -> None:
    # Parts 0 and 1 read turned level, part 2 as the photo lay (``OTHER_WAY``): a tick
    # beside a tilted number was taken for another line as it lay, and stood in the row
    # turned; or the other way round: a tilted 7 read whole as it lay, leaning into a 2.
    sure_4, sure_9 = _sure_of(4, 0.99), _sure_of(9, 0.98)
    unsure_6 = _sure_of(6, UNSURE_BELOW - 0.2)
    cases = [
        ((sure_4, sure_9, sure_9), "49", [0, 1], 0),  # the first reading sure: it stands
        ((unsure_6, sure_9, sure_4), "4", [2], OTHER_WAY),  # the first unsure, the other way sure
        ((unsure_6, sure_9, unsure_6), "69", [0, 1], 0),  # neither sure: the first reading
    ]
    for rows, number, kept, look in cases:
        prepared = _prepared([False, False, False])
        prepared.look = [0, 0, OTHER_WAY]
        prepared.notes["other_way_other_line_parts"] = 1
        reading = assemble(prepared, np.stack(rows))
        assert (reading.number, reading.kept, reading.look) == (number, kept, look)
        # What was seen on other lines is that of the reading answered from.
        assert reading.other_lines == (look == OTHER_WAY)


def test_a_sloping_row_cut_into_pieces_gives_way_to_the_other_reading_read_whole() -> None:
    # A leaning 2 as the photo lay, as wide as tall, cut into a "1" and a "2" (its curl
    # and the rest) that the model is sure of; turned level, a 2 read whole. Cuts are a
    # guess: the other reading answers when the model is sure of it and it is not cut too.
    unsure_2, sure_1, sure_2 = _sure_of(2, UNSURE_BELOW - 0.2), _sure_of(1, 0.999), _sure_of(2, 0.999)
    cut_as_it_lay: list[Segment | None] = [Segment(0, 0, 2, 2), Segment(0, 0, 1, 2), Segment(0, 1, 2, 2)]
    cases: list[tuple[list[Segment | None], tuple[np.ndarray, ...], str, int]] = [
        ([*cut_as_it_lay, None], (unsure_2, sure_1, sure_2, sure_2), "2", OTHER_WAY),
        ([*cut_as_it_lay, None], (unsure_2, sure_1, sure_2, unsure_2), "12", 0),  # the other way unsure
        # Cut both ways: the first reading stands.
        (
            [*cut_as_it_lay, Segment(3, 0, 2, 2), Segment(3, 0, 1, 2), Segment(3, 1, 2, 2)],
            (unsure_2, sure_1, sure_2, unsure_2, sure_2, sure_1),
            "12",
            0,
        ),
    ]
    for segments, rows, number, look in cases:
        prepared = _prepared([False] * len(rows))
        prepared.segments = segments
        prepared.look = [0, 0, 0] + [OTHER_WAY] * (len(rows) - 3)
        reading = assemble(prepared, np.stack(rows))
        assert (reading.number, reading.look) == (number, look)
