"""Register a `keras.applications` constructor as a zoo backbone."""

from zoo.registry import register


def register_application(name: str, app, *, family: str, preprocessing: str) -> None:
    """Register `app` (e.g. `keras.applications.ResNet50`) under `name`.

    The builder returns the application itself with `include_top=False` and
    average pooling, layer names untouched, so its weight files load as-is.
    """

    def builder(input_shape, weights):
        return app(include_top=False, weights=weights, input_shape=input_shape, pooling="avg")

    register(name, family=family, preprocessing=preprocessing)(builder)
