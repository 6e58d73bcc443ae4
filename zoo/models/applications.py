"""Register a `keras.applications` constructor as a zoo backbone."""

from zoo.registry import register


def register_application(name: str, app, *, family: str, preprocessing: str, default_recipe: str,
                         layer_depth) -> None:
    """Register `app` (e.g. `keras.applications.ResNet50`) under `name` (as the spec's
    `application`), with the family's default recipe and layer-depth rule.

    The builder returns the application itself with `include_top=False` and
    average pooling, layer names untouched, so its weight files load as-is.
    `weights="imagenet"` that cannot be downloaded raises one-line ValueError.
    """

    def builder(input_shape, weights):
        try:
            return app(include_top=False, weights=weights, input_shape=input_shape, pooling="avg")
        except Exception as e:
            if weights != "imagenet" or not _is_download_failure(e):
                raise
            raise ValueError(
                f"{name}: ImageNet weights could not be downloaded ({_reason(e)}); "
                "use --weights FILE (a weights file on disk) or --weights none (random init)"
            ) from None

    register(name, family=family, preprocessing=preprocessing, default_recipe=default_recipe,
             application=app, layer_depth=layer_depth)(builder)


def _is_download_failure(error: BaseException) -> bool:
    # keras.utils.get_file re-raises URLError/HTTPError as a bare Exception whose
    # message starts "URL fetch failure"; socket and file errors are OSErrors.
    return isinstance(error, OSError) or str(error).startswith("URL fetch failure")


def _reason(error: BaseException) -> str:
    cause = error.__context__ if error.__context__ is not None else error
    text = str(getattr(cause, "reason", cause)).splitlines()
    return text[0][:120] if text else type(cause).__name__
