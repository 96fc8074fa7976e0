"""Sequences that drive one deep neuron: top-activating data windows and a genetic algorithm.

NeuronMotif (Wei et al., PNAS 2023) explains a neuron of conv layer ``l`` from many receptive-field
windows that activate it. Two sources are combined here:

* :func:`top_windows`: for every sequence, the receptive field of the neuron's best position;
  the windows of the most activated sequences are kept (zero columns where the field reaches
  past the sequence ends or into padding).
* :func:`genetic_sampling`: a seeded genetic algorithm over one-hot windows (elitism, tournament
  selection, uniform crossover) whose mutations are *gradient-guided* for a fraction of the
  children (the letter change with the largest first-order gain in activation, from the
  gradient of the neuron with respect to the input) and uniformly random for another; it stops
  after ``patience`` generations without improvement, ``max_generations`` or ``max_seconds``.
  A converged population is nearly one sequence, whose every column would look informative;
  :func:`randomize_neutral` therefore redraws, in each optimised window, the positions where no
  single-letter change moves the activation by more than a tolerance (in-silico mutagenesis), so
  that only the letters that drive the neuron stay fixed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from components.motifs.receptive import ConvLayer, extract_windows, window_activations

__all__ = ["NeuronSamples", "top_windows", "genetic_sampling", "randomize_neutral", "combine", "GA_DEFAULTS"]

#: genetic-algorithm defaults (population and mutation rates as in CombMotif's NeuronMotif run)
GA_DEFAULTS: dict[str, float | int] = {
    "population": 50,
    "patience": 30,
    "max_generations": 300,
    "max_seconds": 20.0,
    "gradient_rate": 0.2,  # children given a gradient-guided mutation
    "random_rate": 0.6,  # children given a random mutation
    "elite_fraction": 0.2,
    "restarts": 2,
}


@dataclass(frozen=True)
class NeuronSamples:
    """Receptive-field windows of one neuron with their activations."""

    windows: np.ndarray  # (m, channels, receptive_field) one-hot (zero columns = outside)
    activations: np.ndarray  # (m,)
    source: np.ndarray  # (m,) "data" or "ga"
    sequence_index: np.ndarray  # (m,) data row of the window (-1 for GA samples)
    start: np.ndarray  # (m,) input start of the window in its sequence (0 for GA samples)


def top_windows(
    X: np.ndarray,
    activations: np.ndarray,
    layer: ConvLayer,
    neuron: int,
    *,
    n_windows: int = 500,
    min_fraction: float = 0.0,
) -> NeuronSamples:
    """The receptive fields of the ``n_windows`` sequences where ``neuron`` fires most.

    Parameters
    ----------
    X
        ``(n, channels, L)`` one-hot input.
    activations
        ``(n, channels_l, L_l)`` activations of ``layer`` on ``X``
        (:func:`~components.motifs.receptive.conv_activations`).
    min_fraction
        Keep only windows whose activation is above ``min_fraction`` times the best one (and > 0).
    """
    a = activations[:, neuron, :]
    best = a.argmax(axis=1)
    value = a[np.arange(len(a)), best]
    order = np.argsort(-value, kind="stable")[:n_windows]
    top = value[order[0]] if len(order) else 0.0
    order = order[(value[order] > 0) & (value[order] >= min_fraction * top)]
    starts = layer.window_start(best[order]).astype(int)
    W = extract_windows(X[order], starts, layer.receptive_field)
    return NeuronSamples(
        W,
        value[order].astype(np.float32),
        np.full(len(order), "data"),
        order.astype(int),
        starts,
    )


def _fitness(net: nn.Module, pop: torch.Tensor, layer: ConvLayer, neuron: int, grad: bool):
    if not grad:
        with torch.no_grad():
            return window_activations(net, pop, layer)[:, neuron], None
    x = pop.clone().requires_grad_(True)
    f = window_activations(net, x, layer)[:, neuron]
    (g,) = torch.autograd.grad(f.sum(), x)
    return f.detach(), g


def _gradient_mutation(ind: torch.Tensor, g: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Change the letter at the position with the largest first-order gain (ties: random)."""
    gain = g - (g * ind).sum(0, keepdim=True)  # (channels, width): gain of switching to each letter
    best_gain, best_letter = gain.max(0)
    cand = torch.nonzero(best_gain >= best_gain.max() - 1e-12).flatten().numpy()
    pos = int(cand[rng.integers(len(cand))])
    out = ind.clone()
    out[:, pos] = 0
    out[int(best_letter[pos]), pos] = 1
    return out


def _random_mutation(ind: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    out = ind.clone()
    pos = int(rng.integers(out.shape[1]))
    out[:, pos] = 0
    out[int(rng.integers(out.shape[0])), pos] = 1
    return out


def _random_population(n: int, channels: int, width: int, rng: np.random.Generator) -> torch.Tensor:
    P = np.zeros((n, channels, width), np.float32)
    P[np.arange(n)[:, None], rng.integers(channels, size=(n, width)), np.arange(width)[None, :]] = 1
    return torch.from_numpy(P)


def _one_run(
    net: nn.Module,
    layer: ConvLayer,
    neuron: int,
    channels: int,
    p: dict,
    rng: np.random.Generator,
    deadline: float,
) -> tuple[dict[bytes, tuple[np.ndarray, float]], int]:
    n_pop = int(p["population"])
    n_elite = max(1, int(round(p["elite_fraction"] * n_pop)))
    pop = _random_population(n_pop, channels, layer.receptive_field, rng)
    archive: dict[bytes, tuple[np.ndarray, float]] = {}
    best, stale, gen = -np.inf, 0, 0
    for gen in range(1, int(p["max_generations"]) + 1):  # noqa: B007 - gen is reported
        fit, grad = _fitness(net, pop, layer, neuron, grad=True)
        for ind, f in zip(pop.numpy(), fit.numpy(), strict=True):
            archive.setdefault(ind.argmax(0).tobytes(), (ind, float(f)))
        order = torch.argsort(fit, descending=True)
        if float(fit[order[0]]) > best + 1e-6:
            best, stale = float(fit[order[0]]), 0
        else:
            stale += 1
        if stale >= int(p["patience"]) or time.perf_counter() > deadline:
            break
        children = [pop[i] for i in order[:n_elite]]
        half = order[: max(2, n_pop // 2)].numpy()
        while len(children) < n_pop:
            i, j = (max(rng.choice(half, 2), key=lambda k: float(fit[k])) for _ in range(2))
            take = torch.from_numpy(rng.random(layer.receptive_field) < 0.5)
            child = torch.where(take, pop[i], pop[j])
            r = rng.random()
            if r < p["gradient_rate"]:
                # gradient of the better parent (the child mostly equals one of them)
                child = _gradient_mutation(child, grad[i], rng)
            elif r < p["gradient_rate"] + p["random_rate"]:
                child = _random_mutation(child, rng)
            children.append(child)
        pop = torch.stack(children)
    return archive, gen


def genetic_sampling(
    net: nn.Module,
    layer: ConvLayer,
    neuron: int,
    channels: int,
    *,
    n_samples: int = 200,
    min_fraction: float = 0.5,
    seed: int = 0,
    **params: float | int,
) -> tuple[NeuronSamples, dict]:
    """Windows optimised by a genetic algorithm to activate ``neuron`` (see module docstring).

    Parameters
    ----------
    channels
        One-hot channels of the input (the model's alphabet, extended alphabets included).
    n_samples
        Distinct windows kept: the most activating ones over all generations and restarts with an
        activation of at least ``min_fraction`` of the best (and > 0).
    **params
        Overrides of :data:`GA_DEFAULTS` (``population``, ``patience``, ``max_generations``,
        ``max_seconds`` per neuron for all restarts together, ``gradient_rate``, ``random_rate``,
        ``elite_fraction``, ``restarts``).

    Returns
    -------
    (NeuronSamples, info)
        ``info``: ``best`` activation, ``generations`` per restart, ``seconds``.
    """
    unknown = set(params) - set(GA_DEFAULTS)
    if unknown:
        raise TypeError(f"genetic_sampling got unknown parameter(s): {', '.join(sorted(unknown))}")
    p = {**GA_DEFAULTS, **params}
    net.eval()
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    deadline = t0 + float(p["max_seconds"])
    archive: dict[bytes, tuple[np.ndarray, float]] = {}
    gens = []
    for _ in range(int(p["restarts"])):
        arc, g = _one_run(net, layer, neuron, channels, p, rng, deadline)
        for k, v in arc.items():
            archive.setdefault(k, v)
        gens.append(g)
        if time.perf_counter() > deadline:
            break
    items = sorted(archive.values(), key=lambda t: -t[1])
    best = items[0][1] if items else 0.0
    keep = [t for t in items if t[1] > 0 and t[1] >= min_fraction * best][:n_samples]
    W = np.stack([t[0] for t in keep]) if keep else np.zeros((0, channels, layer.receptive_field), np.float32)
    samples = NeuronSamples(
        W.astype(np.float32),
        np.array([t[1] for t in keep], np.float32),
        np.full(len(keep), "ga"),
        np.full(len(keep), -1),
        np.zeros(len(keep), int),
    )
    return samples, {"best": float(best), "generations": gens, "seconds": time.perf_counter() - t0}


def randomize_neutral(
    net: nn.Module,
    layer: ConvLayer,
    neuron: int,
    samples: NeuronSamples,
    *,
    tolerance: float = 0.1,
    seed: int = 0,
    batch_size: int = 256,
) -> NeuronSamples:
    """Redraw the positions of each window where every single-letter change moves the neuron's
    activation by less than ``tolerance`` times the window's activation (in-silico mutagenesis).

    Activations are recomputed on the redrawn windows; positions that matter keep their letters.
    """
    W = samples.windows
    m, c, w = W.shape
    if m == 0:
        return samples
    rng = np.random.default_rng(seed)
    net.eval()
    out = W.copy()
    with torch.no_grad():
        for i in range(0, m, batch_size):
            base = torch.from_numpy(W[i : i + batch_size])
            b = len(base)
            ref = window_activations(net, base, layer)[:, neuron]  # (b,)
            # every single-letter variant: (b, w, c) windows
            var = base.unsqueeze(1).unsqueeze(1).repeat(1, w, c, 1, 1)  # (b, w, c, channels, w)
            pos = torch.arange(w)
            var[:, pos, :, :, pos] = 0
            var[:, pos, :, :, pos] += torch.eye(c).unsqueeze(0)
            act = window_activations(net, var.reshape(b * w * c, c, w), layer)[:, neuron].reshape(b, w, c)
            change = (act - ref[:, None, None]).abs().amax(2)  # (b, w)
            neutral = (change < tolerance * ref.abs().clamp_min(1e-12)[:, None]).numpy()
            block = out[i : i + b]
            rows, cols = np.nonzero(neutral)
            block[rows, :, cols] = 0
            block[rows, rng.integers(c, size=len(rows)), cols] = 1
        acts = np.concatenate(
            [
                window_activations(net, torch.from_numpy(out[i : i + batch_size]), layer)[:, neuron].numpy()
                for i in range(0, m, batch_size)
            ]
        )
    return NeuronSamples(out, acts.astype(np.float32), samples.source, samples.sequence_index, samples.start)


def combine(*parts: NeuronSamples) -> NeuronSamples:
    """Concatenate samples of one neuron."""
    return NeuronSamples(
        np.concatenate([s.windows for s in parts]),
        np.concatenate([s.activations for s in parts]),
        np.concatenate([s.source for s in parts]),
        np.concatenate([s.sequence_index for s in parts]),
        np.concatenate([s.start for s in parts]),
    )
