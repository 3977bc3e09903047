"""The `digitbot` command: predict's JSON contract, evaluate's JSON, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from classifier.cli import _describe, main
from classifier.photo_eval import Outcome, format_failures
from classifier.reader import FILLED_HINT, UNSURE_BELOW, DigitResult, Reading


def _paper_png(digits: np.ndarray, path: Path) -> Path:
    """MNIST digits side by side as dark ink on white paper, enlarged 6x."""
    row = np.hstack([np.pad(d, 6) for d in digits])
    paper = 255 - cv2.resize(row, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), np.pad(paper, 60, constant_values=255))
    return path


@pytest.fixture
def digit_files(tmp_path: Path, mnist_test_digits: tuple[np.ndarray, np.ndarray]) -> dict[str, Path]:
    x, y = mnist_test_digits
    seven = int(np.flatnonzero(y == 7)[0])
    pair = [int(np.flatnonzero(y == 4)[0]), int(np.flatnonzero(y == 2)[0])]
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((300, 300), 255, np.uint8))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    return {
        "seven": _paper_png(x[[seven]], tmp_path / "seven.png"),
        "pair": _paper_png(x[pair], tmp_path / "forty-two.png"),
        "blank": blank,
        "broken": broken,
        "missing": tmp_path / "missing.png",
    }


def test_predict_json_contract(digit_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    files = [digit_files[k] for k in ("seven", "broken", "pair", "blank", "missing")]
    status = main(["predict", "--json", *map(str, files)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 1  # some files could not be read, and the others were still classified
    assert [line["file"] for line in lines] == [str(f) for f in files]
    seven, broken, pair, blank, missing = lines
    assert set(seven) == {"file", "number", "digits", "unsure", "hint", "other_lines", "error"}
    assert seven["number"] == "7" and seven["error"] is None and seven["hint"] is None
    assert seven["unsure"] is False and seven["other_lines"] is False
    (digit,) = seven["digits"]
    assert set(digit) == {"digit", "confidence", "box", "top"}
    assert digit["digit"] == 7 and 0.5 < digit["confidence"] <= 1.0
    assert len(digit["box"]) == 4 and all(isinstance(v, int) for v in digit["box"])
    assert digit["top"][0] == [7, digit["confidence"]] and len(digit["top"]) == 3
    assert [p for _, p in digit["top"]] == sorted((p for _, p in digit["top"]), reverse=True)
    assert pair["number"] == "42" and pair["digits"][0]["box"][0] < pair["digits"][1]["box"][0]
    assert blank["number"] == "" and blank["digits"] == [] and blank["error"] is None
    assert isinstance(blank["hint"], str) and blank["hint"] and blank["unsure"] is False
    for failed in (broken, missing):
        assert failed["number"] == "" and failed["digits"] == [] and failed["hint"] is None
        assert isinstance(failed["error"], str) and failed["error"]


def test_predict_text_output(digit_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(digit_files["seven"])]) == 0
    assert capsys.readouterr().out.startswith(f"{digit_files['seven']}: 7")


def test_predict_debug_writes_what_the_model_saw(
    digit_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    debug = tmp_path / "debug"
    assert main(["predict", "--debug", str(debug), str(digit_files["pair"])]) == 0
    pngs = sorted(debug.glob("*.png"))
    assert pngs
    image = cv2.imread(str(pngs[0]))
    assert image is not None and image.shape[0] > 112  # photo panel plus enlarged crops


def test_evaluate_json(mnist_subset_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--data", str(mnist_subset_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["n"] == 2000
    assert set(report["per_class"]) == {str(d) for d in range(10)}
    per_class_mean = np.mean(list(report["per_class"].values()))
    assert abs(per_class_mean - report["accuracy"]) < 0.01


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--data", "/nonexistent/mnist.npz"], "MNIST file not found"),
        (["predict", "--model", "/nonexistent/model.tflite", "x.png"], "model file not found"),
        (["photo-eval", "--calibrate", "--split", "dev"], "calibration split only"),
    ],
)
def test_errors_are_one_line_and_non_zero(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_photo_eval_on_the_dev_split_names_the_images_read_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["photo-eval", "--split", "dev", "--count", "2", "--styles", "mnist28", "--failures", "--json"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[-1])["split"] == "dev"
    assert lines[-2] == "no image read wrong" or any(line.startswith("  mnist28 ") for line in lines)


def test_failures_list_each_wrong_image_by_style_and_index() -> None:
    def outcome(style: str, index: int, label: str, read: str, error: str | None = None) -> Outcome:
        return Outcome(style, index, label, read, error, 0.0, np.zeros((0, 10), np.float32))

    listed = format_failures(
        [
            outcome("phone", 3, "7", "7"),
            outcome("shadow", 11, "9", ""),
            outcome("number2", 5, "42", "47"),
            outcome("empty-paper", 8, "", "1"),
            outcome("exif", 2, "3", "", "not an image"),
        ]
    ).splitlines()
    assert listed[1:] == [
        "  shadow 11: 9 -> no digit",
        "  number2 5: 42 -> '47'",
        "  empty-paper 8: no digit -> '1'",
        "  exif 2: 3 -> error: not an image",
    ]
    assert format_failures([outcome("phone", 3, "7", "7")]) == "no image read wrong"


def test_bad_arguments_exit_2_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "positive whole number" in capsys.readouterr().err


def test_installed_command_has_help_everywhere() -> None:
    for sub in ([], ["train"], ["evaluate"], ["predict"], ["run"]):
        done = subprocess.run(
            [sys.executable, "-m", "classifier", *sub, "--help"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 and "usage: digitbot" in done.stdout


def test_serving_never_imports_tensorflow(digit_files: dict[str, Path]) -> None:
    code = (
        "import sys\n"
        "from classifier.cli import main\n"
        f"status = main(['predict', '--json', {str(digit_files['seven'])!r}])\n"
        "import classifier.reader, classifier.debug, classifier.serving\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "assert not leaked, leaked\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["number"] == "7"


def test_predict_json_carries_what_the_text_line_says() -> None:
    sure = DigitResult(4, 0.99, box=(0, 0, 10, 20), top=[(4, 0.99)])
    unsure = DigitResult(7, UNSURE_BELOW - 0.1, box=(20, 0, 10, 20), top=[(7, UNSURE_BELOW - 0.1)])
    cases = [
        (Reading(digits=[sure]), (False, None, False)),
        (Reading(digits=[sure, unsure]), (True, None, False)),
        (Reading(digits=[sure], guessed_pieces=1), (True, None, False)),
        (Reading(digits=[sure], dropped=1), (True, None, False)),
        (Reading(digits=[sure], other_lines=True), (False, None, True)),
        # Nothing was answered, so nothing is "not sure"; the hint says why.
        (Reading(hint=FILLED_HINT, kept=[], dropped=1), (False, FILLED_HINT, False)),
    ]
    for reading, expected in cases:
        line = json.loads(json.dumps(reading.to_json("a.jpg")))
        assert (line["unsure"], line["hint"], line["other_lines"]) == expected
        assert ("(not sure)" in _describe("a.jpg", reading)) is line["unsure"]
