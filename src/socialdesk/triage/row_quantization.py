"""Int8 matrix products with one activation scale per token: a rewrite of an fp32 ONNX graph.

ONNX Runtime's dynamic quantisation gives all the activations of one call a single scale, so
texts encoded together in a batch would change each other's vectors (and a long outlier
would blur all of them). Here each row (one token of one text) gets its own scale and zero
point, so a text's vector is the same alone or among others, padded or not, and closer to
full precision. Weights are int8 values with one symmetric scale per output column.

For a row x quantised as q = round(x / s) + z, and a column w = v * t:
    x . w  ~=  s * (t * (q . v))  -  (s * z) * (t * sum(v))
ONNX Runtime's fused MatMulIntegerToFloat gives t * (q . v) in one pass (the integer
product and its per-column scale); the row scale and the zero point's correction are two
elementwise steps after it. (Unfused, the cast, the scales and the correction cost more
than the product itself.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_EPSILON = 1e-8  # the smallest row scale: a row of zeros quantises to zeros
# Where the CPU lacks VNNI, weights are stored as unsigned bytes around 128, so that ONNX
# Runtime multiplies unsigned by unsigned: its unsigned-by-signed kernel on CPUs with AVX2 but
# no VNNI adds products in pairs into 16 bits, which saturate (an error of 1.8 where the
# largest product was 28, and texts' vectors 0.91 similar to full precision instead of 0.98).
# With VNNI, unsigned by signed adds into 32 bits, exactly, and runs about twice as fast as
# unsigned by unsigned; both give the same integers.
WEIGHT_ZERO_POINT = 128
_VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


def signed_weights_exact(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies unsigned by signed bytes without saturating (has VNNI)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return not _VNNI_FLAGS.isdisjoint(line.split(":", 1)[-1].split())
    return False


def quantize_rows(source: Path, target: Path, signed_weights: bool | None = None) -> int:
    """Write ``source`` to ``target`` with every product of an activation by a constant 2-D
    weight matrix in int8, scaled per row; return how many products were rewritten.

    Weights are signed bytes where ``signed_weights`` (by default: where this CPU has VNNI),
    else unsigned bytes around WEIGHT_ZERO_POINT; the products are the same either way."""
    if signed_weights is None:
        signed_weights = signed_weights_exact()
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    added: list[onnx.TensorProto] = []

    def constant(name: str, value: np.ndarray) -> str:
        added.append(numpy_helper.from_array(value, name))
        return name

    zero = constant("rowq_zero", np.array(0.0, np.float32))
    unit = constant("rowq_unit", np.array(1.0, np.float32))
    top = constant("rowq_255", np.array(255.0, np.float32))
    weight_zero = (
        ""
        if signed_weights
        else constant("rowq_weight_zero", np.array(WEIGHT_ZERO_POINT, np.uint8))
    )
    epsilon = constant("rowq_epsilon", np.array(_EPSILON, np.float32))
    first = constant("rowq_first", np.array([0], np.int64))
    last = constant("rowq_last", np.array([-1], np.int64))
    one = constant("rowq_one", np.array([1], np.int64))

    nodes: list[onnx.NodeProto] = []
    quantised: dict[str, tuple[str, str, str, str]] = {}  # activation -> q, scale, s * z, lead

    def quantise(x: str, width: int) -> tuple[str, str, str, str]:
        """The int8 rows of activation ``x`` (shared by every product that reads it)."""
        if x in quantised:
            return quantised[x]
        p = f"rowq_{len(quantised)}_"
        flat = constant(p + "flat", np.array([-1, width], np.int64))
        nodes.extend(
            [
                helper.make_node("Shape", [x], [p + "shape"]),
                helper.make_node("Slice", [p + "shape", first, last], [p + "lead"]),
                helper.make_node("Reshape", [x, flat], [p + "rows"]),
                helper.make_node("ReduceMax", [p + "rows"], [p + "max0"], axes=[1], keepdims=0),
                helper.make_node("ReduceMin", [p + "rows"], [p + "min0"], axes=[1], keepdims=0),
                # The range holds zero, so that zero (padding, ReLU-like outputs) is exact.
                helper.make_node("Max", [p + "max0", zero], [p + "max"]),
                helper.make_node("Min", [p + "min0", zero], [p + "min"]),
                helper.make_node("Sub", [p + "max", p + "min"], [p + "range"]),
                helper.make_node("Div", [p + "range", top], [p + "scale0"]),
                helper.make_node("Max", [p + "scale0", epsilon], [p + "scale"]),
                helper.make_node("Div", [p + "min", p + "scale"], [p + "lowest"]),
                helper.make_node("Neg", [p + "lowest"], [p + "zero0"]),
                helper.make_node("Round", [p + "zero0"], [p + "zerof"]),
                helper.make_node("Cast", [p + "zerof"], [p + "zero"], to=TensorProto.UINT8),
                helper.make_node(
                    "QuantizeLinear", [p + "rows", p + "scale", p + "zero"], [p + "q"], axis=0
                ),
                helper.make_node("Unsqueeze", [p + "scale", one], [p + "scale_col"]),
                # s * z, by which each column's t * sum(v) is taken off the row
                helper.make_node("Mul", [p + "scale", p + "zerof"], [p + "offset"]),
                helper.make_node("Unsqueeze", [p + "offset", one], [p + "offset_col"]),
            ]
        )
        quantised[x] = (p + "q", p + "scale_col", p + "offset_col", p + "lead")
        return quantised[x]

    rewritten = 0
    for node in graph.node:
        matrix = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        array = numpy_helper.to_array(matrix) if matrix is not None else None
        if array is None or array.ndim != 2 or array.dtype != np.float32:
            nodes.append(node)
            continue
        width, columns = array.shape
        column_scale = np.maximum(np.abs(array).max(axis=0), 1e-12) / 127.0
        q_weights = np.clip(np.round(array / column_scale), -127, 127).astype(np.int16)
        p = f"rowq_mm{rewritten}_"
        rewritten += 1
        q, scale, offset, lead = quantise(node.input[0], width)
        stored = q_weights if signed_weights else q_weights + WEIGHT_ZERO_POINT
        w = constant(p + "w", stored.astype(np.int8 if signed_weights else np.uint8))
        t = constant(p + "t", column_scale.astype(np.float32))
        sums = q_weights.astype(np.float32).sum(axis=0) * column_scale
        column_sums = constant(p + "sums", sums.astype(np.float32)[None])
        out = constant(p + "columns", np.array([columns], np.int64))
        nodes.extend(
            [
                helper.make_node(
                    "MatMulIntegerToFloat",
                    [q, w, unit, t, *(["", weight_zero] if weight_zero else [])],
                    [p + "products"],
                    domain="com.microsoft",
                ),
                helper.make_node("Mul", [p + "products", scale], [p + "scaled"]),
                helper.make_node("Mul", [offset, column_sums], [p + "correction"]),
                helper.make_node("Sub", [p + "scaled", p + "correction"], [p + "rows"]),
                helper.make_node("Concat", [lead, out], [p + "shape"], axis=0),
                helper.make_node("Reshape", [p + "rows", p + "shape"], [node.output[0]]),
            ]
        )
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in list(graph.initializer) + added if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if rewritten and not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, str(target))
    return rewritten
