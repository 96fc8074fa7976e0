"""Normal modes of the ENCoM Hessian and the dynamical signatures derived from them.

NRGTEN 1.2.9 conventions: unit masses, all 3N modes from a dense symmetric eigensolver in ascending
order, the first 6 modes skipped by index, frequencies nu_k = sqrt(lambda_k) / (2 pi).

* Entropic signature (what DynaSig-ML stores): S_i(beta) = 1000 sum_{k>6} s(beta nu_k) sum_xyz u_{k,3i+c}^2
  with s(x) = x / (e^x - 1) - ln(1 - e^-x), evaluated with ``float_power`` like NRGTEN, so that stiff
  modes give exactly 0 once e^x overflows (x > ~709.78).
* MSF b-factors: b_i = 1000 sum_{k>6} sum_xyz u_{k,3i+c}^2 / lambda_k.
* Vibrational entropy: sum_{k>6} s(beta nu_k).
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np
import scipy.linalg

__all__ = [
    "limit_blas",
    "normal_modes",
    "mode_entropy",
    "entropic_signature",
    "msf_bfactors",
    "N_TRIVIAL_MODES",
]

N_TRIVIAL_MODES = 6


@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # created after numpy/scipy loaded their BLAS libraries


def limit_blas(threads: int | None) -> contextlib.AbstractContextManager:
    """Context manager limiting BLAS threads (cheap: the controller is created once per process).

    One thread is fastest for ENCoM-sized matrices and avoids oversubscription when structures run in
    parallel processes; ``None`` leaves the limits alone.
    """
    if threads is None:
        return contextlib.nullcontext()
    return _blas_controller().limit(limits=threads, user_api="blas")


def normal_modes(hessian: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (3N,) ascending and per-bead squared eigenvector weights (N, 3N).

    ``weights[i, k] = sum_xyz u_{k,3i+c}^2``. The Hessian is overwritten (LAPACK ``syevd`` through
    ``scipy.linalg.eigh(driver="evd")``, the fastest of numpy/scipy drivers measured here).
    """
    vals, vecs = scipy.linalg.eigh(hessian, driver="evd", overwrite_a=True, check_finite=False)
    n = hessian.shape[0] // 3
    sq = np.square(vecs, out=vecs)
    weights = sq.reshape(n, 3, -1).sum(axis=1)
    return vals, weights


def mode_entropy(eigenvalues: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """s(beta nu_k) for the non-trivial modes, shape (n_beta, 3N - 6), as NRGTEN computes it."""
    freqs = np.sqrt(eigenvalues[N_TRIVIAL_MODES:]) / (2 * np.pi)
    x = np.asarray(betas, dtype=np.float64)[:, None] * freqs[None, :]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return x / (np.float_power(np.e, x) - 1) - np.log(1 - np.float_power(np.e, -x))


def entropic_signature(weights: np.ndarray, mode_entropies: np.ndarray) -> np.ndarray:
    """Entropic (Boltzmann) signature for every beta at once, shape (n_beta, N).

    ``weights`` from :func:`normal_modes`, ``mode_entropies`` from :func:`mode_entropy`.
    """
    return 1000.0 * mode_entropies @ weights[:, N_TRIVIAL_MODES:].T


def msf_bfactors(eigenvalues: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Classic MSF b-factors (N,): 1000 sum_{k>6} weight / lambda_k."""
    return 1000.0 * weights[:, N_TRIVIAL_MODES:] @ (1.0 / eigenvalues[N_TRIVIAL_MODES:])
