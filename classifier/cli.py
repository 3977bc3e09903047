"""The ``digitbot`` command: train, evaluate, predict, run the bot."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from classifier.data import ENV_VAR, DataError
from classifier.serving import SHIPPED_MODELS, ModelError

if TYPE_CHECKING:
    from classifier.reader import Reading


class CliError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitbot", description="Read handwritten digits from photos; train and serve the model."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train the CNN on MNIST and write a model folder",
        description="Train the CNN on MNIST and write a model folder.",
    )
    train.add_argument(
        "--data", help=f"local Keras-format mnist.npz (default: ${ENV_VAR}, else Keras's download)"
    )
    train.add_argument("--epochs", type=_positive, default=20, help="epochs (default 20)")
    train.add_argument(
        "--out", type=Path, default=SHIPPED_MODELS, help=f"output folder (default {SHIPPED_MODELS})"
    )
    train.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    train.add_argument("--limit", type=_positive, help="train on the first N training digits only")
    train.add_argument("--batch-size", type=_positive, default=128, help="batch size (default 128)")
    train.add_argument("--version", help="version recorded in the metadata (default: a timestamp)")
    train.add_argument(
        "--learning-rate", type=_positive_float, default=2e-3, help="peak learning rate (default 0.002)"
    )
    train.add_argument(
        "--start-from",
        type=Path,
        metavar="MODEL_DIR",
        help="fine-tune: start from this model folder's weights instead of random ones",
    )
    train.add_argument(
        "--feedback",
        type=Path,
        metavar="DB",
        help="also train on the digits users confirmed or corrected (the bot's SQLite file)",
    )
    train.add_argument(
        "--photos",
        type=_positive,
        metavar="N",
        help="also train on digits cut from N photos per style rendered from training digits "
        "and read by the photo pipeline (default: none)",
    )

    evaluate = commands.add_parser(
        "evaluate",
        help="MNIST test accuracy of a served model",
        description="MNIST test accuracy, overall and per class, of the TFLite model the bot serves.",
    )
    evaluate.add_argument("--data", help=f"local Keras-format mnist.npz (default: ${ENV_VAR})")
    evaluate.add_argument("--model", help="model folder or .tflite file (default: shipped model)")
    evaluate.add_argument("--json", action="store_true", help="end with one JSON line")
    evaluate.add_argument("--limit", type=_positive, help="evaluate on the first N test digits")

    predict = commands.add_parser(
        "predict", help="read the digits in image files", description="Read the digits in image files."
    )
    predict.add_argument("files", nargs="+", metavar="FILE", help="image files (JPEG, PNG, ...)")
    predict.add_argument("--model", help="model folder or .tflite file (default: shipped model)")
    predict.add_argument("--json", action="store_true", help="one JSON object per file and line")
    predict.add_argument(
        "--debug", type=Path, metavar="DIR", help="write what the model saw (boxes and 28x28 crops) into DIR"
    )

    photo_eval = commands.add_parser(
        "photo-eval",
        help="accuracy on rendered test photos, per style; confidence calibration",
        description="Read MNIST test digits rendered as phone photos, drawings and empty images "
        "(classifier/synth.py) and print the accuracy per style, for whole numbers and for "
        "'no digit', with the confidence calibration error. --calibrate fits the temperature "
        "and the 'not sure' threshold on the calibration split instead.",
    )
    photo_eval.add_argument("--model", help="model folder or .tflite file (default: shipped model)")
    photo_eval.add_argument("--count", type=_positive, default=40, help="images per style (default 40)")
    photo_eval.add_argument("--styles", help="comma-separated styles (default: all)")
    photo_eval.add_argument(
        "--data", help="Keras-format mnist.npz for more test digits (default: the subset)"
    )
    photo_eval.add_argument(
        "--split",
        choices=("dev", "calibration", "report"),
        help="test digits to render: report (default; the numbers quoted), dev (while changing "
        "the pipeline) or calibration (what --calibrate fits on)",
    )
    photo_eval.add_argument("--calibrate", action="store_true", help="fit calibration on its own split")
    photo_eval.add_argument("--failures", action="store_true", help="list the images read wrong")
    photo_eval.add_argument("--json", action="store_true", help="end with one JSON line")

    commands.add_parser(
        "run",
        help="run the Telegram bot (settings from the environment/.env)",
        description="Run the Telegram bot. Settings come from the environment "
        "and a .env file; see .env.example.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "predict":
            return _predict(args)
        if args.command == "photo-eval":
            from classifier.photo_eval import run_cli

            return run_cli(args)
        if args.command == "run":
            from bot.app import run_bot

            return run_bot()
    except (CliError, DataError, ModelError) as exc:
        print(f"digitbot {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"digitbot {args.command}: interrupted", file=sys.stderr)
        return 130
    raise AssertionError(args.command)


def _train(args: argparse.Namespace) -> int:
    try:
        from classifier.train import TrainConfig, train
    except ImportError as exc:
        raise CliError(f"training needs TensorFlow: pip install 'digitbot[train]' ({exc})") from exc
    config = TrainConfig(
        out=args.out,
        data=args.data,
        epochs=args.epochs,
        seed=args.seed,
        limit=args.limit,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        feedback=args.feedback,
        photos=args.photos or 0,
        start_from=args.start_from,
    )
    if args.version:
        config.version = args.version
    train(config)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from classifier.data import load_mnist
    from classifier.mnist_format import renormalise
    from classifier.report import accuracy_report
    from classifier.serving import Classifier

    classifier = Classifier(args.model)
    mnist = load_mnist(args.data)
    x, y = mnist.x_test, mnist.y_test
    if args.limit:
        x, y = x[: args.limit], y[: args.limit]
    predicted = classifier.predict(renormalise(x)).argmax(axis=1)
    report = accuracy_report(y, predicted)
    report["model"] = str(classifier.path)
    report["version"] = classifier.version
    per_class = report["per_class"]
    assert isinstance(per_class, dict)
    print(f"model {classifier.path} (version {classifier.version})")
    print(f"MNIST test accuracy: {report['accuracy']:.4f} on {report['n']} digits")
    for digit, accuracy in per_class.items():
        print(f"  {digit}: {accuracy:.4f}")
    if args.json:
        print(json.dumps(report))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from classifier.debug import render_debug
    from classifier.preprocess import Prepared
    from classifier.reader import DigitReader, Reading
    from classifier.serving import Classifier

    reader = DigitReader(Classifier(args.model))
    if args.debug:
        args.debug.mkdir(parents=True, exist_ok=True)
    failures = 0
    for index, name in enumerate(args.files):
        try:
            prepared = reader.prepare(Path(name).read_bytes())
        except OSError as exc:
            prepared = Reading(error=f"cannot read the file: {exc.strerror or exc}")
        reading = reader.classify([prepared])[0]
        if args.debug and isinstance(prepared, Prepared):
            stem = f"{index:03d}-{Path(name).stem}"
            (args.debug / f"{stem}.png").write_bytes(render_debug(prepared, reading))
        failures += reading.error is not None
        print(json.dumps(reading.to_json(name)) if args.json else _describe(name, reading), flush=True)
    # Every file was tried; the status says whether any could not be read.
    return 1 if failures else 0


def _describe(name: str, reading: Reading) -> str:
    if reading.error:
        return f"{name}: error: {reading.error}"
    if not reading.digits:
        return f"{name}: no digit found ({reading.hint})"
    parts = ", ".join(f"{d.digit} {d.confidence:.1%}" for d in reading.digits)
    unsure = "  (not sure)" if reading.unsure else ""
    other_lines = "  (more writing on other lines, not read)" if reading.other_lines else ""
    return f"{name}: {reading.number}  [{parts}]{unsure}{other_lines}"
