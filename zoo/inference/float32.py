"""A float32 twin of a mixed-precision model: Keras' exporters need float32 compute."""


def float32_config(config):
    """`config` with every mixed-precision DTypePolicy ("mixed_bfloat16", ...) set to float32."""
    if isinstance(config, list):
        return [float32_config(c) for c in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "DTypePolicy" and str(config["config"]["name"]).startswith("mixed_"):
        return {**config, "config": {**config["config"], "name": "float32"}}
    return {k: float32_config(v) for k, v in config.items()}


def as_float32(model):
    """`model` itself when it computes in float32, else the same network and weights rebuilt
    with float32 policies (its variables are float32 already)."""
    config = model.get_config()
    converted = float32_config(config)
    if converted == config:
        return model
    clone = model.__class__.from_config(converted)
    clone.set_weights(model.get_weights())
    return clone
