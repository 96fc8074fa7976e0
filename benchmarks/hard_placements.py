"""Time of side-chain placements, this tree against a reference revision, on the same residues in one run.

For ``--positions`` buried residues of ``closed_clean.pdb`` (citrate synthase; at least 20 other Cβ
atoms within 10 Å of the residue's Cβ), the side chain after CB is removed and each of ``--targets``
(large residues, the placements most likely to clash with every library rotamer) is placed on its
backbone with the rest of the crystal in place, by :func:`components.mutation.protein.place_side_chain`
of this tree ("after") and of ``--reference`` ("before", loaded from git). "Hard" placements are
those where the reference found no clash-free library rotamer and ran its full χ grid. Prints ONE JSON
line: mean and p95 CPU milliseconds per placement (process time: robust to other work on the
machine; one thread), all and hard, clashes left, the speed-up. Usage::

    python benchmarks/hard_placements.py --reference main
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from sidechains import BURIED_NEIGHBOURS, STRUCTURES  # noqa: E402


def reference_module(rev: str):
    """``components/mutation/protein.py`` at git revision ``rev``, imported under another name."""
    text = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:components/mutation/protein.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "protein_reference.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("protein_reference", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    data = REPO / "components" / "mutation" / "data"
    for name, file in (("_DATA", "rotamers.json"), ("_BBDEP", "bbdep2010.npz")):
        if hasattr(mod, name):
            setattr(mod, name, data / file)
    return mod


def placements(n_positions: int, targets: list[str], seed: int) -> list[dict]:
    """The placement tasks: backbone, target, environment and its annotations."""
    import biotite.structure as struc

    from components.mutation.core import strip_hydrogens
    from components.mutation.io import load_structure
    from components.mutation.protein import hbond_roles

    atoms = strip_hydrogens(load_structure(STRUCTURES["closed_clean"]))
    atoms = atoms[struc.filter_amino_acids(atoms)]
    coord = atoms.coord.astype(np.float64)
    elements = np.char.upper(atoms.element.astype(str))
    polar = np.isin(elements, ["N", "O"])
    roles = hbond_roles(atoms.res_name, atoms.atom_name)
    starts = struc.get_residue_starts(atoms, add_exclusive_stop=True)
    cbs = np.flatnonzero(atoms.atom_name == "CB")
    buried = []
    for k in range(1, len(starts) - 2):
        s, e = int(starts[k]), int(starts[k + 1])
        names = atoms.atom_name[s:e].tolist()
        if "CB" not in names:
            continue
        cb = coord[s + names.index("CB")]
        if int(np.sum(np.linalg.norm(coord[cbs] - cb, axis=1) < 10.0)) - 1 >= BURIED_NEIGHBOURS:
            buried.append(k)
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(buried, size=min(n_positions, len(buried)), replace=False).tolist())
    tasks = []
    for k in chosen:
        s, e = int(starts[k]), int(starts[k + 1])
        names = atoms.atom_name[s:e].tolist()
        backbone = {a: coord[s + names.index(a)] for a in ("N", "CA", "C", "O", "CB") if a in names}
        env_idx = np.r_[0:s, e : len(atoms)]
        pc = int(starts[k - 1]) + atoms.atom_name[starts[k - 1] : s].tolist().index("C")
        nn = e + atoms.atom_name[e : starts[k + 2]].tolist().index("N")
        for target in targets:
            tasks.append(
                {
                    "res_id": int(atoms.res_id[s]),
                    "target": target,
                    "backbone": backbone,
                    "env": coord[env_idx],
                    "kw": {
                        "prev_c": int(np.searchsorted(env_idx, pc)),
                        "next_n": int(np.searchsorted(env_idx, nn)),
                        "env_polar": polar[env_idx],
                    },
                    "kw_new": {"env_elements": elements[env_idx], "env_hbond": roles[env_idx]},
                }
            )
    return tasks


def _stats(ms: list[float]) -> dict:
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "mean_ms": round(float(np.mean(ms)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reference", default="main", help="git revision of the 'before' implementation")
    ap.add_argument("--positions", type=int, default=10)
    ap.add_argument("--targets", nargs="+", default=["TRP", "ARG"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from components.mutation import protein as new

    old = reference_module(args.reference)
    tasks = placements(args.positions, args.targets, args.seed)
    rows = []
    for task in tasks:
        t0 = time.process_time()
        _n, _e, _x, info_old = old.place_side_chain(
            task["backbone"], task["target"], task["env"], **task["kw"]
        )
        t1 = time.process_time()
        _n, _e, _x, info_new = new.place_side_chain(
            task["backbone"], task["target"], task["env"], **task["kw"], **task["kw_new"]
        )
        t2 = time.process_time()
        rows.append(
            {
                "old_ms": 1000.0 * (t1 - t0),
                "new_ms": 1000.0 * (t2 - t1),
                "hard": info_old["n_candidates"] > 5000,  # the reference's full 5° grid ran
                "old_clashes": int(info_old["n_clashes"]),
                "new_clashes": int(info_new["n_clashes"]),
            }
        )
    hard = [r for r in rows if r["hard"]]
    out = {
        "benchmark": "hard_placements",
        "reference": args.reference,
        "placements": len(rows),
        "before_all": _stats([r["old_ms"] for r in rows]),
        "after_all": _stats([r["new_ms"] for r in rows]),
        "before_hard": _stats([r["old_ms"] for r in hard]),
        "after_hard": _stats([r["new_ms"] for r in hard]),
        "speedup_hard_mean": round(
            float(np.mean([r["old_ms"] for r in hard]) / np.mean([r["new_ms"] for r in hard])), 1
        )
        if hard
        else None,
        "with_clash_before": int(sum(r["old_clashes"] > 0 for r in rows)),
        "with_clash_after": int(sum(r["new_clashes"] > 0 for r in rows)),
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
