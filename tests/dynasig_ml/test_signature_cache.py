"""The one signature cache: chunk files keyed by content and parameters, resumable."""

from __future__ import annotations

import time

import numpy as np

from components.dynasig_ml.data import SignatureSet, load_signatures
from components.dynasig_ml.signature_cache import compute_chunk, compute_signature_chunks, plan_chunks
from tests.conftest import EXAMPLES, shared

WT = EXAMPLES / "mir125a" / "mir125a_WT.pdb"
BETAS = [0.5, 1.0]


def test_keys_follow_content_and_parameters(tmp_path, monkeypatch) -> None:
    keys = ["A12C", "C74A", "WT"]
    base = [c.path.name for c in plan_chunks(WT, keys, BETAS, tmp_path, chunk_size=2)]
    assert base == [c.path.name for c in plan_chunks(WT, keys, BETAS, tmp_path, chunk_size=2)]
    assert len(set(base)) == 2
    changed = [
        plan_chunks(WT, keys, [0.5, 1.1], tmp_path, chunk_size=2),
        plan_chunks(WT, keys, BETAS, tmp_path, chunk_size=2, params="dynasigml-2022"),
        plan_chunks(WT, ["A12G", "C74A", "WT"], BETAS, tmp_path, chunk_size=2),
    ]
    moved = tmp_path / "wt_moved.pdb"
    text = WT.read_text().replace("  1.00  0.00 ", "  1.00  0.01 ", 1)  # one B-factor differs
    moved.write_text(text)
    changed.append(plan_chunks(moved, keys, BETAS, tmp_path, chunk_size=2))
    import components.mutation

    with monkeypatch.context() as m:  # a new nucleotide placement: the RNA mutants, hence the chunks, differ
        m.setattr(components.mutation, "MUTATION_MODEL", "protein:bbdep2010-lj-hbond-1;rna:2")
        changed.append(plan_chunks(WT, keys, BETAS, tmp_path, chunk_size=2))
    with monkeypatch.context() as m:  # a new side-chain model cannot move an atom of an RNA: same keys
        m.setattr(components.mutation, "MUTATION_MODEL", "protein:another;rna:1")
        assert [c.path.name for c in plan_chunks(WT, keys, BETAS, tmp_path, chunk_size=2)] == base
    for plan in changed:
        assert plan[0].path.name != base[0]
    copy = tmp_path / "same_bytes.pdb"
    copy.write_bytes(WT.read_bytes())  # another name, same bytes: same key
    assert [c.path.name for c in plan_chunks(copy, keys, BETAS, tmp_path, chunk_size=2)] == base


def test_mutation_model_parts_follow_the_residue_kinds() -> None:
    from components.mutation import mutation_model_for

    model = "protein:p7;rna:r3"
    assert mutation_model_for(["ALA", "GLY", "HOH"], model) == "protein:p7"
    assert mutation_model_for(["A", "U", "MG"], model) == "rna:r3"
    assert mutation_model_for(["DA", "DT"], model) == "rna:r3"  # DNA: the same nucleotide placement
    assert mutation_model_for(["LYS", "G"], model) == "protein:p7;rna:r3"  # a protein-RNA complex
    assert mutation_model_for(["HOH", "ZN"], model) == ""


def test_chunks_are_computed_once_and_resume(tmp_path) -> None:
    chunks = plan_chunks(WT, ["A12C", "WT"], BETAS, tmp_path / "cache", chunk_size=1)
    first = compute_chunk(chunks[0])
    assert not first.cached and first.signatures_s > 0 and chunks[0].path.exists()
    stamp = chunks[0].path.stat().st_mtime_ns
    sigs, stats = compute_signature_chunks(chunks, progress=False)  # resumes: only "WT" is computed
    assert stats["n_computed"] == 1 and stats["n_cached"] == 1
    assert chunks[0].path.stat().st_mtime_ns == stamp
    assert sigs.ids == ["A12C", "WT"] and sigs.values.shape[:2] == (2, 2)
    np.testing.assert_array_equal(load_signatures(chunks[0].path).values[:, 0], sigs.values[:, 0])


def test_process_pool_equals_in_process_on_a_protein(tmp_path) -> None:
    """The default runner's process pool gives the in-process signatures bit for bit, with its costs."""
    protein = shared("nrgten_test_structures", "test_medium.pdb")
    keys = ["S91A", "L92W", "N93D", "Q94K", "Y95F", "WT"]
    pooled = plan_chunks(protein, keys, BETAS, tmp_path / "pool", chunk_size=2)
    cpu0 = time.process_time()
    sigs, stats = compute_signature_chunks(pooled, jobs=2, progress=False)
    own_cpu = time.process_time() - cpu0
    assert stats["jobs"] == 2 and stats["n_computed"] == len(keys)
    assert 0 < stats["eigh_cpu_s"] < stats["signatures_cpu_s"] and stats["matrix_cpu_s"] > 0
    assert stats["cpu_s"] > own_cpu  # the workers' CPU time is counted too
    local = [compute_chunk(c) for c in plan_chunks(protein, keys, BETAS, tmp_path / "one", chunk_size=2)]
    alone = SignatureSet.concat([load_signatures(s.path) for s in local])
    assert sigs.ids == alone.ids == keys and sigs.labels == alone.labels
    np.testing.assert_array_equal(sigs.values, alone.values)
