"""CryptoPredict models: point-in-time features, the four cascade layers, training and
honest walk-forward evaluation.

The same code computes features and predictions in training, in evaluation and in the
layer services. See ``docs/models.md`` for every feature, label, method and the measured
evaluation results.
"""

__all__ = ["__version__"]

__version__ = "1.0.0"
