"""Side-chain rebuilding accuracy: strip each residue's side chain, rebuild it on its own backbone, compare.

The field's standard self-consistency test (as SCWRL4 is scored, Krivov et al., Proteins 2009): for every
residue with a χ1 of a crystal structure, the atoms after CB are removed and rebuilt by
:func:`components.mutation.protein.place_side_chain` with every other atom of the crystal in place (the
residue's own N, CA, C, O and CB kept). Scores: χ1 and χ1+2 within 40° of the crystal (χ2 of Phe/Tyr/Asp
and χ3 of Glu modulo 180°, their symmetric end groups), side-chain RMSD over the rebuilt atoms (with the
same symmetric swaps), and the CPU time per residue (process time, one thread: robust to other work on
the machine). Prints ONE JSON line. Usage::

    python benchmarks/sidechains.py            # closed_clean, open_clean (citrate synthase), gb1_1pga
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("DYNAMOTIF_SHARED_DATA", REPO.parent / "shared" / "data"))
STRUCTURES = {
    "closed_clean": SHARED / "nrgten_test_structures" / "closed_clean.pdb",
    "open_clean": SHARED / "nrgten_test_structures" / "open_clean.pdb",
    "gb1_1pga": SHARED / "gb1_stability_nisthal2019" / "gb1_1pga.pdb",
}
#: (residue, χ index) whose end group is symmetric under a 180° flip
SYMMETRIC_CHI = {("PHE", 1), ("TYR", 1), ("ASP", 1), ("GLU", 2)}
#: a residue is buried ("core") with at least this many other Cβ atoms within 10 Å of its Cβ
BURIED_NEIGHBOURS = 20
SWAPS = {
    "PHE": [("CD1", "CD2"), ("CE1", "CE2")],
    "TYR": [("CD1", "CD2"), ("CE1", "CE2")],
    "ASP": [("OD1", "OD2")],
    "GLU": [("OE1", "OE2")],
}


def _chi_diff(a: float, b: float, symmetric: bool) -> float:
    d = abs((a - b + 180.0) % 360.0 - 180.0)
    return min(d, 180.0 - d) if symmetric else d


def score_structure(path: Path) -> dict:
    """Rebuild every side chain of ``path`` in its crystal environment; per-residue records."""
    import biotite.structure as struc

    from components.mutation.core import strip_hydrogens
    from components.mutation.geometry import dihedral
    from components.mutation.io import load_structure
    from components.mutation.protein import _library, hbond_roles, place_side_chain

    atoms = strip_hydrogens(load_structure(path))
    atoms = atoms[struc.filter_amino_acids(atoms)]
    chi_atoms = _library()["chi_atoms"]
    starts = struc.get_residue_starts(atoms, add_exclusive_stop=True)
    coord = atoms.coord.astype(np.float64)
    polar = np.isin(np.char.upper(atoms.element.astype(str)), ["N", "O"])
    elements = np.char.upper(atoms.element.astype(str))
    roles = hbond_roles(atoms.res_name, atoms.atom_name)
    # burial: Cβ (Cα of Gly) atoms within 10 Å of the residue's Cβ; >= 20 is the usual "core" cut
    beta = np.flatnonzero((atoms.atom_name == "CB") | ((atoms.atom_name == "CA") & (atoms.res_name == "GLY")))
    rows = []
    for k in range(len(starts) - 1):
        s, e = int(starts[k]), int(starts[k + 1])
        name = str(atoms.res_name[s])
        chis = chi_atoms.get(name, [])
        names = atoms.atom_name[s:e].tolist()
        if not chis or any(a not in names for c in chis for a in c):
            continue  # GLY, ALA, or an incomplete side chain
        backbone = {a: coord[s + names.index(a)] for a in ("N", "CA", "C", "O", "OXT", "CB") if a in names}
        env_idx = np.r_[0:s, e : len(atoms)]
        prev_c = next_n = -1
        if k > 0 and "C" in atoms.atom_name[starts[k - 1] : s]:
            pc = int(starts[k - 1]) + atoms.atom_name[starts[k - 1] : s].tolist().index("C")
            if np.linalg.norm(coord[pc] - backbone["N"]) < 2.0:
                prev_c = int(np.searchsorted(env_idx, pc))
        if e < len(atoms) and "N" in atoms.atom_name[e : starts[k + 2]]:
            nn = e + atoms.atom_name[e : starts[k + 2]].tolist().index("N")
            if np.linalg.norm(coord[nn] - backbone["C"]) < 2.0:
                next_n = int(np.searchsorted(env_idx, nn))
        n_beta = int(np.sum(np.linalg.norm(coord[beta] - backbone["CB"], axis=1) < 10.0)) - 1
        t0 = time.process_time()
        out_names, _elem, out_xyz, info = place_side_chain(
            backbone,
            name,
            coord[env_idx],
            prev_c=prev_c,
            next_n=next_n,
            env_polar=polar[env_idx],
            env_elements=elements[env_idx],
            env_hbond=roles[env_idx],
        )
        seconds = time.process_time() - t0
        built = dict(zip(out_names, out_xyz, strict=True))
        crystal = {a: coord[s + i] for i, a in enumerate(names)}
        diffs = []
        for ci, c in enumerate(chis):
            ref = float(np.degrees(dihedral(*(crystal[a] for a in c))))
            new = float(np.degrees(dihedral(*(built.get(a, crystal[a]) for a in c))))
            diffs.append(_chi_diff(ref, new, (name, ci) in SYMMETRIC_CHI))
        side = [a for a in out_names if a != "CB" and a in crystal]
        ref_xyz = np.array([crystal[a] for a in side])
        best = np.inf
        swaps = SWAPS.get(name, [])
        for flip in (False, True) if swaps else (False,):
            mapping = {a: a for a in side}
            if flip:
                for a, b in swaps:
                    mapping[a], mapping[b] = b, a
            new_xyz = np.array([built[mapping[a]] for a in side])
            best = min(best, float(np.sqrt(np.mean(np.sum((new_xyz - ref_xyz) ** 2, axis=1)))))
        rows.append(
            {
                "res": name,
                "buried": n_beta >= BURIED_NEIGHBOURS,
                "chi1_ok": diffs[0] <= 40.0,
                "chi12_ok": diffs[0] <= 40.0 and (len(diffs) < 2 or diffs[1] <= 40.0),
                "has_chi2": len(diffs) >= 2,
                "rmsd": best,
                "seconds": seconds,
                "clashes": int(info["n_clashes"]),
            }
        )
    return {"rows": rows, "n_residues": len(starts) - 1}


def _chi1_pct(rows: list[dict]) -> float | None:
    return round(100.0 * float(np.mean([r["chi1_ok"] for r in rows])), 1) if rows else None


def summarise(rows: list[dict]) -> dict:
    chi2 = [r for r in rows if r["has_chi2"]]
    return {
        "n": len(rows),
        "chi1_40": round(100.0 * np.mean([r["chi1_ok"] for r in rows]), 1),
        "chi12_40": round(100.0 * np.mean([r["chi12_ok"] for r in chi2]), 1),
        "n_chi2": len(chi2),
        "rmsd_mean": round(float(np.mean([r["rmsd"] for r in rows])), 3),
        "ms_per_residue": round(1000.0 * float(np.mean([r["seconds"] for r in rows])), 2),
        "ms_p95": round(1000.0 * float(np.percentile([r["seconds"] for r in rows], 95)), 2),
        "with_clash": int(sum(r["clashes"] > 0 for r in rows)),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--structures", nargs="+", default=list(STRUCTURES), choices=list(STRUCTURES))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    per: dict = {}
    every: list[dict] = []
    by_res: dict[str, list[dict]] = {}
    for name in args.structures:
        res = score_structure(STRUCTURES[name])
        per[name] = summarise(res["rows"])
        every += res["rows"]
        for r in res["rows"]:
            by_res.setdefault(r["res"], []).append(r)
    out = {
        "benchmark": "sidechains",
        "all": summarise(every),
        "structures": per,
        "buried": summarise([r for r in every if r["buried"]]),
        "exposed": summarise([r for r in every if not r["buried"]]),
        "by_residue_chi1": {
            k: round(100.0 * np.mean([r["chi1_ok"] for r in v]), 1) for k, v in sorted(by_res.items())
        },
        "by_residue_chi1_buried_exposed": {
            k: [_chi1_pct([r for r in v if r["buried"] == b]) for b in (True, False)]
            for k, v in sorted(by_res.items())
        },
        "targets": {"chi1>=85": None, "chi12>=70": None},
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    out["targets"] = {
        "chi1>=85": bool(out["all"]["chi1_40"] >= 85.0),
        "chi12>=70": bool(out["all"]["chi12_40"] >= 70.0),
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
