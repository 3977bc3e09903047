"""The CNN. Imports Keras: only the trainer uses this module, never serving."""

from __future__ import annotations

import keras
from keras import layers


def _conv(
    x: keras.KerasTensor, filters: int, kernel: int, strides: int = 1, padding: str = "valid"
) -> keras.KerasTensor:
    # Batch norm replaces the conv bias, so the bias is dropped.
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False)(x)
    # momentum 0.9: running statistics settle within a short run too (tests, quick retrains)
    x = layers.BatchNormalization(momentum=0.9)(x)
    return layers.ReLU()(x)


def build_model(dropout: float = 0.4) -> keras.Model:
    """Two conv blocks that downsample with strided 5x5 convolutions, then a 4x4 conv head.

    About 330k weights (1.3 MB as float32). This family of networks reaches 99.6-99.7%
    on MNIST with augmentation, against 99.2% for keras.io's mnist_convnet.
    """
    inputs = keras.Input(shape=(28, 28, 1), name="digit")
    x = _conv(inputs, 32, 3)
    x = _conv(x, 32, 3)
    x = _conv(x, 32, 5, strides=2, padding="same")
    x = layers.Dropout(dropout)(x)
    x = _conv(x, 64, 3)
    x = _conv(x, 64, 3)
    x = _conv(x, 64, 5, strides=2, padding="same")
    x = layers.Dropout(dropout)(x)
    x = _conv(x, 128, 4)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="digitbot_cnn")
