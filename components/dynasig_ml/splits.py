"""Train/test splits and validation folds inside the training set.

Split specifications (strings, as on the command line):

* ``random:0.2``: a seeded random 20 % test set;
* ``n_mut:3``: train on variants with ≤ 3 mutations, test on those with more (DynaSig-ML's "inverted" idea);
* ``column:NAME``: a table column holding ``train``/``test`` (or booleans / 0-1 where true means test);
  other values leave the row out;
* ``ids:FILE.json``: a JSON list of test ids (train = every other variant) or an object
  ``{"train": [...], "test": [...]}``; ids in any spelling (``mir125a_A12C.pdb`` = ``A12C``).

Validation only ever partitions the training indices: selection of α, β or the model never sees the
test set. What each validation option guarantees:

* ``split:0.2``: a seeded random 20 % of the training rows validates, the rest fits. Validation rows are
  drawn like the fitting rows: the right check for a random test split, no more.
* ``cv:5``: seeded 5-fold CV over rows; the folds are disjoint (each row validates once). Same
  guarantee as ``split``.
* ``cv-positions:5``: the mutated POSITIONS of the training variants are dealt (seeded) into K groups;
  fold k validates on every variant that mutates ANY position of group k and fits on the variants that
  mutate none of them. Each validation variant has at least one position unseen in its fit, but its
  other positions may be seen, and a variant mutating positions of several groups validates in several
  folds (the folds overlap). A weak stand-in for "unseen positions".
* ``cv-strict:5``: strict position holdout. Every mutated position of every validation variant is unseen
  in its fit (as in a test set at unseen positions), and the folds are disjoint. Positions are grouped
  into units first: the connected groups of positions that variants mutate together (the co-mutation
  graph's components), or single positions when there are fewer such groups than K. Units are dealt
  (seeded shuffle, then each to the fold with the fewest variants so far) into K groups; fold k
  validates on the variants whose positions all lie in group k and fits on those that mutate none of
  them. A variant that mutates positions of several groups is in no validation fold (and fits only in
  the folds that hold none of its positions); WT only ever fits. For single mutants this is CV grouped
  by residue. :func:`strict_position_folds` is the same on plain position sets.

A position mutated in every training mutant (a shared background mutation) is never held out by the
two position schemes.

Outer cross-validation (:func:`outer_folds`): ``cv:5`` is seeded random 5-fold CV and ``cv-grouped:5``
5-fold CV grouped by mutated position, built with the rule of ``cv-strict``
(:func:`strict_position_folds`): no tested variant has a mutated position seen in its fold's training
set, and the test folds are disjoint. For single mutants these are folds by residue (the GB1 protocol
of Nisthal et al. 2019) and every variant is tested exactly once, as under ``cv:K``, so out-of-fold
predictions cover the whole dataset; a multi-mutant whose positions fall into several groups is tested
nowhere (and the WT never). Each fold is a :class:`Split` whose training side is again partitioned for
selection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from components.common.errors import InputError
from components.dynasig_ml.data import Dataset
from components.mutation.variants import canonical_variant, mutation_positions, n_mutations

__all__ = [
    "SPLITS",
    "Split",
    "check_split_spec",
    "is_outer_cv",
    "make_split",
    "outer_folds",
    "parse_validation",
    "strict_position_folds",
    "validation_folds",
]

_P = TypeVar("_P", bound=Hashable)
_TRUE = {"test", "true", "1", "yes", "t", "y"}
_FALSE = {"train", "false", "0", "no", "f", "n"}


@dataclass(frozen=True)
class Split:
    """Row indices into a :class:`Dataset`; ``spec`` is how it was made."""

    train: np.ndarray
    test: np.ndarray
    spec: str

    def describe(self) -> dict[str, object]:
        return {"split": self.spec, "n_train": int(self.train.size), "n_test": int(self.test.size)}


def _load_ids(path: Path) -> tuple[list[str] | None, list[str]]:
    if not path.exists():
        raise InputError("split id file does not exist", file=path)
    try:
        obj = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (line {exc.lineno})", file=path) from exc
    if isinstance(obj, list):
        train, test = None, obj
    elif isinstance(obj, dict) and "test" in obj:
        train, test = obj.get("train"), obj["test"]
    else:
        raise InputError('expected a JSON list of test ids or {"train": [...], "test": [...]}', file=path)
    for name, lst in (("test", test), ("train", train)):
        if lst is not None and not (isinstance(lst, list) and all(isinstance(x, str) for x in lst)):
            raise InputError(f"{name} ids must be a list of strings", file=path)
    canon = [canonical_variant(x, record=f"id {x!r}") for x in test]
    return (None if train is None else [canonical_variant(x, record=f"id {x!r}") for x in train]), canon


def _fraction(spec: str, arg: str) -> float:
    try:
        frac = float(arg or 0.2)
    except ValueError:
        raise InputError(f"bad split {spec!r}: expected random:FRACTION, e.g. random:0.2") from None
    if not 0 < frac < 1:
        raise InputError(f"bad split {spec!r}: the test fraction must be in (0, 1)")
    return frac


def _max_mutations(spec: str, arg: str) -> int:
    try:
        return int(arg)
    except ValueError:
        raise InputError(f"bad split {spec!r}: expected n_mut:MAX_TRAIN_MUTATIONS, e.g. n_mut:3") from None


def _nonempty(spec: str, arg: str) -> str:
    if not arg:
        raise InputError(f"bad split {spec!r}: expected {spec.partition(':')[0]}:VALUE")
    return arg


def _random_split(spec: str, arg: str, data: Dataset, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(data)
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(_fraction(spec, arg) * n))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def _n_mut_split(spec: str, arg: str, data: Dataset, seed: int) -> tuple[np.ndarray, np.ndarray]:
    cut = _max_mutations(spec, arg)
    counts = np.array([n_mutations(k) for k in data.ids])
    all_idx = np.arange(len(data))
    return all_idx[counts <= cut], all_idx[counts > cut]


def _column_split(spec: str, arg: str, data: Dataset, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if arg not in data.table.columns:
        raise InputError(
            f"split column {arg!r} does not exist; columns are {', '.join(map(str, data.table.columns))}"
        )
    vals = data.table[arg].astype(str).str.strip().str.lower().to_numpy()
    all_idx = np.arange(len(data))
    return all_idx[np.isin(vals, list(_FALSE))], all_idx[np.isin(vals, list(_TRUE))]


def _ids_split(spec: str, arg: str, data: Dataset, seed: int) -> tuple[np.ndarray, np.ndarray]:
    train_ids, test_ids = _load_ids(Path(arg))
    test_set = set(test_ids)
    all_idx = np.arange(len(data))
    is_test = np.array([k in test_set for k in data.ids])
    if train_ids is None:
        return all_idx[~is_test], all_idx[is_test]
    train_set = set(train_ids)
    if train_set & test_set:
        raise InputError(f"{len(train_set & test_set)} id(s) are in both train and test", file=arg)
    return all_idx[np.array([k in train_set for k in data.ids])], all_idx[is_test]


SplitFunction = Callable[[str, str, Dataset, int], tuple[np.ndarray, np.ndarray]]

#: split kind -> (argument check, split function ``(spec, arg, data, seed) -> (train, test)``)
SPLITS: dict[str, tuple[Callable[[str, str], object], SplitFunction]] = {
    "random": (_fraction, _random_split),
    "n_mut": (_max_mutations, _n_mut_split),
    "column": (_nonempty, _column_split),
    "ids": (_nonempty, _ids_split),
}


def check_split_spec(spec: str) -> None:
    """Check the syntax of a split spec without data (e.g. when a configuration is built).

    Raises
    ------
    InputError
        Unknown kind or malformed argument.
    """
    kind, _, arg = spec.partition(":")
    if kind in ("cv", "cv-grouped"):
        _fold_count(spec, arg)
        return
    if kind not in SPLITS:
        raise InputError(
            f"unknown split {spec!r}: use random:0.2, n_mut:3, column:NAME, ids:FILE.json, cv:K or cv-grouped:K"
        )
    SPLITS[kind][0](spec, arg)


def make_split(spec: str, data: Dataset, *, seed: int = 0) -> Split:
    """Split ``data`` according to ``spec`` (see module doc; the kinds are those of :data:`SPLITS`).

    Raises
    ------
    InputError
        Malformed spec, unknown column, or a split that leaves the training or the test set empty.
    """
    check_split_spec(spec)
    if is_outer_cv(spec):
        raise InputError(
            f"split {spec!r} is an outer cross-validation (out-of-fold predictions over every variant, "
            "components.dynasig_ml.crossval); a DynaSig run takes one train/test split: random:0.2, "
            "n_mut:3, column:NAME or ids:FILE.json"
        )
    kind, _, arg = spec.partition(":")
    train, test = SPLITS[kind][1](spec, arg, data, seed)
    if train.size == 0 or test.size == 0:
        empty = "training" if train.size == 0 else "test"
        raise InputError(
            f"split {spec!r} leaves the {empty} set empty ({train.size} train, {test.size} test)"
        )
    return Split(train=train, test=test, spec=spec)


def _fold_count(spec: str, arg: str) -> int:
    try:
        k = int(arg)
    except ValueError:
        k = 0
    if k < 2:
        raise InputError(f"bad split {spec!r}: expected cv:K or cv-grouped:K with K >= 2")
    return k


def is_outer_cv(spec: str) -> bool:
    """Whether a split spec is an outer cross-validation (``cv:K`` or ``cv-grouped:K``)."""
    return spec.partition(":")[0] in ("cv", "cv-grouped")


def outer_folds(spec: str, data: Dataset, *, seed: int = 0) -> list[Split]:
    """The K train/test splits of ``cv:K`` or ``cv-grouped:K`` (see module doc).

    Raises
    ------
    InputError
        Malformed spec, K < 2, or more folds than rows / mutated positions.
    """
    kind, _, arg = spec.partition(":")
    if kind not in ("cv", "cv-grouped"):
        raise InputError(f"bad split {spec!r}: expected cv:K or cv-grouped:K with K >= 2")
    k = _fold_count(spec, arg)
    n = len(data)
    if kind == "cv":
        if k > n:
            raise InputError(f"split {spec!r} needs at least {k} variants, have {n}")
        perm = np.random.default_rng(seed).permutation(n)
        chunks = np.array_split(perm, k)
        pairs = [
            (np.sort(np.concatenate(chunks[:i] + chunks[i + 1 :])), np.sort(chunks[i])) for i in range(k)
        ]
    else:
        positions = [mutation_positions(key) for key in data.ids]
        pairs = strict_position_folds(positions, k, seed=seed, spec=spec)
    return [Split(train=tr, test=te, spec=f"{spec} fold {i + 1}") for i, (tr, te) in enumerate(pairs)]


_VALIDATION_HELP = "use split:FRACTION (0-1), cv:K, cv-positions:K or cv-strict:K (K >= 2)"
_POSITION_SCHEMES = ("cv-positions", "cv-strict")


def parse_validation(spec: str) -> tuple[str, float]:
    """``"split:0.2"`` -> ("split", 0.2); ``"cv:5"`` -> ("cv", 5); ``"cv-strict:5"`` -> ("cv-strict", 5)."""
    kind, _, arg = spec.partition(":")
    try:
        value = float(arg)
    except ValueError:
        raise InputError(f"bad validation {spec!r}: {_VALIDATION_HELP}") from None
    if kind == "split" and 0 < value < 1:
        return kind, value
    if kind in ("cv", *_POSITION_SCHEMES) and value >= 2 and value == int(value):
        return kind, int(value)
    raise InputError(f"bad validation {spec!r}: {_VALIDATION_HELP}")


def validation_folds(
    train: np.ndarray,
    spec: str = "split:0.2",
    *,
    seed: int = 0,
    ids: Sequence[str] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit, validation) index pairs that partition ``train`` only.

    ``train`` holds indices into the dataset; the returned arrays are subsets of it. ``ids`` (the
    dataset's variant keys, indexed like the dataset) is needed by the position schemes only.
    """
    kind, value = parse_validation(spec)
    train = np.asarray(train)
    if train.size < 4:
        raise InputError(f"training set too small for validation ({train.size} rows)")
    if kind in _POSITION_SCHEMES:
        if ids is None:
            raise InputError(f"validation {spec!r} needs the variant ids")
        keys = [ids[i] for i in train]
        if kind == "cv-strict":
            local = strict_position_folds([mutation_positions(key) for key in keys], int(value), seed=seed)
            return [(train[fit], train[val]) for fit, val in local]
        return _position_folds(train, int(value), keys, seed, spec)
    perm = np.random.default_rng(seed + 7919).permutation(train)
    if kind == "split":
        n_val = max(1, int(round(value * train.size)))
        return [(np.sort(perm[n_val:]), np.sort(perm[:n_val]))]
    k = int(value)
    if k > train.size:
        raise InputError(f"cv:{k} needs at least {k} training rows, have {train.size}")
    chunks = np.array_split(perm, k)
    return [(np.sort(np.concatenate(chunks[:i] + chunks[i + 1 :])), np.sort(chunks[i])) for i in range(k)]


def _position_folds(
    train: np.ndarray, k: int, keys: list[str], seed: int, spec: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds that hold out groups of mutated positions (see module doc)."""
    # a position mutated in every mutant is background: holding it out would leave nothing to fit
    positions = _without_background([mutation_positions(key) for key in keys])
    distinct = np.array(sorted(set().union(*positions)), dtype=np.int64)
    if distinct.size < k:
        raise InputError(
            f"validation {spec!r}: the training variants mutate only {distinct.size} position(s) "
            f"(not counting background mutations shared by all), need >= {k}"
        )
    shuffled = np.random.default_rng(seed + 7919).permutation(distinct)
    folds = []
    for i in range(k):
        held = {int(p) for p in shuffled[i::k]}
        hit = np.fromiter((bool(ps & held) for ps in positions), dtype=bool, count=len(positions))
        fit, val = train[~hit], train[hit]
        if fit.size < 2 or val.size == 0:
            raise InputError(
                f"validation {spec!r}: fold {i + 1} leaves {fit.size} fitting and {val.size} validation "
                "rows; use fewer folds"
            )
        folds.append((np.sort(fit), np.sort(val)))
    return folds


def _without_background(positions: Sequence[Sequence[_P]]) -> list[set[_P]]:
    """Position sets less the positions mutated in every mutant (shared background mutations)."""
    sets = [set(ps) for ps in positions]
    mutated = [ps for ps in sets if ps]
    common = set.intersection(*mutated) if mutated else set()
    return [ps - common for ps in sets]


def _position_units(sets: list[set[Hashable]], k: int) -> list[list[Hashable]]:
    """Connected groups of co-mutated positions, or single positions when there are fewer than ``k``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pool: set[Hashable] = set().union(*sets)
    distinct = sorted(pool, key=repr)
    index = {p: i for i, p in enumerate(distinct)}
    rows, cols = [], []
    for ps in sets:  # a star over each variant's positions links them all
        idx = [index[p] for p in ps]
        rows += idx[:1] * len(idx)
        cols += idx
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(distinct), len(distinct)))
    n_comp, label = connected_components(graph, directed=False)
    if n_comp < k:
        return [[p] for p in distinct]
    units: list[list[Hashable]] = [[] for _ in range(n_comp)]
    for p, c in zip(distinct, label, strict=True):
        units[c].append(p)
    return units


def _role(spec: str) -> str:
    return "split" if is_outer_cv(spec) else "validation"


def strict_position_folds(
    positions: Sequence[Sequence[Hashable]], k: int, *, seed: int = 0, spec: str | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K disjoint folds where no validation variant has a mutated position seen in its fit.

    Parameters
    ----------
    positions
        The mutated positions of each variant (any hashable: ``12``, ``("A", 45)``); empty for WT.
    k
        Number of folds (>= 2).
    seed
        Seeds the dealing of position units into folds.
    spec
        What errors call the scheme (default ``cv-strict:K``).

    Returns
    -------
    list of (fit, validation)
        Index arrays into ``positions`` (sorted). The validation arrays are disjoint; every position
        of a validation variant is mutated by no variant of its fitting array (see the module doc for
        how positions are grouped, and which variants validate nowhere).

    Raises
    ------
    InputError
        Fewer mutated positions than ``k``, or a fold left without validation variants or with fewer
        than two fitting variants.
    """
    spec = spec or f"cv-strict:{k}"
    sets = _without_background(positions)
    distinct = set().union(*sets)
    if len(distinct) < k:
        raise InputError(
            f"{_role(spec)} {spec!r}: the training variants mutate only {len(distinct)} position(s) "
            f"(not counting background mutations shared by all), need >= {k}"
        )
    units = _position_units(sets, k)
    unit_of = {p: u for u, ps in enumerate(units) for p in ps}
    weight = np.zeros(len(units))
    for ps in sets:
        for u in {unit_of[p] for p in ps}:
            weight[u] += 1
    group_of_unit = np.empty(len(units), dtype=np.int64)
    load = np.zeros(k)
    for u in np.random.default_rng(seed + 7919).permutation(len(units)):
        g = int(np.argmin(load))
        group_of_unit[u] = g
        load[g] += weight[u]
    groups = [{int(group_of_unit[unit_of[p]]) for p in ps} for ps in sets]
    folds = []
    for i in range(k):
        val = np.array([j for j, gs in enumerate(groups) if gs == {i}], dtype=np.int64)
        fit = np.array([j for j, gs in enumerate(groups) if i not in gs], dtype=np.int64)
        if fit.size < 2 or val.size == 0:
            raise InputError(
                f"{_role(spec)} {spec!r}: fold {i + 1} leaves {fit.size} fitting and {val.size} held-out "
                "rows (variants whose positions all lie in its held-out group); use fewer folds"
            )
        folds.append((fit, val))
    return folds
