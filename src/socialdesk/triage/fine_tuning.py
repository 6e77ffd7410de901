"""Fine-tuning the top of the MiniLM encoder on one task's labels (embedding tier, socialdesk[ml]).

Frozen sentence embeddings are general-purpose; a brand's own labels teach the encoder what
matters to them. Only the top ``TUNED_LAYERS`` transformer layers learn (the lower layers and
the word embeddings stay as packaged): that keeps training to minutes on a CPU, the stored
model small (the tuned layers, about 7 MB in fp16), and adds only those layers per message at
triage time, because the packaged encoder's output below them is shared by every model of
the workspace.

During training a softmax head on the mean-pooled tokens learns with the layers; it is thrown
away afterwards: the task's linear model is then trained on the tuned embeddings as usual.
Each example's weight (an agent's correction weighs more than an imported row) counts in
both: in the layers' loss here and in the linear model's.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from socialdesk.core.errors import InvalidInput
from socialdesk.triage.embedding import (
    TUNED_LAYERS,
    TunedTop,
    load_torch_encoder,
    missing_reason,
    packaged_model_dir,
    tuned_top_of,
)

EPOCHS = 3
BATCH_SIZE = 32
LEARNING_RATE = 1e-4
HEAD_LEARNING_RATE = 1e-3
WARMUP_FRACTION = 0.1
# Training reads the first tokens only (a social post rarely has more); inference reads all.
MAX_TRAINING_TOKENS = 64
MIN_EXAMPLES = 8

if TYPE_CHECKING:
    import torch

# Called with (steps done, steps in all) after each optimisation step.
ProgressCallback = Callable[[int, int], None]


def fine_tune(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    weights: Sequence[float] | None = None,
    balanced: bool = False,
    epochs: int = EPOCHS,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> TunedTop:
    """Tune the encoder's top layers to tell ``labels`` apart; returns their new weights.
    ``weights`` (one per text, default 1) scale each text's part in the loss."""
    reason = missing_reason()
    if reason is not None:
        raise InvalidInput(reason)
    if len(texts) != len(labels):
        raise InvalidInput("one label per example is needed")
    if weights is None:
        weights = [1.0] * len(texts)
    if len(weights) != len(texts):
        raise InvalidInput("one weight per example is needed")
    if not all(math.isfinite(w) and w >= 0 for w in weights):
        raise InvalidInput("example weights must be finite and not negative")
    rows = [i for i, t in enumerate(texts) if t.strip() and weights[i] > 0]
    classes = sorted({labels[i] for i in rows})
    if len(rows) < MIN_EXAMPLES or len(classes) < 2:
        raise InvalidInput(
            f"fine-tuning needs at least {MIN_EXAMPLES} texts and two labels, "
            f"got {len(rows)} texts and {len(classes)} labels"
        )
    if epochs < 1:
        raise InvalidInput("fine-tuning needs at least one epoch")
    return _train(
        [texts[i] for i in rows],
        [classes.index(labels[i]) for i in rows],
        [float(weights[i]) for i in rows],
        len(classes),
        balanced=balanced,
        epochs=epochs,
        seed=seed,
        progress=progress,
    )


def weighted_cross_entropy(
    logits: torch.Tensor,
    targets: torch.Tensor,
    example_weights: torch.Tensor,
    class_weights: torch.Tensor,
) -> torch.Tensor:
    """Cross-entropy averaged with each example weighted by its own weight times its class's:
    with all example weights 1 it is torch's class-weighted mean, and an example of weight 2
    counts as that example twice."""
    import torch

    losses = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    scale = example_weights * class_weights[targets]
    return (losses * scale).sum() / scale.sum().clamp(min=1e-12)


def _train(
    texts: list[str],
    targets: list[int],
    example_weights: list[float],
    n_classes: int,
    *,
    balanced: bool,
    epochs: int,
    seed: int,
    progress: ProgressCallback | None,
) -> TunedTop:
    import torch

    shuffler = random.Random(seed)
    torch.manual_seed(seed)
    model_dir = packaged_model_dir()
    encoder, tokenizer = load_torch_encoder(model_dir)
    encoder.eval()  # the frozen layers: no dropout
    for parameter in encoder.parameters():
        parameter.requires_grad_(False)
    top = encoder.encoder.layer[-TUNED_LAYERS:]
    for parameter in top.parameters():
        parameter.requires_grad_(True)
    head = torch.nn.Linear(encoder.config.hidden_size, n_classes)
    dropout = torch.nn.Dropout(0.1)

    counts = Counter(targets)
    class_weights = torch.ones(n_classes)
    if balanced:
        class_weights = torch.tensor(
            [len(targets) / (n_classes * max(1, counts[c])) for c in range(n_classes)],
            dtype=torch.float32,
        )
    optimiser = torch.optim.AdamW(
        [
            {"params": list(top.parameters()), "lr": LEARNING_RATE},
            {"params": list(head.parameters()), "lr": HEAD_LEARNING_RATE},
        ],
        weight_decay=0.01,
    )
    steps_per_epoch = math.ceil(len(texts) / BATCH_SIZE)
    total = steps_per_epoch * epochs
    warmup = max(1, int(total * WARMUP_FRACTION))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: (
            (step + 1) / warmup
            if step < warmup
            else max(0.0, (total - step) / max(1, total - warmup))
        ),
    )
    done = 0
    for _ in range(epochs):
        order = list(range(len(texts)))
        shuffler.shuffle(order)
        top.train()
        for start in range(0, len(order), BATCH_SIZE):
            chosen = order[start : start + BATCH_SIZE]
            encoded = tokenizer(
                [texts[i] for i in chosen],
                padding=True,
                truncation=True,
                max_length=MAX_TRAINING_TOKENS,
                return_tensors="pt",
            )
            hidden = encoder(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            loss = weighted_cross_entropy(
                head(dropout(pooled)),
                torch.tensor([targets[i] for i in chosen]),
                torch.tensor([example_weights[i] for i in chosen], dtype=torch.float32),
                class_weights,
            )
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call,unused-ignore]  # untyped in torch, Any without it
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            done += 1
            if progress is not None:
                progress(done, total)
    top.eval()
    return tuned_top_of(top)
