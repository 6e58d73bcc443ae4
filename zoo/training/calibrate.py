"""Fitting a model's calibration on a split: one temperature per classification head, the
conformal thresholds and the unknown-artist threshold (`zoo.calibration.store`), set on the
model (`TaskHead.temperature`, `ArtistModel.calibration`). Used after training (on the
validation split) and by `python -m zoo calibrate MODEL --data DIR` (any split)."""

from zoo.calibration import store, temperature
from zoo.training.evaluation import collect_predictions
from zoo.training.features import FEATURES, head_logits, with_features


def set_temperatures(model, temps: dict[str, float]) -> None:
    """Set the heads' temperatures; the model's compiled predict function is remade on next use."""
    for name, value in temps.items():
        model.heads[name].temperature = float(value)
    model.predict_function = None


def model_outputs(model, dataset):
    """(preds, targets, weights, logits) of an ArtistModel over a `(images, targets, weights)`
    dataset: numpy dicts by head (`collect_predictions`), logits by classification head."""
    preds, targets, weights, _ = collect_predictions(with_features(model), dataset)
    return preds, targets, weights, head_logits(model, preds.pop(FEATURES))


def calibrate(model, dataset, *, calibrate: str = "temperature", coverage: float = store.DEFAULT_COVERAGE,
              method: str = "lac", class_conditional: bool = False, tpr: float = 0.95,
              score: str = "energy") -> dict:
    """Fit and set `model`'s temperatures (`calibrate="none"`: all 1.0) and calibration record
    on `dataset`; returns the record."""
    preds, targets, weights, logits = model_outputs(model, dataset)
    known = {name: w > 0 for name, w in weights.items()}
    temps = {name: (temperature.fit_temperature(z[known[name]], targets[name][known[name]].argmax(1))
                    if calibrate == "temperature" else 1.0) for name, z in logits.items()}
    set_temperatures(model, temps)
    preds.update({name: temperature.softmax_at(z, temps[name]) for name, z in logits.items()})
    record = store.fit_record(model.label_space.tasks, preds, logits, temps, targets, known, coverage=coverage,
                              method=method, class_conditional=class_conditional, tpr=tpr, score=score,
                              calibrate=calibrate)
    model.calibration = record
    return record


def calibration_options(recipe) -> dict:
    """The `calibrate` keywords of a `recipes.Recipe`."""
    return {"calibrate": recipe.calibrate, "coverage": recipe.coverage, "method": recipe.conformal,
            "class_conditional": recipe.class_conditional, "tpr": recipe.unknown_tpr, "score": recipe.unknown_score}
