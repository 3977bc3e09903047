"""Fixtures for the bot tests: the Bot API stand-in, settings pointing at it, the real
Application running against it, and photos of digits the served model reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from bot.app import App, build_application, serve
from bot.config import Settings
from classifier.reader import DigitReader
from classifier.serving import Classifier, default_model_path
from tests.bot import photos
from tests.bot.harness import settings_for
from tests.standin import BotApiStandIn


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The shipped model (``$DIGITBOT_MODEL`` overrides it, as it does for the bot)."""
    return default_model_path()


@pytest.fixture(scope="session")
def digit_images(mnist_test_digits: tuple[np.ndarray, np.ndarray], model_path: Path) -> dict[int, np.ndarray]:
    """For each digit 0-9, a photo (RGB) of a real MNIST test digit of that class which the
    served model reads right and confidently. The bot tests check the bot's plumbing, so they
    need photos whose right answer is not in doubt; the model's accuracy is tested elsewhere."""
    x, y = mnist_test_digits
    reader = DigitReader(Classifier(model_path))
    found: dict[int, np.ndarray] = {}
    for index in range(len(x)):
        digit = int(y[index])
        if digit in found:
            continue
        image = photos.photo([x[index]], seed=index)
        reading = reader.read(photos.jpeg(image))
        if reading.number == str(digit) and reading.confidence >= 0.9:
            found[digit] = image
        if len(found) == 10:
            return found
    raise AssertionError(f"no confidently read photo for digits {sorted(set(range(10)) - set(found))}")


@pytest.fixture(scope="session")
def number_image(
    mnist_test_digits: tuple[np.ndarray, np.ndarray], model_path: Path
) -> tuple[np.ndarray, str]:
    """A photo of a three-digit number the served model reads right, and that number."""
    x, y = mnist_test_digits
    reader = DigitReader(Classifier(model_path))
    for start in range(0, 300, 3):
        picked = [start, start + 1, start + 2]
        image = photos.photo([x[i] for i in picked], seed=start)
        label = "".join(str(int(y[i])) for i in picked)
        if reader.read(photos.jpeg(image)).number == label:
            return image, label
    raise AssertionError("no three-digit photo read right")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api() -> AsyncIterator[BotApiStandIn]:
    """One stand-in shared by a whole test module (each module gets its own), for the
    suites that run one bot per module."""
    async with BotApiStandIn() as server:
        yield server


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn() as server:
        yield server


@pytest.fixture
def settings(standin: BotApiStandIn, tmp_path: Path, model_path: Path) -> Settings:
    # The bot's own photo rate limit: these tests check it.
    return settings_for(standin, tmp_path, model_path, photos_per_minute=Settings.photos_per_minute)


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[App]:
    """The real Application, polling the stand-in."""
    async with serve(build_application(settings)) as application:
        yield application
