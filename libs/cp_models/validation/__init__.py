"""Time-series validation: walk-forward splits with purging and embargo."""

from cp_models.validation.splits import Fold, purged_cutoff, purged_train_mask, walk_forward_folds

__all__ = ["Fold", "purged_cutoff", "purged_train_mask", "walk_forward_folds"]
