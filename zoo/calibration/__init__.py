"""Calibrated probabilities, conformal prediction sets and intervals, and "unknown artist"
scores: plain numpy over a model's outputs (no keras), shared by training, evaluation and
every predictor.

    temperature  fit one temperature per classification head (NLL), ECE, reliability bins
    conformal    split-conformal sets (LAC / APS / RAPS, optionally class-conditional) and
                 the regression interval half-width
    unknown      out-of-set scores (max softmax probability, energy), the threshold at a
                 true-positive rate, AUROC and FPR at the threshold
    store        the thresholds as one JSON-able dict stored with the model and its sidecar

Libraries weighed: MAPIE (conformal) wraps scikit-learn estimators and refits them; the
zoo only has the outputs of a Keras or exported model, and the split-conformal quantile
is a few lines (Angelopoulos & Bates, arXiv 2107.07511, section 1 and 2.1). netcal
(calibration) pulls in PyTorch-based fitters and its own plotting; temperature scaling is
a one-dimensional NLL minimisation (scipy.optimize, already a dependency). So both are
hand-written here, with the papers' formulas, and checked against simulated outputs
(tests/test_calibration.py).
"""
