"""A supervised pair classifier learned from reviewers' labels, versioned as JSON files.

Why: Fellegi–Sunter assumes fields agree independently given match status; brothers and cousins
share lineage, place and often birth year together, so the unsupervised model over-rewards them.
A classifier trained on labelled comparison vectors learns, among the pairs reviewers decide,
how much each agreement really counts once the unsupervised weight is known.

* Features (``learned_model.py``): the comparison level of every field and name part, one-hot
  (level -1 = missing is a category of its own), plus -log2 of the agreed given name's and
  lineage's frequencies and the unsupervised model's match weight (``fs_weight``, stored with
  each candidate pair), as natural log-odds.
* Training (``learned_train.py``) needs at least :data:`MIN_PER_CLASS` matches and as many
  non-matches; until then the unsupervised model scores. The classifier is a logistic
  regression regularised towards the Fellegi–Sunter log-odds: it corrects the unsupervised
  model where labels show it wrong and keeps it where labels are silent (reviewers label the
  hard pairs, not a random sample). The strength of the penalty is chosen by stratified 5-fold
  cross-validation on F1, and the reason stored with the model (why gradient-boosted trees
  are not offered is explained there). Probabilities are calibrated by a sigmoid over the
  out-of-fold scores, penalised towards the identity.
* Promotion and storage (``learned_store.py``): a candidate fitted on four fifths of the labels
  must beat the current scorer on the held-out fifth, else it is kept but not promoted.
  ``<data_dir>/linkage/models/v<N>.json`` holds weights on comparison features only — the
  logistic coefficients and the calibration; never personal data, never pickle.
  ``promoted.json`` names the version in use; ``promote`` switches it to any stored version
  (rolling back is promoting an older one).

This module is the public face of the three.
"""

from __future__ import annotations

from havens.linkage.learned_model import (
    EXTRA,
    FEATURES,
    FORMAT,
    FS_SCALE,
    LearnedModel,
    encode,
    matrices,
    score_table,
)
from havens.linkage.learned_store import (
    TrainResult,
    folder,
    get,
    promote,
    promoted,
    train,
    versions,
)
from havens.linkage.learned_train import CS, MIN_PER_CLASS, SEED, fit

__all__ = [
    "CS",
    "EXTRA",
    "FEATURES",
    "FORMAT",
    "FS_SCALE",
    "MIN_PER_CLASS",
    "SEED",
    "LearnedModel",
    "TrainResult",
    "encode",
    "fit",
    "folder",
    "get",
    "matrices",
    "promote",
    "promoted",
    "score_table",
    "train",
    "versions",
]
