"""List models (with each one's family and default pretrained source) and recipes."""


def add_arguments(p) -> None:
    pass


def run(args) -> int:
    import recipes
    import zoo
    from zoo import registry

    print("models (name, family, weights=pretrained loads):")
    for name in zoo.list_models():
        source = registry.default_weights(name)
        source = {"imagenet": "keras.applications ImageNet"}.get(source, source)
        print(f"  {name:<22} {registry.family_of(name):<15} {source or '-'}")
    print("recipes: " + " ".join(recipes.list_recipes()))
    return 0
