"""ONNX from the torch backend with a free batch dimension.

Keras 3.15's `model.export(format="onnx")` on torch gives a free batch only through the
TorchScript exporter, which fails on the zoo's models (`keras.ops` shape arithmetic is not
constant); its dynamo path fixes the batch to the sample's. So the zoo calls the dynamo
exporter itself with a dynamic batch `Dim`: same graph, any batch size.
"""

MAX_BATCH = 4096  # upper bound torch.export needs for the symbolic batch


def export_torch_onnx(model, path, image_size) -> None:
    """Write `model` (torch backend, built) to ONNX file `path`: input "images"
    float32 (batch, H, W, 3), outputs in Keras' flattened (sorted head name) order."""
    # backend-edge: Keras' torch ONNX export cannot give a free batch dimension (module docstring)
    import torch

    model.eval()
    sample = (torch.zeros((2, *image_size, 3), dtype=torch.float32),)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    program = torch.onnx.export(model, sample, dynamo=True, input_names=["images"], verbose=False,
                                dynamic_shapes={"args": ({0: batch},)})
    program.optimize()
    program.save(str(path))
