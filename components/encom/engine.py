"""ENCoM signatures of one structure: parse -> beads -> topology -> contacts -> Hessian -> modes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from biotite.structure import AtomArray

from components.common.errors import DynamotifError, InputError
from components.encom.beads import BeadModel, build_beads
from components.encom.hessian import build_hessian, surface_complementarity
from components.encom.modes import entropic_signature, limit_blas, mode_entropy, msf_bfactors, normal_modes
from components.encom.params import DEFAULT_BETAS, DEFAULT_PARAMS, EncomParams, resolve_params
from components.encom.structure import find_pdb_line, read_structure
from components.encom.topology import Topology, build_topology

__all__ = ["SignatureResult", "compute_signatures", "prepare_beads", "short_label", "check_betas"]


@dataclasses.dataclass(frozen=True)
class SignatureResult:
    """Dynamical signatures of one structure.

    Attributes
    ----------
    labels : list of str, (N,)
        DynaSig-ML bead labels (NRGTEN's label after the ``.``), e.g. ``S|12|A|12``.
    betas : ndarray, (n_beta,)
    entropic : ndarray, (n_beta, N)
        Entropic signature per beta and bead.
    msf : ndarray or None, (N,)
        MSF b-factors when requested.
    eigenvalues : ndarray, (3N,)
        All Hessian eigenvalues, ascending (the first 6 are the trivial modes).
    params : str
        Name of the parameter set.
    vib_entropy : ndarray, (n_beta,)
        Vibrational entropy per beta (sum of the mode entropies).
    nrgten_labels : list of str
        Full NRGTEN labels, e.g. ``U.S|12|A|12``.
    n_bonds, n_angles, n_dihedrals : int
        Topology counts.
    timings : dict
        Seconds per step (parse, beads, topology, contacts, hessian, eigh, signature).
    """

    labels: list[str]
    betas: np.ndarray
    entropic: np.ndarray
    msf: np.ndarray | None
    eigenvalues: np.ndarray
    params: str
    vib_entropy: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    nrgten_labels: list[str] = dataclasses.field(default_factory=list)
    n_bonds: int = 0
    n_angles: int = 0
    n_dihedrals: int = 0
    timings: dict[str, float] = dataclasses.field(default_factory=dict, compare=False)


def short_label(label: str) -> str:
    """DynaSig-ML label: the part after the first ``.`` (``U.S|12|A|12`` -> ``S|12|A|12``)."""
    return label.split(".", 1)[1] if "." in label.split("|", 1)[0] else label


def check_betas(betas: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(betas, dtype=np.float64))
    if arr.ndim != 1:
        raise InputError(f"betas must be a flat list of numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"betas must be finite and > 0, got {arr.tolist()}")
    return arr


def prepare_beads(
    structure: str | Path | AtomArray,
    params: EncomParams,
    *,
    skip_unknown: bool = False,
    name: str | None = None,
) -> BeadModel:
    """Read ``structure`` (a path or an ``AtomArray``) and define its beads, with file/line in errors."""
    source = name
    if isinstance(structure, (str, Path)):
        source = str(structure)
        atoms = read_structure(structure)
    elif isinstance(structure, AtomArray):
        atoms = structure
    else:
        raise TypeError(f"structure must be a path or a biotite AtomArray, got {type(structure).__name__}")
    try:
        return build_beads(atoms, params, skip_unknown=skip_unknown, source=source)
    except InputError as exc:
        if isinstance(structure, (str, Path)) and exc.record and exc.record.startswith("residue "):
            # "residue RES NUM[icode] of chain 'C'" -> point at the first line of that residue
            parts = exc.record.split()
            chain = exc.record.split("'")[1].strip()
            num = parts[2]
            icode = num.lstrip("-0123456789")
            line = find_pdb_line(structure, parts[1], chain, int(num[: len(num) - len(icode)]), icode)
            if line is not None:
                raise InputError(exc.reason, file=exc.file, record=f"line {line}, {exc.record}") from None
        raise


def _contacts(
    beads: BeadModel, params: EncomParams, name: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from components.encom.contacts import ContactAreaError, contact_areas, vcontacts_radii

    radii = vcontacts_radii(beads.atom_name, beads.atom_element, beads.atom_res_name)
    try:
        return contact_areas(beads.atom_coords, radii, water_radius=params.water_radius_angstrom)
    except ContactAreaError as exc:
        k = exc.atom
        bead = beads.labels[beads.atom_bead[k]]
        raise ContactAreaError(
            k, beads.atom_coords[k], file=name, record=f"atom {beads.atom_name[k]} of bead {bead}"
        ) from None


def hessian_of(
    beads: BeadModel, params: EncomParams, timings: dict[str, float] | None = None, name: str | None = None
) -> tuple[np.ndarray, Topology]:
    """Topology and Hessian of prepared beads (``name`` labels errors: a file or a variant)."""
    t0 = time.perf_counter()
    topo = build_topology(beads, cutoff=params.bond_cutoff_angstrom, interact_level=params.interact_level)
    t1 = time.perf_counter()
    ci, cj, area = _contacts(beads, params, name)
    t2 = time.perf_counter()
    bij = surface_complementarity(beads, ci, cj, area, params)
    hess = build_hessian(beads, topo, bij, params)
    t3 = time.perf_counter()
    if timings is not None:
        timings.update(topology=t1 - t0, contacts=t2 - t1, hessian=t3 - t2)
    return hess, topo


def compute_signatures(
    structure: str | Path | AtomArray,
    betas: Sequence[float] | np.ndarray = DEFAULT_BETAS,
    *,
    msf: bool = False,
    params: str | EncomParams = DEFAULT_PARAMS,
    skip_unknown: bool = False,
    blas_threads: int | None = 1,
    name: str | None = None,
) -> SignatureResult:
    """ENCoM dynamical signatures of one structure, equal to NRGTEN 1.2.9's.

    ENCoM: Frappier & Najmanovich 2014 (PLoS Comput Biol 10:e1003569); signatures as used by DynaSig-ML
    (Mailhot & Najmanovich 2023).

    Parameters
    ----------
    structure
        A PDB/mmCIF path or a biotite ``AtomArray`` (heavy atoms; coordinates taken to 3 decimals).
    betas
        Inverse-temperature factors of the entropic signature (default: DynaSig-ML's 13 values).
    msf
        Also compute the classic MSF b-factors.
    params
        Name of a parameter set (:data:`PARAMETER_SETS`) or an :class:`EncomParams`.
    skip_unknown
        Drop residues with unknown names (with a warning) instead of raising :class:`InputError`.
    blas_threads
        BLAS threads for the eigendecomposition (default 1; None leaves the process setting alone).
    name
        What errors call the structure (e.g. the variant it was built for); default: its path.

    Returns
    -------
    SignatureResult
    """
    p = resolve_params(params)
    beta_arr = check_betas(betas)
    label = name or _name(structure)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    beads = prepare_beads(structure, p, skip_unknown=skip_unknown, name=label)
    if beads.n_beads < 3:
        raise InputError(f"only {beads.n_beads} bead(s): ENCoM needs at least 3", file=label)
    t1 = time.perf_counter()
    hess, topo = hessian_of(beads, p, timings, label)
    t2 = time.perf_counter()
    with limit_blas(blas_threads):
        vals, weights = normal_modes(hess)
        t3 = time.perf_counter()
        if vals[6] <= 0:
            raise DynamotifError(
                f"{label or 'structure'}: the Hessian has {int(np.sum(vals[6:] <= 0))} non-positive "
                "eigenvalue(s) beyond the 6 trivial modes; signatures would be NaN",
            )
        ent = mode_entropy(vals, beta_arr)
        entropic = entropic_signature(weights, ent)
        vib = ent.sum(axis=1)
        bfac = msf_bfactors(vals, weights) if msf else None
    t4 = time.perf_counter()
    timings.update(beads=t1 - t0, eigh=t3 - t2, signature=t4 - t3)
    return SignatureResult(
        labels=[short_label(lab) for lab in beads.labels],
        betas=beta_arr,
        entropic=entropic,
        msf=bfac,
        eigenvalues=vals,
        params=p.name,
        vib_entropy=vib,
        nrgten_labels=list(beads.labels),
        n_bonds=len(topo.bonds),
        n_angles=len(topo.angles),
        n_dihedrals=len(topo.dihedrals),
        timings=timings,
    )


def _name(structure: str | Path | AtomArray) -> str | None:
    return str(structure) if isinstance(structure, (str, Path)) else None
