"""Regenerate ``ideal_geometry.json``: CCD ideal heavy-atom geometry of the standard residues.

Source: the wwPDB Chemical Component Dictionary as shipped offline by biotite
(``biotite.structure.info.residue``, ideal coordinates ``pdbx_model_Cartn_*_ideal``). Loading the
CCD takes several seconds per process, so the few residues the mutation code needs are extracted
once into a small JSON file (run from the repository root)::

    python -m components.mutation.data.make_ideal_geometry
"""

from __future__ import annotations

import json
from pathlib import Path

import biotite
import biotite.structure.info as info

RESIDUES = (
    "ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE PRO SER THR TRP TYR VAL A C G U DA DC DG DT"
).split()
OUT = Path(__file__).with_name("ideal_geometry.json")


def extract(res_name: str) -> dict:
    comp = info.residue(res_name)
    heavy = comp.element != "H"
    index = {int(i): k for k, i in enumerate(heavy.nonzero()[0])}
    bonds = [
        [index[int(i)], index[int(j)]]
        for i, j, _ in comp.bonds.as_array()
        if int(i) in index and int(j) in index
    ]
    sub = comp[heavy]
    return {
        "atom_names": [str(a) for a in sub.atom_name],
        "elements": [str(e) for e in sub.element],
        "coords": [[round(float(x), 3) for x in xyz] for xyz in sub.coord],
        "bonds": bonds,
    }


def main() -> None:
    data = {
        "provenance": (
            "wwPDB Chemical Component Dictionary ideal coordinates (heavy atoms), extracted with "
            f"biotite {biotite.__version__} (biotite.structure.info.residue) by make_ideal_geometry.py"
        ),
        "residues": {r: extract(r) for r in RESIDUES},
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
