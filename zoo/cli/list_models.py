"""List models and recipes."""


def add_arguments(p) -> None:
    pass


def run(args) -> int:
    import recipes
    import zoo

    print("models: " + " ".join(zoo.list_models()))
    print("recipes: " + " ".join(recipes.list_recipes()))
    return 0
