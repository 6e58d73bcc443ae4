"""k-nearest-neighbour classification on frozen features: no training at all.

As DINO's k-NN evaluation (Caron et al., 2021; also DINOv2's): features are L2-normalised,
each query takes its `k` most cosine-similar training images, and each neighbour votes for
its class with weight `exp(similarity / temperature)` (T = 0.07). numpy only (an
`(n_query, n_train)` similarity matrix, in chunks).
"""

import numpy as np

K, TEMPERATURE = 20, 0.07


def normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def knn_scores(train: np.ndarray, train_onehot: np.ndarray, query: np.ndarray, *, k: int = K,
               temperature: float = TEMPERATURE, chunk: int = 1024) -> np.ndarray:
    """Class scores `(n_query, classes)`, rows summing to 1, from training features `(n, dim)`
    and their one-hot labels `(n, classes)` (all-zero rows, unknown labels, never vote)."""
    known = train_onehot.sum(1) > 0
    train, labels = normalise(train[known]), train_onehot[known]
    if not len(train):
        raise ValueError("k-NN: the training split has no labelled image")
    k = min(k, len(train))
    out = []
    for start in range(0, len(query), chunk):
        sim = normalise(query[start:start + chunk]) @ train.T
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        vote = np.exp(np.take_along_axis(sim, top, axis=1) / temperature)
        scores = np.einsum("qk,qkc->qc", vote, labels[top])
        out.append(scores / np.maximum(scores.sum(1, keepdims=True), 1e-12))
    return np.concatenate(out) if out else np.zeros((0, labels.shape[1]))


def knn_metrics(model, data_dir, split: str, labels, *, k: int = K, batch_size: int = 32) -> dict:
    """`knn_{task}_top1` for every classification task: `model`'s features (a zoo model; cached by
    `zoo.training.feature_cache`) of the training split vote for the images of `split`."""
    from zoo.training import feature_cache

    extractor = model.feature_extractor()
    size = model.image_size
    train, train_y, _ = feature_cache.features(extractor, data_dir, "train", labels, image_size=size,
                                               batch_size=batch_size)
    query, query_y, query_w = feature_cache.features(extractor, data_dir, split, labels, image_size=size,
                                                     batch_size=batch_size)
    out = {"knn_k": int(k)}
    for task in labels.classification:
        scores = knn_scores(train, train_y[task.name], query, k=k)
        mask = query_w[task.name] > 0
        hit = scores.argmax(1) == query_y[task.name].argmax(1)
        out[f"knn_{task.name}_top1"] = float(hit[mask].mean()) if mask.any() else None
    return out
