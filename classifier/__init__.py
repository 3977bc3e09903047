"""digitbot's classifier: photo preprocessing, the CNN, its trainer and TensorFlow-free serving."""
