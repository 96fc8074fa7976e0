"""Lightning training of the plain networks: losses and metrics per task, early stopping, seeds.

:func:`fit` trains one configuration and returns the best-on-validation network with its
per-epoch curves; it never logs anywhere (flows log what it returns).
"""

from __future__ import annotations

import copy
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats
from sklearn import metrics as skm
from torch import nn

__all__ = [
    "TRAIN_DEFAULTS",
    "EncodedSet",
    "FitResult",
    "SeqLightningModule",
    "fit",
    "predict_outputs",
    "compute_metrics",
    "primary_metric",
]

#: AdamW on a one-cycle schedule run to its end (``patience`` = ``max_epochs``: the best
#: validation-loss weights are restored anyway). On the RBP CLIP sets 15 one-cycle epochs beat
#: pysster-like training (lr 1e-3, halved on plateaus, early stopping: 20-40 epochs) on
#: validation ROC-AUC in fewer epochs; 10 epochs were too few.
TRAIN_DEFAULTS: dict[str, Any] = {
    "lr": 3e-3,
    "weight_decay": 1e-2,
    "batch_size": 128,
    "max_epochs": 15,
    "patience": 15,
    "scheduler": "onecycle",
    "shift": 0,
    "shift_mode": "batch",
}


@dataclass
class EncodedSet:
    """One-hot inputs ``X`` (n, C, L), ``mask`` (n, L) and targets ``y`` (n, outputs), float32."""

    X: torch.Tensor
    mask: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.X.shape[0])


@dataclass
class FitResult:
    net: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = float("inf")
    epochs_run: int = 0
    seconds: float = 0.0
    #: an ensemble's per-member fits (``net`` is then the ensemble, ``seconds`` their sum)
    members: list[FitResult] = field(default_factory=list)


def loss_fn(task: str, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Task loss. Regression: mean squared error over the MEASURED entries only: NaN targets
    (a target not measured for that sequence, multi-target data) are left out of the mean."""
    if task in ("binary", "multilabel"):
        return F.binary_cross_entropy_with_logits(logits, y)
    if task == "multiclass":
        return F.cross_entropy(logits, y.argmax(1))
    measured = torch.isfinite(y)
    if bool(measured.all()):
        return F.mse_loss(logits, y)
    diff = torch.where(measured, logits - torch.nan_to_num(y), torch.zeros_like(logits))
    return (diff**2).sum() / measured.sum().clamp_min(1)


def activate(task: str, logits: torch.Tensor) -> torch.Tensor:
    """Logits -> probabilities (classification) or values (regression)."""
    if task in ("binary", "multilabel"):
        return torch.sigmoid(logits)
    if task == "multiclass":
        return torch.softmax(logits, dim=1)
    return logits


def primary_metric(task: str) -> str:
    """The test metric that decides the champion: ROC-AUC, or Pearson r for regression."""
    return "pearson" if task == "regression" else "roc_auc"


def compute_metrics(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Task metrics. Classification: roc_auc, pr_auc, f1, accuracy (macro over classes/labels);
    regression: pearson, spearman, r2, mse (mean over targets; each target on its measured,
    i.e. non-NaN, rows)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    out: dict[str, float] = {}
    if task == "regression":
        rs, ss, r2, mse = [], [], [], []
        for j in range(y_true.shape[1]):
            ok = np.isfinite(y_true[:, j])
            t, p = y_true[ok, j], y_pred[ok, j]
            if len(t) < 2:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rs.append(float(stats.pearsonr(t, p)[0]) if np.std(p) > 0 else 0.0)
                ss.append(float(stats.spearmanr(t, p)[0]) if np.std(p) > 0 else 0.0)
            r2.append(float(skm.r2_score(t, p)))
            mse.append(float(np.mean((t - p) ** 2)))
        if not rs:
            return dict.fromkeys(("pearson", "spearman", "r2", "mse"), float("nan"))
        return {
            "pearson": float(np.mean(rs)),
            "spearman": float(np.mean(ss)),
            "r2": float(np.mean(r2)),
            "mse": float(np.mean(mse)),
        }
    if task == "multiclass":
        labels = y_true.argmax(1)
        present = [j for j in range(y_true.shape[1]) if 0 < y_true[:, j].sum() < len(y_true)]
        out["roc_auc"] = (
            float(np.mean([skm.roc_auc_score(y_true[:, j], y_pred[:, j]) for j in present]))
            if present
            else float("nan")
        )
        out["pr_auc"] = (
            float(np.mean([skm.average_precision_score(y_true[:, j], y_pred[:, j]) for j in present]))
            if present
            else float("nan")
        )
        out["f1"] = float(skm.f1_score(labels, y_pred.argmax(1), average="macro"))
        out["accuracy"] = float(np.mean(labels == y_pred.argmax(1)))
        return out
    cols = [j for j in range(y_true.shape[1]) if 0 < y_true[:, j].sum() < len(y_true)]
    out["roc_auc"] = (
        float(np.mean([skm.roc_auc_score(y_true[:, j], y_pred[:, j]) for j in cols]))
        if cols
        else float("nan")
    )
    out["pr_auc"] = (
        float(np.mean([skm.average_precision_score(y_true[:, j], y_pred[:, j]) for j in cols]))
        if cols
        else float("nan")
    )
    out["f1"] = float(
        skm.f1_score(
            y_true, y_pred >= 0.5, average="macro" if task == "multilabel" else "binary", zero_division=0
        )
    )
    out["accuracy"] = float(np.mean((y_pred >= 0.5) == (y_true >= 0.5)))
    return out


def shift_batch(t: torch.Tensor, k: int) -> torch.Tensor:
    """Shift along the last (position) axis by ``k`` (> 0: to the right), filling with zeros
    (= masked padding), never wrapping around."""
    if k == 0 or abs(k) >= t.shape[-1]:
        return t
    pad = (k, 0) if k > 0 else (0, -k)
    return F.pad(t[..., : t.shape[-1] - k] if k > 0 else t[..., -k:], pad)


def shift_rows(t: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Shift each row ``i`` of ``t`` (batch, ..., L) along the last axis by its own ``k[i]``
    (> 0: to the right), zero-filled, never wrapping around."""
    n = t.shape[-1]
    src = torch.arange(n, device=t.device).unsqueeze(0) - k.to(t.device).long().unsqueeze(1)  # (B, L)
    inside = (src >= 0) & (src < n)
    src = src.clamp(0, n - 1)
    shape = (t.shape[0],) + (1,) * (t.dim() - 2) + (n,)
    idx = src.view(shape).expand(t.shape)
    return t.gather(-1, idx) * inside.view(shape).to(t.dtype)


class SeqLightningModule(L.LightningModule):
    """Wraps a plain network: task loss, AdamW (+ OneCycle), val_loss / val_score per epoch."""

    def __init__(
        self,
        net: nn.Module,
        task: str,
        lr: float,
        weight_decay: float,
        scheduler: str,
        total_steps: int,
        shift: int = 0,
        shift_mode: str = "batch",
    ):
        super().__init__()
        if shift_mode not in ("batch", "sample"):
            raise ValueError(f"shift_mode must be batch or sample, got {shift_mode!r}")
        self.shift = int(shift)
        self.shift_mode = shift_mode
        self.net = net
        self.task = task
        self.lr = lr
        self.weight_decay = weight_decay
        self.scheduler = scheduler
        self.total_steps = max(1, total_steps)
        self._val_out: list[torch.Tensor] = []
        self._val_y: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x, mask)

    def training_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, m, y = batch
        if self.shift > 0 and self.shift_mode == "sample":
            ks = torch.randint(-self.shift, self.shift + 1, (len(x),))
            x, m = shift_rows(x, ks), shift_rows(m, ks)
        elif self.shift > 0:
            k = int(torch.randint(-self.shift, self.shift + 1, (1,)))
            x, m = shift_batch(x, k), shift_batch(m, k)
        loss = loss_fn(self.task, self.net(x, m), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(x))
        return loss

    def validation_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        x, m, y = batch
        self._val_out.append(self.net(x, m).detach())
        self._val_y.append(y)

    def on_validation_epoch_end(self) -> None:
        if not self._val_out:
            return
        logits, y = torch.cat(self._val_out), torch.cat(self._val_y)
        self._val_out, self._val_y = [], []
        self.log("val_loss", loss_fn(self.task, logits, y))
        m = compute_metrics(self.task, y.cpu().numpy(), activate(self.task, logits).float().cpu().numpy())
        score = m[primary_metric(self.task)]
        self.log("val_score", float(score) if np.isfinite(score) else 0.0)

    def configure_optimizers(self) -> Any:
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        if self.scheduler == "onecycle" and self.total_steps >= 4:
            # warm-up of >= 2 steps: OneCycleLR divides by (pct_start * total_steps - 1)
            sched = torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=self.lr, total_steps=self.total_steps, pct_start=max(0.25, 2 / self.total_steps)
            )
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
        if self.scheduler == "plateau":
            plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": plateau, "monitor": "val_loss"}}
        return opt


class _Batches(torch.utils.data.Dataset):
    """Index a whole batch at once (much faster than per-sample collation)."""

    def __init__(self, data: EncodedSet):
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, idx: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(idx)
        return self.data.X[idx], self.data.mask[idx], self.data.y[idx]


def _loader(data: EncodedSet, batch_size: int, shuffle: bool, seed: int) -> torch.utils.data.DataLoader:
    gen = torch.Generator().manual_seed(seed)
    base = torch.utils.data.RandomSampler(data.X, generator=gen) if shuffle else range(len(data))
    sampler = torch.utils.data.BatchSampler(base, batch_size, drop_last=False)  # type: ignore[arg-type]
    return torch.utils.data.DataLoader(_Batches(data), sampler=sampler, batch_size=None)


class _History(L.Callback):
    def __init__(self, trial_history: list[dict[str, float]] | None = None) -> None:
        self.trial_history = trial_history
        self.rows: list[dict[str, float]] = []
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_loss = float("inf")
        self.best_epoch = 0

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        cm = trainer.callback_metrics
        row = {k: float(v) for k, v in cm.items() if k in ("val_loss", "val_score")}
        row["epoch"] = trainer.current_epoch
        if self.trial_history is not None:
            self.trial_history.append(row)
        self.rows.append(row)
        val = row.get("val_loss", float("inf"))
        if val < self.best_loss:
            self.best_loss, self.best_epoch = val, trainer.current_epoch
            self.best_state = copy.deepcopy(pl_module.net.state_dict())  # type: ignore[union-attr,operator]

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if (
            self.rows
            and self.rows[-1]["epoch"] == trainer.current_epoch
            and "train_loss" in trainer.callback_metrics
        ):
            self.rows[-1]["train_loss"] = float(trainer.callback_metrics["train_loss"])


def fit(
    net: nn.Module,
    task: str,
    train: EncodedSet,
    val: EncodedSet,
    *,
    seed: int = 0,
    lr: float = TRAIN_DEFAULTS["lr"],
    weight_decay: float = TRAIN_DEFAULTS["weight_decay"],
    batch_size: int = TRAIN_DEFAULTS["batch_size"],
    max_epochs: int = TRAIN_DEFAULTS["max_epochs"],
    patience: int = TRAIN_DEFAULTS["patience"],
    scheduler: str = TRAIN_DEFAULTS["scheduler"],
    shift: int = TRAIN_DEFAULTS["shift"],
    shift_mode: str = TRAIN_DEFAULTS["shift_mode"],
    accelerator: str = "auto",
    callbacks: Sequence[L.Callback] = (),
    progress: bool = False,
    history_sink: list[dict[str, float]] | None = None,
) -> FitResult:
    """Train ``net`` with early stopping on ``val_loss``; the returned net has the best weights.

    ``shift`` > 0 augments training batches: each batch is shifted by a random offset in
    ``[-shift, shift]`` positions (zero-filled, i.e. masked): the same offset for the whole
    batch (``shift_mode="batch"``, Basenji/Saluki's ``StochasticShift``) or one offset per
    sequence (``"sample"``).

    ``callbacks`` are extra Lightning callbacks (e.g. Optuna's pruning callback, which may raise
    ``optuna.TrialPruned`` out of this function). ``history_sink`` receives the per-epoch rows
    as they come (so the curve of an interrupted/pruned fit is not lost).
    """
    t0 = time.perf_counter()
    L.seed_everything(seed, workers=True, verbose=False)
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    steps = max_epochs * ((len(train) + batch_size - 1) // batch_size)
    module = SeqLightningModule(net, task, lr, weight_decay, scheduler, steps, shift, shift_mode)
    history = _History(history_sink)
    early = L.pytorch.callbacks.EarlyStopping(monitor="val_loss", patience=patience, mode="min")
    if accelerator == "auto":
        accelerator = "gpu" if torch.cuda.is_available() else "cpu"
    trainer = L.Trainer(
        max_epochs=max_epochs,
        accelerator=accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=progress,
        num_sanity_val_steps=0,
        callbacks=[history, early, *callbacks],
        deterministic=False,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*number of training batches.*")
        trainer.fit(module, _loader(train, batch_size, True, seed), _loader(val, 1024, False, seed))
    if history.best_state is not None:
        net.load_state_dict(history.best_state)
    net.cpu().eval()
    return FitResult(
        net, history.rows, history.best_epoch, history.best_loss, len(history.rows), time.perf_counter() - t0
    )


@torch.no_grad()
def predict_outputs(
    net: nn.Module, task: str, X: torch.Tensor, mask: torch.Tensor | None = None, batch_size: int = 1024
) -> np.ndarray:
    """Probabilities (classification) or raw regression outputs, (n, n_outputs) float32.

    An ensemble (a net with ``members``) gives the mean of its members' probabilities
    (classification) or outputs (regression)."""
    net.eval()
    device = next(net.parameters()).device
    members = list(getattr(net, "members", None) or [net])
    outs = []
    for i in range(0, len(X), batch_size):
        xb = X[i : i + batch_size].to(device)
        mb = None if mask is None else mask[i : i + batch_size].to(device)
        probs = [activate(task, m(xb, mb)).float() for m in members]
        outs.append((probs[0] if len(probs) == 1 else torch.stack(probs).mean(0)).cpu())
    if not outs:
        return np.zeros((0, 0), dtype=np.float32)
    return torch.cat(outs).numpy()
