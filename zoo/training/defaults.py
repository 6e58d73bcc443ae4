"""What `zoo train --data DIR` runs without `--recipe`: pretrained where the weights can be had.

Every published artist-recognition result starts from pretrained weights, so a plain
`zoo train --data DIR [--model M]` fine-tunes (`PRETRAINED_RECIPE` of the model's family)
when `weights="pretrained"` loads: cached, downloadable, or a local preset. When it does not
(offline, nothing cached) the run trains from scratch with the family's `default_recipe`
and says so in one `notice:` line. `--weights` given on the command line is the user's
choice: the family's default recipe then, as before. `ZOO_OFFLINE=1` skips the attempt
(the test suite: nothing downloads in tests).
"""

import os

PRETRAINED_RECIPE = {"resnet": "finetune_resnet", "convnext": "finetune_convnext", "vit": "finetune_vit",
                     "dinov2": "finetune_dinov2", "clip": "finetune_clip", "siglip": "finetune_clip"}


def fit_patch(recipe, flags: dict):
    """`recipe` with its image size rounded down to the model's patch (a /14 model under a
    128-px recipe: 126) unless `--image-size` was given; keras-free (the registry's rules)."""
    from zoo.registry import input_rule

    patch = input_rule(recipe.model)[1]
    if flags.get("image_size") is None and recipe.image_size % patch:
        return recipe.replace(image_size=max(patch, recipe.image_size // patch * patch))
    return recipe


def choose(model: str | None, flags: dict):
    """(recipe name, recipe with `flags`, notice line or None) for a run without --recipe."""
    import recipes
    from zoo import registry
    from zoo.training import finetune

    model = model or "resnet50"
    spec = registry.get(model)
    scratch = spec.default_recipe
    pretrained = PRETRAINED_RECIPE.get(spec.family)
    if pretrained is None or flags.get("weights") is not None:
        return scratch, fit_patch(recipes.load(scratch).replace(**flags), flags), None
    recipe = fit_patch(recipes.load(pretrained).replace(**{**flags, "model": model}), flags)
    if os.environ.get("ZOO_OFFLINE") == "1":
        reason = "ZOO_OFFLINE=1"
    else:
        try:
            finetune.check_weights(recipe.replace(weights="pretrained"), (recipe.image_size, recipe.image_size, 3))
            return pretrained, recipe.replace(weights="pretrained"), None
        except ValueError as exc:
            reason = str(exc).split(" (", 1)[-1].split(")")[0][:120]
    notice = (f"notice: no pretrained weights for {model} ({reason}); training from scratch with "
              f"--recipe {scratch} (pass --recipe {pretrained} --weights DIR|FILE for local weights)")
    return scratch, fit_patch(recipes.load(scratch).replace(**flags), flags), notice
