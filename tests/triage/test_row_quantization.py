"""Per-row int8 quantisation of an ONNX graph's weight products: close to fp32, and a row's
result never depends on the other rows of the call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.embedding_marks import needs_embedding

from socialdesk.triage.row_quantization import quantize_rows, signed_weights_exact

pytestmark = needs_embedding

WIDTH, COLUMNS = 48, 24


def graph(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """x (batch, tokens, WIDTH) times a constant weight, then times its own transpose (a
    product of two activations, which stays in fp32)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(3).normal(size=(WIDTH, COLUMNS)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["y"]),
        helper.make_node("Transpose", ["y"], ["yt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["y", "yt"], ["gram"]),
    ]
    model = helper.make_model(
        helper.make_graph(
            nodes,
            "product",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", WIDTH])],
            [
                helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                helper.make_tensor_value_info("gram", TensorProto.FLOAT, None),
            ],
            [numpy_helper.from_array(weight, "w")],
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    path = tmp_path / "fp32.onnx"
    onnx.save(model, str(path))
    return path, weight


def session(path: Path) -> object:
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


# Signed weights only where this CPU multiplies them exactly (VNNI); unsigned ones anywhere.
WEIGHT_KINDS = [
    False,
    pytest.param(
        True,
        marks=pytest.mark.skipif(
            not signed_weights_exact(), reason="signed weights saturate on a CPU without VNNI"
        ),
    ),
]


@pytest.fixture(params=WEIGHT_KINDS, ids=["unsigned-weights", "signed-weights"])
def quantised(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[object, np.ndarray, int]:
    source, weight = graph(tmp_path)
    target = tmp_path / "int8.onnx"
    rewritten = quantize_rows(source, target, signed_weights=request.param)
    return session(target), weight, rewritten


def product(run: object, x: np.ndarray) -> np.ndarray:
    return np.asarray(run.run(["y"], {"x": x})[0])  # type: ignore[attr-defined]


def test_only_products_with_a_constant_weight_are_rewritten(
    quantised: tuple[object, np.ndarray, int],
) -> None:
    _, _, rewritten = quantised
    assert rewritten == 1


def test_the_int8_product_is_close_to_full_precision_and_keeps_its_shape(
    quantised: tuple[object, np.ndarray, int],
) -> None:
    run, weight, _ = quantised
    x = np.random.default_rng(5).normal(size=(3, 7, WIDTH)).astype(np.float32)
    y = product(run, x)
    exact = x @ weight
    assert y.shape == (3, 7, COLUMNS)
    assert np.abs(y - exact).max() < 0.02 * np.abs(exact).max()


def test_a_row_gets_the_same_result_beside_an_outlier_or_alone(
    quantised: tuple[object, np.ndarray, int],
) -> None:
    run, weight, _ = quantised
    rng = np.random.default_rng(8)
    row = rng.normal(size=(1, 1, WIDTH)).astype(np.float32)
    outlier = 1000 * rng.normal(size=(1, 1, WIDTH)).astype(np.float32)
    alone = product(run, row)[0, 0]
    together = product(run, np.concatenate([outlier, row], axis=1))[0, 1]
    padded = product(run, np.concatenate([row, np.zeros_like(row)], axis=1))[0, 0]
    assert np.array_equal(alone, together)
    assert np.array_equal(alone, padded)
    exact = (row @ weight)[0, 0]
    assert np.abs(alone - exact).max() < 0.02 * np.abs(exact).max()


def test_a_row_of_zeros_gives_exact_zeros(quantised: tuple[object, np.ndarray, int]) -> None:
    run, _, _ = quantised
    assert not product(run, np.zeros((2, 4, WIDTH), dtype=np.float32)).any()


@pytest.mark.parametrize("signed", [False, True])
def test_weights_are_bytes_of_the_kind_asked_for(tmp_path: Path, signed: bool) -> None:
    # Unsigned by unsigned where asked: ONNX Runtime's unsigned-by-signed kernel saturates on
    # CPUs with AVX2 but no VNNI, where the test below would fail with signed weights.
    import onnx
    from onnx import numpy_helper

    source, weight = graph(tmp_path)
    quantize_rows(source, tmp_path / "int8.onnx", signed_weights=signed)
    model = onnx.load(str(tmp_path / "int8.onnx"))
    constants = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    (product_node,) = [n for n in model.graph.node if n.op_type == "MatMulIntegerToFloat"]
    weights = constants[product_node.input[1]]
    assert product_node.input[4:5] in ([], [""])  # the rows' zero point is corrected after
    if signed:
        assert weights.dtype == np.int8 and product_node.input[5:] == []
    else:
        zero_point = constants[product_node.input[5]]
        assert weights.dtype == np.uint8 and zero_point.dtype == np.uint8
        assert int(zero_point) == 128
    # The same integers either way: one symmetric scale per column.
    centred = weights.astype(np.int16) - (0 if signed else 128)
    scale = constants[product_node.input[3]]
    assert np.abs(centred * scale - weight).max() <= scale.max() / 2 + 1e-6


def test_the_cpu_is_read_for_vnni(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512_vnni\n", encoding="utf-8")
    assert signed_weights_exact(info)
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512bw\n", encoding="utf-8")
    assert not signed_weights_exact(info)
    assert not signed_weights_exact(tmp_path / "missing")


def test_large_terms_of_one_sign_add_up_without_overflow(
    quantised: tuple[object, np.ndarray, int],
) -> None:
    # Every activation at the top of its row's range against a column of large weights of
    # the same sign: pairs of byte products pass 16 bits.
    run, weight, _ = quantised
    x = np.where(weight[:, :1].T > 0, 1.0, -1.0).astype(np.float32)[None] * 3.0
    exact = x @ weight
    assert np.abs(product(run, x) - exact).max() < 0.02 * np.abs(exact).max()
