"""Registry checks run in a fresh process (tests/test_cli.py)."""


def registered_names() -> dict:
    """What the family modules register vs what the registry lists without them."""
    from zoo import registry

    listed, vits = registry.list_models(), registry.list_models("vit")
    import zoo.models  # noqa: F401  (registers every family)

    return {"registered": sorted(registry._REGISTRY), "listed": listed, "vits": vits}
