"""tf2onnx 1.17 has no converter for TF's Erfc, which Keras' exact GELU (ViT MLPs) uses on
the tensorflow backend; `teach_tf2onnx_erfc()` registers one: erfc(x) = 1 - erf(x)
(ONNX Erf, opset >= 9). Only the tensorflow backend's ONNX export goes through tf2onnx."""

import numpy as np


def teach_tf2onnx_erfc() -> None:
    """Register the Erfc converter with tf2onnx (once per process)."""
    # backend-edge: tf2onnx converts TensorFlow graphs; used only by the tensorflow backend's ONNX export
    from tf2onnx import handler, utils

    if any("Erfc" in ops for ops in handler.tf_op.get_opsets().get("", [])):
        return

    @handler.tf_op("Erfc")
    class _Erfc:
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            node.type = "Erf"
            one = ctx.make_const(utils.make_name("erfc_one"), np.array(1.0, dtype=np.float32))
            ctx.insert_new_node_on_output("Sub", node.output[0], inputs=[one.output[0], node.output[0]])
