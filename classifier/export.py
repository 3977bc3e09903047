"""Export a Keras model to a TFLite flatbuffer that LiteRT serves without TensorFlow."""

from __future__ import annotations

import keras
import tensorflow as tf


def to_tflite(model: keras.Model) -> bytes:
    """Float32 TFLite with a dynamic batch dimension (LiteRT resizes it per call)."""

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="digit")])
    def serve(digit: tf.Tensor) -> tf.Tensor:
        return model(digit, training=False)

    # No trackable object: the converter then freezes the weights into constants.
    # Passed the model, it keeps them as resource variables, which LiteRT runs slower.
    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()])
    return bytes(converter.convert())
