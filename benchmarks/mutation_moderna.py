"""Quality of ``components.mutation`` against ModeRNA (RNA) and on protein point mutants.

RNA: the 300 ModeRNA miR-125a variants in ``../shared/data/mir125a/variants_sample`` (made from
``mir125a_WT.pdb``; names encode the mutations). For each variant we build ours from the WT and
report the heavy-atom RMSD of every mutated nucleotide to ModeRNA's (atoms matched by name) and the
Pearson r between our and ModeRNA's ENCoM entropic signatures at beta = 1 (engine:
``components.encom.compute_signatures``; ``--engine nrgten`` uses the NRGTEN 1.2.9 oracle from a
separate virtual environment, ``--oracle-python``).

Proteins: 50 random point mutants (seeded) of each structure in
``../shared/data/nrgten_test_structures``: worst bond-length deviation from the CCD ideal over the
rebuilt atoms and closest heavy-atom approach to the rest (pairs > 2 bonds apart).

Prints one JSON line. Usage::

    python benchmarks/mutation_moderna.py [--limit N] [--engine encom|nrgten|none] [--signature-every K]
        [--no-protein | --no-rna]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"

from components.mutation import Mutator, parse_variant  # noqa: E402
from components.mutation.checks import check_moved_atoms, check_side_chain  # noqa: E402
from components.mutation.io import load_structure, write_pdb  # noqa: E402
from components.mutation.variants import AMINO_ACIDS_1TO3, residue_kind  # noqa: E402

NRGTEN_SCRIPT = r"""
import json, sys
import numpy as np
from nrgten.encom import ENCoM
out = {}
for path in sys.argv[1:]:
    m = ENCoM(path)
    sig = m.compute_bfactors_boltzmann(beta=1.0)
    labels = [lab.split(".")[-1] for lab in m.get_mass_labels()]
    out[path] = [labels, [float(x) for x in sig]]
print(json.dumps(out))
"""


def nucleotide_rmsd(ours, theirs, chain: str, res_id: int) -> tuple[float, int]:
    """Heavy-atom RMSD of one residue, atoms matched by name; also the number of unmatched atoms."""
    a = ours[(ours.chain_id == chain) & (ours.res_id == res_id)]
    b = theirs[(theirs.chain_id == chain) & (theirs.res_id == res_id)]
    bi = {str(n): i for i, n in enumerate(b.atom_name)}
    pairs = [(i, bi[str(n)]) for i, n in enumerate(a.atom_name) if str(n) in bi]
    d2 = [np.sum((a.coord[i] - b.coord[j]) ** 2) for i, j in pairs]
    return float(np.sqrt(np.mean(d2))), a.array_length() + b.array_length() - 2 * len(pairs)


def signatures_encom(items):
    import importlib

    try:
        compute = importlib.import_module("components.encom").compute_signatures
    except (ImportError, AttributeError):
        compute = importlib.import_module("components.encom.engine").compute_signatures
    out = {}
    for key, s in items:
        r = compute(s, [1.0])
        out[key] = (list(r.labels), np.asarray(r.entropic[0], dtype=np.float64))
    return out


def signatures_nrgten(items, oracle_python: str):
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for key, s in items:
            if isinstance(s, str | Path):
                paths[str(s)] = key
            else:
                p = Path(tmp) / f"{key}.pdb"
                write_pdb(s, p)
                paths[str(p)] = key
        res = subprocess.run(
            [oracle_python, "-c", NRGTEN_SCRIPT, *paths], capture_output=True, text=True, check=True
        )
        for path, (labels, sig) in json.loads(res.stdout.strip().splitlines()[-1]).items():
            out[paths[path]] = (labels, np.asarray(sig, dtype=np.float64))
    return out


def rna(limit: int | None, engine: str, oracle_python: str, every: int = 1) -> dict:
    wt_path = SHARED / "mir125a" / "mir125a_WT.pdb"
    files = sorted((SHARED / "mir125a" / "variants_sample").glob("mir125a_*.pdb"))[:limit]
    mutator = Mutator(load_structure(wt_path))
    rmsds, unmatched, pearsons, items = [], 0, [], []
    t0 = time.perf_counter()
    built = {}
    for f in files:
        text = f.stem.removeprefix("mir125a_")
        good, bad = mutator.validate([text])
        if bad:
            raise SystemExit(f"{f.name}: {bad[0].reason}")
        ours = mutator.build(good[0].mutations)
        built[f.stem] = ours
        theirs = load_structure(f)
        for m in parse_variant(text):
            r, u = nucleotide_rmsd(ours, theirs, "A", m.position)
            rmsds.append(r)
            unmatched += u
    build_s = time.perf_counter() - t0
    result = {
        "rna_variants": len(files),
        "rna_mutated_nucleotides": len(rmsds),
        "rna_rmsd_median_A": round(float(np.median(rmsds)), 4),
        "rna_rmsd_p95_A": round(float(np.percentile(rmsds, 95)), 4),
        "rna_rmsd_max_A": round(float(np.max(rmsds)), 4),
        "rna_unmatched_atoms": unmatched,
        "rna_build_seconds": round(build_s, 2),
    }
    if engine != "none":
        t1 = time.perf_counter()
        sig_files = files[::every]
        items.append(("wt", str(wt_path)))
        for f in sig_files:
            items.append((f"ours:{f.stem}", built[f.stem]))
            items.append((f"moderna:{f.stem}", str(f)))
        sigs = signatures_encom(items) if engine == "encom" else signatures_nrgten(items, oracle_python)
        baseline = []
        for f in sig_files:
            la, a = sigs[f"ours:{f.stem}"]
            lb, b = sigs[f"moderna:{f.stem}"]
            if la != lb:
                raise SystemExit(f"{f.name}: bead labels differ between our variant and ModeRNA's")
            pearsons.append(float(np.corrcoef(a, b)[0, 1]))
            baseline.append(float(np.corrcoef(sigs["wt"][1], b)[0, 1]))
        worst = int(np.argmin(pearsons))
        result |= {
            "signature_engine": engine,
            "signature_variants": len(sig_files),
            "pearson_min": round(min(pearsons), 6),
            "pearson_median": round(float(np.median(pearsons)), 6),
            "pearson_below_0.99": int(np.sum(np.array(pearsons) < 0.99)),
            "pearson_worst_variant": sig_files[worst].stem,
            # context: how far ModeRNA's variants are from the unmutated WT on the same measure
            "pearson_wt_vs_moderna_min": round(min(baseline), 6),
            "pearson_wt_vs_moderna_median": round(float(np.median(baseline)), 6),
            "signature_seconds": round(time.perf_counter() - t1, 1),
        }
    return result


def proteins(n_per_structure: int = 50, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    worst_bond, worst_dist, n, n_clash, n_bond, t = 0.0, np.inf, 0, 0, 0, 0.0
    failures = []
    moved_models, moved_bb, worst_bb, moved_min, worst_change = [], 0, 0.0, np.inf, 0.0
    for f in sorted((SHARED / "nrgten_test_structures").glob("*.pdb")):
        mutator = Mutator(load_structure(f))
        residues = []
        for s in np.unique(mutator.wt.res_id, return_index=True)[1]:
            kind = residue_kind(str(mutator.wt.res_name[s]))
            if kind and kind[0] == "protein":
                residues.append((int(mutator.wt.res_id[s]), kind[1]))
        for _ in range(n_per_structure):
            pos, wt = residues[rng.integers(len(residues))]
            target = str(rng.choice([a for a in AMINO_ACIDS_1TO3 if a != wt]))
            (v,), _ = mutator.validate([f"{wt}{pos}{target}"])
            t0 = time.perf_counter()
            arr = mutator.build(v.mutations)
            t += time.perf_counter() - t0
            mu = v.mutations[0]
            had_cb = "CB" in mutator.residue((mu.chain, mu.position, mu.ins_code)).atom_name
            c = check_side_chain(arr, mu, wt_had_cb=had_cb)
            moved = check_moved_atoms(mutator.wt, arr, mu)
            if moved.n_moved:  # neighbours repacked or relaxed: check them too
                moved_models.append(f"{f.stem}:{v.name}")
                moved_bb += moved.backbone_rmsd > 0
                worst_bb = max(worst_bb, moved.backbone_rmsd)
                moved_min = min(moved_min, moved.min_distance)
                worst_change = max(worst_change, moved.max_bond_change)
            n += 1
            worst_bond = max(worst_bond, c.max_bond_deviation)
            worst_dist = min(worst_dist, c.min_distance)
            n_bond += c.max_bond_deviation > 0.05
            if c.min_distance < 2.2:
                n_clash += 1
                failures.append(f"{f.stem}:{v.name}:{c.min_distance:.2f}")
    return {
        "protein_mutants": n,
        "protein_max_bond_deviation_A": round(worst_bond, 4),
        "protein_bond_over_0.05": int(n_bond),
        "protein_min_distance_A": round(float(worst_dist), 3),
        "protein_clashes_below_2.2": int(n_clash),
        "protein_clash_variants": failures,
        "protein_ms_per_mutant": round(1000 * t / max(n, 1), 1),
        # models where WT atoms moved too (neighbour repack or local relaxation)
        "protein_models_with_moved_neighbours": moved_models,
        "protein_models_with_moved_backbone": int(moved_bb),
        "protein_moved_backbone_rmsd_max_A": round(worst_bb, 3),
        "protein_moved_atoms_min_distance_A": round(float(moved_min), 3),
        # against the WT bond; repacked side chains are rebuilt on CCD ideal bonds, so this can exceed 0.05
        "protein_moved_max_bond_change_vs_wt_A": round(worst_change, 4),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=None, help="first N ModeRNA variants only")
    p.add_argument("--engine", choices=("encom", "nrgten", "none"), default="encom")
    p.add_argument("--oracle-python", default=str(REPO.parent / "oracle-venv" / "bin" / "python"))
    p.add_argument("--signature-every", type=int, default=1, help="signatures for every k-th variant only")
    p.add_argument("--no-protein", action="store_true")
    p.add_argument("--no-rna", action="store_true", help="protein section only")
    args = p.parse_args()
    out = {} if args.no_rna else rna(args.limit, args.engine, args.oracle_python, args.signature_every)
    if not args.no_protein:
        out |= proteins()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
