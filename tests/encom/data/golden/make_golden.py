"""Golden ENCoM outputs for the small test structures, computed with the reference implementation.

Run with the python of a separate environment holding ``nrgten==1.2.9`` and ``pyvcon==1.0.2`` (never the
project's venv), from this folder::

    OMP_NUM_THREADS=1 PYTHONHASHSEED=0 /path/to/oracle-venv/bin/python make_golden.py [CASE ...]

For each case it writes ``<case>.json``: full NRGTEN bead labels, the entropic signature for the 13
DynaSig-ML betas (``np.e ** (k / 2)``, k = -6..6), eigenvalues 7..26, MSF b-factors and the topology counts.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import nrgten
import numpy as np
from nrgten.encom import ENCoM

HERE = Path(__file__).resolve().parent
CASES = {
    "rna_fragment": ("rna_fragment.pdb", {}),
    "rna_two_chains": ("rna_two_chains.pdb", {}),
    "rna_fragment_dynasigml-2022": ("rna_fragment.pdb", {"interact_const": 10, "null_interact_const": 0.1}),
    "rna_fragment_nrgten-optimized": ("rna_fragment.pdb", {"new_optimized_params": True}),
    "dna_like_fragment": ("dna_like_fragment.pdb", {}),
    "rna_protein_mixed": ("rna_protein_mixed.pdb", {}),
}


def main() -> None:
    betas = [np.e ** (k / 2) for k in range(-6, 7)]
    only = set(sys.argv[1:])
    for case, (pdb, kwargs) in CASES.items():
        if only and case not in only:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            enc = ENCoM(str(HERE.parent / pdb), **kwargs)
            sig = [enc.compute_bfactors_boltzmann(beta=b).tolist() for b in betas]
        out = {
            "source": pdb,
            "kwargs": kwargs,
            "nrgten": getattr(nrgten, "__version__", "1.2.9"),
            "labels": enc.get_mass_labels(),
            "betas": betas,
            "entropic": sig,
            "eigenvalues_7_26": enc.eigvals[6:26].tolist(),
            "msf": enc.compute_bfactors().tolist(),
            "n_bonds": int(np.triu(enc.mol.connect).sum()),
            "n_angles": len(enc.mol.bends),
            "n_dihedrals": len(enc.mol.torsions),
        }
        (HERE / f"{case}.json").write_text(json.dumps(out, indent=1) + "\n")
        print(case, len(out["labels"]), out["n_bonds"], out["n_angles"], out["n_dihedrals"])


if __name__ == "__main__":
    main()
