"""Forward FLOPs per image of a built Keras model, counted layer by layer.

Hand-written because no well-kept FLOP counter exists for Keras 3 (the
TF-profiler recipes only work on the TensorFlow backend). Convention:
FLOPs = 2 x multiply-accumulates (MACs) of the convolutions, dense layers and
attention matmuls; biases, normalisation, activations and pooling are not
counted (as in fvcore/ptflops).

Cross-check at 224x224 with the 1000-class top: keras.applications ResNet50
counts 3.86 GMACs = 7.72 GFLOPs, the published figure for the original ResNet50
(stride 2 on the first 1x1 conv, as Keras builds it; the often-quoted 4.1 GMACs
is torchvision's v1.5 with the stride on the 3x3). ViT-S/16 counts 4.6 GMACs,
EfficientNet-B0 0.39 GMACs, as their papers give.
"""

import math

import keras


def _spatial(shape, data_format: str) -> int:
    """Number of output positions of a conv output shape `(batch, ..., channels)`."""
    dims = shape[1:-1] if data_format == "channels_last" else shape[2:]
    return math.prod(dims)


def _channels(shape, data_format: str) -> int:
    return shape[-1] if data_format == "channels_last" else shape[1]


def _conv_macs(layer) -> int:
    c_in = _channels(layer.input.shape, layer.data_format)
    out = layer.output.shape
    per_output = math.prod(layer.kernel_size) * c_in // layer.groups
    return _spatial(out, layer.data_format) * _channels(out, layer.data_format) * per_output


def _depthwise_macs(layer) -> int:
    out = layer.output.shape
    return _spatial(out, layer.data_format) * _channels(out, layer.data_format) * math.prod(layer.kernel_size)


def _input_shape(layer, fallback):
    """The shape `layer` was first called on; `fallback` for a sublayer called inside
    another layer's `call` (Keras records no graph node for it)."""
    try:
        inputs = layer.input
    except AttributeError:  # never called symbolically
        return fallback
    return (inputs[0] if isinstance(inputs, list | tuple) else inputs).shape


def _dense_macs(layer, shape) -> int:
    fan_in, units = layer.kernel.shape
    return math.prod(shape[1:-1]) * fan_in * units


def _attention_macs(layer) -> int:
    inputs = layer.input if isinstance(layer.input, list | tuple) else [layer.input]
    query, value = inputs[0].shape, inputs[1 if len(inputs) > 1 else 0].shape
    t_q, t_k = math.prod(query[1:-1]), math.prod(value[1:-1])
    heads, k_dim, v_dim = layer.num_heads, layer.key_dim, layer.value_dim or layer.key_dim
    d_out = layer.output.shape[-1]
    projections = t_q * query[-1] * heads * k_dim + t_k * value[-1] * heads * (k_dim + v_dim)
    attention = heads * t_q * t_k * (k_dim + v_dim)  # scores QK^T, then weights x V
    return projections + attention + t_q * heads * v_dim * d_out


def _layer_macs(layer, outer_shape=None) -> int:
    """MACs per image of one layer (0 for layers that are not counted).

    `outer_shape`: input shape of the enclosing layer, for sublayers without a graph node.
    """
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return _depthwise_macs(layer)
    if isinstance(layer, keras.layers.Conv1D | keras.layers.Conv2D | keras.layers.Conv3D):
        return _conv_macs(layer)
    if isinstance(layer, keras.layers.Dense):
        return _dense_macs(layer, _input_shape(layer, outer_shape))
    if isinstance(layer, keras.layers.MultiHeadAttention):
        return _attention_macs(layer)
    if isinstance(layer, keras.Model):
        return sum(_layer_macs(inner) for inner in layer.layers)
    sublayers = [v for v in vars(layer).values() if isinstance(v, keras.layers.Layer)]
    shape = _input_shape(layer, outer_shape) if sublayers else None
    return sum(_layer_macs(inner, shape) for inner in sublayers)  # e.g. TaskHead's Dense


def count_flops(model: keras.Model) -> int:
    """Forward FLOPs for one image (2 x MACs), for a built functional model."""
    return 2 * sum(_layer_macs(layer) for layer in model.layers)
