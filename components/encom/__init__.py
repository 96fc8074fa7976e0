"""ENCoM engine: NRGTEN-equivalent Hessian, normal modes and dynamical signatures, fast and batched.

ENCoM: Frappier & Najmanovich 2014, PLoS Comput Biol 10:e1003569 (reference implementation: NRGTEN 1.2.9).
Dynamical signatures as used by DynaSig-ML (Mailhot & Najmanovich 2023).
"""

from components.encom.batch import compute_signatures_batch, concatenate_chunks
from components.encom.engine import SignatureResult, compute_signatures
from components.encom.params import DEFAULT_BETAS, PARAMETER_SETS, EncomParams
from components.encom.structure import read_structure

__all__ = [
    "DEFAULT_BETAS",
    "PARAMETER_SETS",
    "EncomParams",
    "SignatureResult",
    "compute_signatures",
    "compute_signatures_batch",
    "concatenate_chunks",
    "read_structure",
]
