"""Atom-atom contact areas exactly as the Vcontacts program computes them.

ENCoM's long-range term weighs each bead pair by the surface in contact between their atoms (Frappier &
Najmanovich 2014). NRGTEN 1.2.9 gets these areas from Vcontacts (PyPI ``pyvcon`` 1.0.2, a C program):
a constrained Voronoi procedure (McConkey, Sobolev & Edelman, Bioinformatics 18:1365, 2002) with the
radical plane of Gellatly & Finney between atoms, each atom's cell clipped by a sphere of radius
``r_vdW + 1.4`` A (the water probe), and the area of each face measured on that sphere (solid angle times
radius squared: spherical triangles plus arc segments, with a correction for "engulfing" neighbours).

This module is an independent re-implementation that reproduces the program's output bit for bit:

* the same element/hybridisation radii (:func:`vcontacts_radii`), decided from the PDB atom-name field and
  the residue name exactly as Vcontacts' ``assign_radii`` does, including its quirk that RNA/DNA OP1/OP2
  oxygens get radius 0.0 (no branch matches the modern names);
* the same single-precision inputs (coordinates and radii are C ``float``; several intermediate products
  are evaluated in ``float`` in the C code and are reproduced here);
* the same order-dependent shortcuts: atoms are processed in the order of a 7 A cubic grid, an atom
  already processed is a neighbour of a later atom only if it recorded a positive area with it, and the
  first vertex of each polyhedron is seeded from a neighbour's polyhedron;
* the same output rounding: each area is stored as a C ``float`` and written with ``%.9g``; NRGTEN parses
  that text, so its surface dict holds ``float("%.9g" % float32(area))``, which is what
  :func:`contact_areas` returns.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from numba import njit

from components.common.errors import DynamotifError

__all__ = ["VCONTACTS_RADII", "ContactAreaError", "contact_areas", "vcontacts_radii"]


class ContactAreaError(DynamotifError):
    """The constrained Voronoi cell of one atom could not be built (degenerate geometry).

    Attributes
    ----------
    atom : int
        Row index of the atom in the ``coords`` given to :func:`contact_areas`.
    """

    def __init__(self, atom: int, xyz: np.ndarray, *, file: str | None = None, record: str | None = None):
        self.atom = atom
        self.xyz = np.asarray(xyz, dtype=np.float64)
        where = f"atom {atom} at ({xyz[0]:.3f}, {xyz[1]:.3f}, {xyz[2]:.3f})" if record is None else record
        super().__init__(
            "contact areas: the Voronoi cell of this atom cannot be closed (degenerate neighbour planes)",
            file=file,
            record=where,
        )

    def __reduce__(self) -> tuple:  # keyword arguments survive the trip back from a worker process
        return _contact_area_error, (self.atom, self.xyz, self.file, self.record)


def _contact_area_error(atom: int, xyz: np.ndarray, file: str | None, record: str | None) -> ContactAreaError:
    return ContactAreaError(atom, xyz, file=file, record=record)


#: The radius table hard-coded in Vcontacts' ``assign_radii`` (A). Values are C floats.
VCONTACTS_RADII: dict[str, float] = {
    "C3H0": 1.61,
    "C3H1": 1.76,
    "C4": 1.88,
    "N3H0": 1.64,
    "N3H1": 1.64,
    "N3H2": 1.64,
    "N4": 1.64,
    "O1H0": 1.42,
    "O2H1": 1.46,
    "S": 1.77,
    "DEF": 1.80,
}

_PI = 3.14159265  # Vcontacts' #define PI
_CELLSIZE = np.float32(7.0)
_NUCLEIC = ("  C", "  G", "  A", "  T", "  U")

_FLAG_X = 0  # no contact
_FLAG_Y = 1  # contact present
_FLAG_E = 2  # engulfing contact

# scratch capacities (Vcontacts uses 100 contacts, 200 vertices, 200 edges, 40 points per face)
_MAXC = 256
_MAXV = 1024
_MAXE = 512
_MAXPT = 128


# ----------------------------------------------------------------------------------------------------
# radii
# ----------------------------------------------------------------------------------------------------


def _name_field(atom_name: str) -> str:
    """The 4-column PDB atom-name field as NRGTEN writes it (names of <= 3 characters start in column 14)."""
    name = atom_name.strip()
    return name.ljust(4) if len(name) >= 4 else (" " + name).ljust(4)


def _radius_type(name: str, res: str) -> str:
    """Vcontacts' ``assign_radii`` decision for one atom (``name`` 4 columns, ``res`` 3 columns)."""
    n1, n2, n3 = name[1], name[2], name[3]
    if res in _NUCLEIC:
        if n1 == "P":
            return "DEF"
        if n1 == "O":
            if n3 == "P":
                return "O1H0"
            if n3 in "*'":
                return "O2H1"
            if n3 == " ":
                return "O1H0"
            return "UNSET"
        if n1 == "N":
            return "N3H2" if n2 in "246" else "N3H0"
        if n1 == "C":
            if n3 in "*'":
                return "C4"
            if n2 == "2":
                return "C3H1" if res[2] == "A" else "C3H0"
            if n2 == "4":
                return "C3H0"
            if n2 == "5":
                return "C3H1" if res[2] in "CU" else "C3H0"
            if n2 == "6":
                return "C3H0" if res[2] in "AG" else "C3H1"
            return "C3H1"  # C8 and the "dummy value" branch
        return "UNSET"
    if n1 == "O":
        return "O2H1" if n2 in "GH" else "O1H0"
    if n1 == "S":
        return "S"
    if n1 == "N":
        if res == "PRO":
            return "N3H0"
        if n2 in " E":
            return "N3H1"
        if n2 == "D" and res == "HIS":
            return "N3H1"
        if n2 == "D" and res == "ASN":
            return "N3H2"
        if n2 == "H":
            return "N3H2"
        if n2 == "Z":
            return "N4"
        return "N3H2"
    if n1 == "C":
        if n2 == " ":
            return "C3H0"
        if (res, n2) in (("ASP", "G"), ("GLU", "D"), ("ASN", "G"), ("GLN", "D"), ("ARG", "Z")):
            return "C3H0"
        if res in ("PHE", "HIS", "TYR", "TRP"):
            return "C4" if n2 in "AB" else "C3H1"
        return "C4"
    return "DEF"


def vcontacts_radii(
    atom_names: Sequence[str] | np.ndarray,
    elements: Sequence[str] | np.ndarray | None = None,
    res_names: Sequence[str] | np.ndarray | None = None,
) -> np.ndarray:
    """Vcontacts' atomic radii (A, without the 1.4 A water probe).

    Parameters
    ----------
    atom_names : sequence of str, shape (n,)
        Atom names as in the PDB file (``"C1'"``, ``"OP1"``, ``"CA"``); surrounding blanks are ignored.
        Vcontacts reads the 4-column name field; this function rebuilds it the way NRGTEN writes it
        (names of up to 3 characters start in the second column).
    elements : sequence of str, optional
        Accepted for interface symmetry and ignored: Vcontacts decides from the name field only
        (its second column is taken as the element letter).
    res_names : sequence of str, shape (n,)
        Residue names. ``A C G U T`` (exactly one letter) select the nucleic-acid rules; every other
        name, including ``DA``/``DT``, gets the amino-acid rules, as in Vcontacts.

    Returns
    -------
    np.ndarray, float64, shape (n,)
        Radii, each the exact value of the C ``float`` Vcontacts uses (e.g. ``float32(1.61)``).

    Notes
    -----
    Nucleic acids (residue field exactly ``"  A"``, ``"  C"``, ``"  G"``, ``"  T"``, ``"  U"``): P 1.80;
    O whose 4th name column is ``P`` (old naming O1P/O2P) 1.42, ribose O (``'``/``*``) 1.46, base O (blank
    4th column) 1.42; N 1.64; ribose C 1.88; C2 1.76 in A else 1.61; C4 1.61; C5 1.76 in C/U else 1.61;
    C6 1.61 in A/G else 1.76; C8 and other C 1.76.
    **Quirk:** the modern names OP1/OP2 (4th column ``1``/``2``) match no branch, so Vcontacts never sets
    their radius and uses the zero-filled memory it got from the heap: 0.0 A (their probe sphere is the
    1.4 A water radius alone). This was checked against the compiled program on the golden structures and
    is what NRGTEN's surface dicts contain; this function returns 0.0 for every such unset case (also
    nucleic atoms whose element column is not P/O/N/C).
    Amino acids: O 1.46 when the third column is G or H (OG, OH: hydroxyl), else 1.42; S 1.77; N 1.64;
    C 1.61 for backbone C and carboxyl/amide/guanidinium C (ASP CG, GLU CD, ASN CG, GLN CD, ARG CZ),
    1.88 for CA/CB of PHE/HIS/TYR/TRP and 1.76 for their ring carbons, 1.88 for other aliphatic C;
    anything else 1.80.
    """
    del elements
    names = [str(a) for a in atom_names]
    if res_names is None:
        raise TypeError("vcontacts_radii: res_names is required")
    res = [str(r) for r in res_names]
    if len(res) != len(names):
        raise ValueError(f"vcontacts_radii: {len(names)} atom_names but {len(res)} res_names")
    return np.array([_radius(name, rn) for name, rn in zip(names, res, strict=True)], dtype=np.float64)


_RADIUS_F32 = {k: float(np.float32(v)) for k, v in VCONTACTS_RADII.items()}
_RADIUS_F32["UNSET"] = 0.0  # never assigned in Vcontacts: its fresh heap memory reads 0.0


@functools.lru_cache(maxsize=4096)
def _radius(atom_name: str, res_name: str) -> float:
    return _RADIUS_F32[_radius_type(_name_field(atom_name), res_name.strip().rjust(3)[:3])]


# ----------------------------------------------------------------------------------------------------
# geometry kernels (ports of the Vcontacts routines; float32 where the C code computes in float)
# ----------------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _solve_3x3(e0, e1, e2, pt):
    """Intersection of three planes ``Ax+By+Cz+D=0``; returns -1 when singular."""
    cof00 = e1[1] * e2[2] - e2[1] * e1[2]
    cof01 = -e1[0] * e2[2] + e2[0] * e1[2]
    cof02 = e1[0] * e2[1] - e2[0] * e1[1]
    cof10 = -e0[1] * e2[2] + e2[1] * e0[2]
    cof11 = e0[0] * e2[2] - e2[0] * e0[2]
    cof12 = -e0[0] * e2[1] + e2[0] * e0[1]
    cof20 = e0[1] * e1[2] - e1[1] * e0[2]
    cof21 = -e0[0] * e1[2] + e1[0] * e0[2]
    cof22 = e0[0] * e1[1] - e1[0] * e0[1]
    det = e0[0] * cof00 + e0[1] * cof01 + e0[2] * cof02
    if det == 0.0:
        return -1
    pt[0] = -(e0[3] * cof00 + e1[3] * cof10 + e2[3] * cof20) / det
    pt[1] = -(e0[3] * cof01 + e1[3] * cof11 + e2[3] * cof21) / det
    pt[2] = -(e0[3] * cof02 + e1[3] * cof12 + e2[3] * cof22) / det
    return 0


@njit(cache=True, error_model="numpy")
def _solve_2xs(e0, e1, rado, pt0, pt1):
    """Intersections of two planes with the sphere of radius ``rado`` (float32); -1 when none."""
    q0 = e0[1] * e1[2] - e0[2] * e1[1]
    q1 = e0[2] * e1[0] - e0[0] * e1[2]
    q2 = e0[0] * e1[1] - e0[1] * e1[0]
    cof00 = e1[1] * q2 - q1 * e1[2]
    cof01 = -e1[0] * q2 + q0 * e1[2]
    cof02 = e1[0] * q1 - q0 * e1[1]
    cof10 = -e0[1] * q2 + q1 * e0[2]
    cof11 = e0[0] * q2 - q0 * e0[2]
    cof12 = -e0[0] * q1 + q0 * e0[1]
    det = q0 * q0 + q1 * q1 + q2 * q2
    if det == 0:
        return -1
    a0 = -(e0[3] * cof00 + e1[3] * cof10) / det
    a1 = -(e0[3] * cof01 + e1[3] * cof11) / det
    a2 = -(e0[3] * cof02 + e1[3] * cof12) / det
    rr = np.float64(np.float32(np.float64(rado) * np.float64(rado)))  # float*float in C
    t = (rr - a0 * a0 - a1 * a1 - a2 * a2) / det
    if t < 0:
        return -1
    t = np.sqrt(t)
    pt0[0] = a0 + t * q0
    pt0[1] = a1 + t * q1
    pt0[2] = a2 + t * q2
    pt1[0] = a0 - t * q0
    pt1[1] = a1 - t * q1
    pt1[2] = a2 - t * q2
    return 0


@njit(cache=True, error_model="numpy")
def _cos_pqr(p, q, r):
    qp0 = p[0] - q[0]
    qp1 = p[1] - q[1]
    qp2 = p[2] - q[2]
    qr0 = r[0] - q[0]
    qr1 = r[1] - q[1]
    qr2 = r[2] - q[2]
    return (qp0 * qr0 + qp1 * qr1 + qp2 * qr2) / np.sqrt(
        (qp0 * qp0 + qp1 * qp1 + qp2 * qp2) * (qr0 * qr0 + qr1 * qr1 + qr2 * qr2)
    )


@njit(cache=True, error_model="numpy")
def _spherical_arc(ao, ao_dist, b, b_dist, c, c_dist, rado):
    """Area between the great-circle arc B-C and the cap circle centred on line O-Ao (Vcontacts)."""
    r = np.float64(rado)
    cos_aob = (ao[0] * b[0] + ao[1] * b[1] + ao[2] * b[2]) / (ao_dist * b_dist)
    cos_boc = (b[0] * c[0] + b[1] * c[1] + b[2] * c[2]) / (b_dist * c_dist)
    u = (1 + cos_aob) * np.sqrt((1 + cos_boc) / 8.0)
    v = (1 - cos_aob) * np.sqrt((1 + cos_boc) / 8.0)
    w = np.sqrt((1 - cos_aob) * (1 + cos_aob) * (1 - cos_boc) / 8.0)
    tan_s = (1 - u + v + w + w) / (1 + u - v - w - w)
    tan_sb = (1 - u - v) / (1 + u + v)
    tan_sa = (1 - u + v - w - w) / (1 + u - v + w + w)
    if (tan_s * tan_sa) > 0.0:
        tanprod = np.sqrt(tan_sb * tan_sb * tan_s * tan_sa)
    else:
        tanprod = 0.0
    cos_bac = _cos_pqr(b, ao, c)
    if cos_bac > 1.0:
        ang = 0.0
    elif cos_bac < -1.0:
        ang = _PI
    else:
        ang = np.arccos(cos_bac)
    return r * (ang * (r - ao_dist) - 4.0 * r * np.arctan(np.sqrt(tanprod)))


@njit(cache=True, error_model="numpy")
def _test_point(pt, ai, flag, nc, pa, pb, pc):
    for cp in range(nc):
        if cp != pa and cp != pb and cp != pc and flag[cp] != _FLAG_X:
            if (ai[cp, 0] * pt[0] + ai[cp, 1] * pt[1] + ai[cp, 2] * pt[2] + ai[cp, 3]) > 0.0:
                return False
    return True


@njit(cache=True, error_model="numpy")
def _add_vertex(pxi, pdist, pplane, vn, x0, x1, x2, pa, pb, pc):
    pxi[vn, 0] = x0
    pxi[vn, 1] = x1
    pxi[vn, 2] = x2
    pplane[vn, 0] = pa
    pplane[vn, 1] = pb
    pplane[vn, 2] = pc
    pdist[vn] = np.sqrt(x0 * x0 + x1 * x1 + x2 * x2)


@njit(cache=True, error_model="numpy")
def _add_vedge(ev, e_start, e_end, e_pl, e_sp, en, ai, p0, p1, testp, pxi, startpt):
    v0 = ai[p0, 1] * ai[p1, 2] - ai[p0, 2] * ai[p1, 1]
    v1 = ai[p0, 2] * ai[p1, 0] - ai[p0, 0] * ai[p1, 2]
    v2 = ai[p0, 0] * ai[p1, 1] - ai[p0, 1] * ai[p1, 0]
    e_start[en] = startpt
    e_end[en] = -1
    e_pl[en, 0] = p0
    e_pl[en, 1] = p1
    e_sp[en] = testp
    t0 = pxi[startpt, 0] + v0
    t1 = pxi[startpt, 1] + v1
    t2 = pxi[startpt, 2] + v2
    tv = ai[testp, 0] * t0 + ai[testp, 1] * t1 + ai[testp, 2] * t2 + ai[testp, 3]
    if tv > 0.0:
        v0 = -v0
        v1 = -v1
        v2 = -v2
    ev[en, 0] = v0
    ev[en, 1] = v1
    ev[en, 2] = v2


@njit(cache=True, error_model="numpy")
def _closest_plane(ai, lo, hi, pa, pb, oldpc, s0, s1, s2, v0, v1, v2, vtmin, pc, vtbuf):
    """Nearest plane crossed by the ray s + t v (t > 0), as Vcontacts' edge walk finds it.

    Same arithmetic and tie rule as the C loop ``vt = -(A.s + D) / (A.v); if (vt < vtmin && vt > 0)``.
    The quotients are computed in a first, vectorisable pass; C skips planes with ``A.v == 0``, whose
    quotient here is +-inf or NaN and fails the same test.
    """
    for cai in range(lo, hi):
        vtdiv = ai[cai, 0] * v0 + ai[cai, 1] * v1 + ai[cai, 2] * v2
        num = ai[cai, 0] * s0 + ai[cai, 1] * s1 + ai[cai, 2] * s2 + ai[cai, 3]
        vtbuf[cai] = -num / vtdiv
    for cai in range(lo, hi):
        vt = vtbuf[cai]
        if vt < vtmin and vt > 0:
            if cai != pa and cai != pb and cai != oldpc:
                vtmin = vt
                pc = cai
    return vtmin, pc


@njit(cache=True, error_model="numpy")
def _glibc_rand(state):
    """glibc ``rand()`` (TYPE_3 additive feedback), state = [int32 r[34+...], position]."""
    last = state.shape[0] - 1
    k = state[last]
    val = (state[k - 31] + state[k - 3]) & 0xFFFFFFFF
    state[k] = val
    state[last] = k + 1
    return val >> 1


@njit(cache=True, error_model="numpy")
def _glibc_rand_init(n_calls):
    """State able to serve ``n_calls`` values of glibc ``rand()`` after ``srand(1)``."""
    state = np.zeros(344 + n_calls + 1, dtype=np.int64)
    state[0] = 1
    for i in range(1, 31):
        hi = state[i - 1] // 127773
        lo = state[i - 1] % 127773
        word = 16807 * lo - 2836 * hi
        if word < 0:
            word += 2147483647
        state[i] = word
    for i in range(31, 34):
        state[i] = state[i - 31]
    for i in range(34, 344):
        state[i] = (state[i - 31] + state[i - 3]) & 0xFFFFFFFF
    state[state.shape[0] - 1] = 344
    return state


@njit(cache=True, error_model="numpy")
def _perturb(x, state):
    """``x += 0.005*(float)(2*rand()-RAND_MAX)/(float)RAND_MAX`` with C int wrap-around."""
    r = _glibc_rand(state)
    v = (2 * r - 2147483647) & 0xFFFFFFFF
    if v >= 2147483648:
        v -= 4294967296
    return np.float32(np.float64(x) + 0.005 * np.float64(np.float32(v)) / np.float64(np.float32(2147483647)))


@njit(cache=True, error_model="numpy")
def _grid(cx):
    """Vcontacts' ``index_protein``: 7 A boxes and the processing order (atoms sorted by box)."""
    n = cx.shape[0]
    # ---------------- index_protein: 7 A grid, processing order ----------------
    gmin = np.empty(3, dtype=np.float32)
    gmax = np.empty(3, dtype=np.float32)
    for x in range(3):
        gmin[x] = cx[0, x]
        gmax[x] = cx[0, x]
    for a in range(n):
        for x in range(3):
            if cx[a, x] < gmin[x]:
                gmin[x] = cx[a, x]
            if cx[a, x] > gmax[x]:
                gmax[x] = cx[a, x]
    maxwidth = np.float32(0.0)
    for x in range(3):
        w = np.float32(np.float64(gmax[x]) - np.float64(gmin[x]))
        if w > maxwidth:
            maxwidth = w
    dim = int(np.float32(np.float64(maxwidth) / np.float64(_CELLSIZE))) + 1
    nbox = dim * dim * dim
    boxnum = np.empty(n, dtype=np.int64)
    nument = np.zeros(nbox, dtype=np.int64)
    for a in range(n):
        b = 0
        for x in range(3):
            q = int(
                np.float32(
                    np.float64(np.float32(np.float64(cx[a, x]) - np.float64(gmin[x]))) / np.float64(_CELLSIZE)
                )
            )
            b = b * dim + q
        boxnum[a] = b
        nument[b] += 1
    first = np.empty(nbox, dtype=np.int64)
    s = 0
    for b in range(nbox):
        first[b] = s
        s += nument[b]
    fill = np.zeros(nbox, dtype=np.int64)
    pdblist = np.empty(n, dtype=np.int64)
    for a in range(n):
        b = boxnum[a]
        pdblist[first[b] + fill[b]] = a
        fill[b] += 1
    return dim, nbox, boxnum, nument, first, pdblist


@njit(cache=True, error_model="numpy")
def _neighbours(
    a0,
    rado64,
    rw,
    cx,
    radii,
    dim,
    nbox,
    boxnum,
    nument,
    first,
    pdblist,
    done,
    pend_head,
    pend_atom,
    pend_next,
    c_idx,
    c_dist,
):
    """``get_contlist4``: atoms within r_i + r_j + 2 r_w, skipping processed atoms without a recorded contact."""
    # ---------------- get_contlist4 ----------------
    r = pend_head[a0]
    while r != -1:
        done[pend_atom[r]] = 2
        r = pend_next[r]
    nc = 0
    bz = boxnum[a0]
    for i in range(27):
        b = bz + dim * dim * ((i // 9) - 1) + dim * (((i // 3) % 3) - 1) + (i % 3) - 1
        if b < 0 or b >= nbox:
            continue
        for bai in range(nument[b]):
            j = pdblist[first[b] + bai]
            if done[j] == 1:
                continue
            d0 = np.float32(np.float64(cx[a0, 0]) - np.float64(cx[j, 0]))
            d1 = np.float32(np.float64(cx[a0, 1]) - np.float64(cx[j, 1]))
            d2 = np.float32(np.float64(cx[a0, 2]) - np.float64(cx[j, 2]))
            sq = np.float32(
                np.float64(
                    np.float32(
                        np.float64(np.float32(np.float64(d0) * np.float64(d0)))
                        + np.float64(np.float32(np.float64(d1) * np.float64(d1)))
                    )
                )
                + np.float64(np.float32(np.float64(d2) * np.float64(d2)))
            )
            sqd = np.float64(sq)
            near = np.float64(np.float32(rado64 + np.float64(radii[j]))) + rw
            if sqd < near * near and sqd != 0.0:
                if nc >= _MAXC - 4:
                    raise ValueError("more contacts than the Vcontacts buffers allow")
                c_idx[nc] = j
                c_dist[nc] = np.sqrt(sqd)
                nc += 1
    r = pend_head[a0]
    while r != -1:
        done[pend_atom[r]] = 1
        r = pend_next[r]
    return nc


@njit(cache=True, error_model="numpy")
def _unique_neighbours(nc, c_idx, c_dist):
    """Keep the first occurrence of each neighbour atom in ``c_idx[:nc]`` (in place); returns the new count.

    ``get_contlist4`` visits the 27 boxes around an atom by index arithmetic (``box + dim*dim*dz + dim*dy +
    dx``) without checking each axis, so on a grid 1 or 2 boxes wide (a structure under 14 A across) the
    same box, and every atom in it, is visited more than once, and each copy adds the same radical plane.
    Vcontacts usually survives this, and is reproduced as it is. But when the first vertex is built on
    two copies of one plane, the vertex is undefined, its edges have no direction, no plane closes them
    and the program crashes (peptides of a few residues, e.g. some side-chain substitutions of NRGTEN's
    ``test_medium.pdb``). Listing each neighbour once is what Vcontacts computes on a grid of 3 or more
    boxes, where no box is visited twice.
    """
    m = 0
    for k in range(nc):
        seen = False
        for q in range(m):
            if c_idx[q] == c_idx[k]:
                seen = True
                break
        if not seen:
            c_idx[m] = c_idx[k]
            c_dist[m] = c_dist[k]
            m += 1
    return m


@njit(cache=True, error_model="numpy")
def _start_polyhedron(
    a0,
    nc,
    rado64,
    rw,
    cx,
    radii,
    c_idx,
    c_dist,
    ai,
    cdist,
    cindex,
    flag,
    seed,
    vecta,
    tmp,
    pxi,
    pdist,
    pplane,
    ev,
    e_start,
    e_end,
    e_pl,
    e_sp,
):
    """Radical planes of all neighbours, the 4 bounding planes, and the first vertex with its 3 edges."""
    for cai in range(nc):
        j = c_idx[cai]
        ad = c_dist[cai]
        rr = rado64 - rw
        rj2 = np.float64(np.float32(np.float64(radii[j]) * np.float64(radii[j])))
        planedist = (ad * ad + rr * rr - rj2) / (2 * ad)
        ai[cai, 0] = np.float64(np.float32(np.float64(cx[j, 0]) - np.float64(cx[a0, 0]))) / ad
        ai[cai, 1] = np.float64(np.float32(np.float64(cx[j, 1]) - np.float64(cx[a0, 1]))) / ad
        ai[cai, 2] = np.float64(np.float32(np.float64(cx[j, 2]) - np.float64(cx[a0, 2]))) / ad
        ai[cai, 3] = -planedist
        cdist[cai] = abs(planedist)
        cindex[cai] = j
        flag[cai] = _FLAG_X
    ai[nc, 0] = 0.707
    ai[nc, 1] = 1.0
    ai[nc, 2] = 0.0
    ai[nc, 3] = -10.0
    ai[nc + 1, 0] = 0.707
    ai[nc + 1, 1] = -1.0
    ai[nc + 1, 2] = 0.0
    ai[nc + 1, 3] = -10.0
    ai[nc + 2, 0] = -0.707
    ai[nc + 2, 1] = 0.0
    ai[nc + 2, 2] = 1.0
    ai[nc + 2, 3] = -10.0
    ai[nc + 3, 0] = -0.707
    ai[nc + 3, 1] = 0.0
    ai[nc + 3, 2] = -1.0
    ai[nc + 3, 3] = -10.0

    # ---- get_firstvert ----
    pa = np.int64(-1)
    pb = np.int64(-1)
    pc = np.int64(-1)
    sdi = a0 * 3
    if seed[sdi] != -1:
        for cai in range(nc):
            if cindex[cai] == seed[sdi]:
                pa = cai
            elif cindex[cai] == seed[sdi + 1]:
                pb = cai
            elif cindex[cai] == seed[sdi + 2]:
                pc = cai
    if not (pa != -1 and pb != -1 and pc != -1):
        mind = 9.9e9
        for cai in range(nc):
            if cdist[cai] < mind:
                mind = cdist[cai]
                pa = cai
        mind = 9.9e9
        pta0 = 0.0
        pta1 = 0.0
        pta2 = 0.0
        for cai in range(nc + 4):
            if cai != pa:
                vecta[0] = ai[pa, 1] * ai[cai, 2] - ai[pa, 2] * ai[cai, 1]
                vecta[1] = ai[pa, 2] * ai[cai, 0] - ai[pa, 0] * ai[cai, 2]
                vecta[2] = ai[pa, 0] * ai[cai, 1] - ai[pa, 1] * ai[cai, 0]
                vecta[3] = 0.0
                if _solve_3x3(ai[pa], ai[cai], vecta, tmp) != -1:
                    ptd = np.sqrt(tmp[0] * tmp[0] + tmp[1] * tmp[1] + tmp[2] * tmp[2])
                    if ptd < mind:
                        pb = cai
                        mind = ptd
                        pta0 = tmp[0]
                        pta1 = tmp[1]
                        pta2 = tmp[2]
        vecta[0] = ai[pa, 1] * ai[pb, 2] - ai[pa, 2] * ai[pb, 1]
        vecta[1] = ai[pa, 2] * ai[pb, 0] - ai[pa, 0] * ai[pb, 2]
        vecta[2] = ai[pa, 0] * ai[pb, 1] - ai[pa, 1] * ai[pb, 0]
        vtmin = 9.9e9
        for cai in range(nc + 4):
            if cai != pa and cai != pb:
                vtdiv = ai[cai, 0] * vecta[0] + ai[cai, 1] * vecta[1] + ai[cai, 2] * vecta[2]
                if vtdiv != 0.0:
                    vt = -(ai[cai, 0] * pta0 + ai[cai, 1] * pta1 + ai[cai, 2] * pta2 + ai[cai, 3]) / vtdiv
                    if abs(vt) < vtmin:
                        vtmin = abs(vt)
                        pc = cai
    tmp[0] = 0.0
    tmp[1] = 0.0
    tmp[2] = 0.0
    _solve_3x3(ai[pa], ai[pb], ai[pc], tmp)
    _add_vertex(pxi, pdist, pplane, np.int64(0), tmp[0], tmp[1], tmp[2], pa, pb, pc)
    flag[pa] = _FLAG_Y
    flag[pb] = _FLAG_Y
    flag[pc] = _FLAG_Y
    _add_vedge(ev, e_start, e_end, e_pl, e_sp, np.int64(0), ai, pa, pb, pc, pxi, np.int64(0))
    _add_vedge(ev, e_start, e_end, e_pl, e_sp, np.int64(1), ai, pb, pc, pa, pxi, np.int64(0))
    _add_vedge(ev, e_start, e_end, e_pl, e_sp, np.int64(2), ai, pc, pa, pb, pxi, np.int64(0))


@njit(cache=True, error_model="numpy")
def _walk(nc, rado_sq32, ai, flag, pxi, pdist, pplane, ev, e_start, e_end, e_pl, e_sp, e_ep, vtbuf):
    """Edge walk of ``voronoi_poly2``; returns (edgenum, vn).

    edgenum is -1 when the edge buffer overflows (Vcontacts' failsafe: perturb the atom and restart) and
    -2 when an open edge meets no plane: a degenerate first vertex (see :func:`_unique_neighbours`).
    """
    startedge = np.int64(0)
    edgenum = np.int64(3)
    vn = np.int64(1)
    while True:
        while e_end[startedge] >= 0 and (edgenum - startedge) > 0:
            startedge += 1
        if (edgenum - startedge) <= 0:
            break
        vtmin = 9.9e9
        sp = e_start[startedge]
        s0 = pxi[sp, 0]
        s1 = pxi[sp, 1]
        s2 = pxi[sp, 2]
        v0 = ev[startedge, 0]
        v1 = ev[startedge, 1]
        v2 = ev[startedge, 2]
        pa = e_pl[startedge, 0]
        pb = e_pl[startedge, 1]
        oldpc = e_sp[startedge]
        pc = np.int64(-1)
        vtmin, pc = _closest_plane(
            ai, np.int64(0), nc, pa, pb, oldpc, s0, s1, s2, v0, v1, v2, vtmin, pc, vtbuf
        )
        x0 = s0 + vtmin * v0
        x1 = s1 + vtmin * v1
        x2 = s2 + vtmin * v2
        if (x0 * x0 + x1 * x1 + x2 * x2) > rado_sq32:
            vtmin, pc = _closest_plane(
                ai, nc, nc + 4, pa, pb, oldpc, s0, s1, s2, v0, v1, v2, vtmin, pc, vtbuf
            )
            x0 = s0 + vtmin * v0
            x1 = s1 + vtmin * v1
            x2 = s2 + vtmin * v2
        if pc < 0:
            # no plane closes this edge (Vcontacts indexes ai[-1] here and crashes): degenerate cell
            return -2, vn
        _add_vertex(pxi, pdist, pplane, vn, x0, x1, x2, pa, pb, pc)
        e_end[startedge] = vn
        e_ep[startedge] = pc
        flag[pc] = _FLAG_Y
        # edge (pa, pc)
        found = False
        for edgei in range(startedge + 1, edgenum):
            if (e_pl[edgei, 0] == pa and e_pl[edgei, 1] == pc) or (
                e_pl[edgei, 0] == pc and e_pl[edgei, 1] == pa
            ):
                e_end[edgei] = vn
                e_ep[edgei] = pb
                found = True
                break
        if not found:
            _add_vedge(ev, e_start, e_end, e_pl, e_sp, edgenum, ai, pa, pc, pb, pxi, vn)
            edgenum += 1
        # edge (pb, pc)
        found = False
        for edgei in range(startedge + 1, edgenum):
            if (e_pl[edgei, 0] == pb and e_pl[edgei, 1] == pc) or (
                e_pl[edgei, 0] == pc and e_pl[edgei, 1] == pb
            ):
                e_end[edgei] = vn
                e_ep[edgei] = pa
                found = True
                break
        if not found:
            _add_vedge(ev, e_start, e_end, e_pl, e_sp, edgenum, ai, pb, pc, pa, pxi, vn)
            edgenum += 1
            if edgenum >= 200:
                return -1, vn
        vn += 1
    return edgenum, vn


@njit(cache=True, error_model="numpy")
def _arcs(
    a0,
    nc,
    edgenum,
    vn,
    rado,
    ai,
    flag,
    cindex,
    pxi,
    pdist,
    pplane,
    e_start,
    e_end,
    e_pl,
    e_sp,
    e_ep,
    e_arc,
    arc0,
    arc1,
    cxi,
    cdst,
    seed,
    recalc,
):
    """Arc points where edges leave the sphere, vertex reduction, face centres, engulfing flags, seeds."""
    rado64 = np.float64(rado)
    # ---- arcs: vertices outside the sphere, intersections with the sphere ----
    for edgei in range(edgenum):
        if rado64 < pdist[e_start[edgei]] or rado64 < pdist[e_end[edgei]]:
            e_arc[edgei] = 1
        else:
            e_arc[edgei] = 0
    for edgei in range(edgenum):
        if e_arc[edgei] != 0:
            p0 = e_pl[edgei, 0]
            p1 = e_pl[edgei, 1]
            if _solve_2xs(ai[p0], ai[p1], rado, arc0, arc1) == -1:
                e_arc[edgei] = 0
                continue
            ta = e_sp[edgei]
            tb = e_ep[edgei]
            tva = ai[ta, 0] * arc0[0] + ai[ta, 1] * arc0[1] + ai[ta, 2] * arc0[2] + ai[ta, 3]
            tvb = ai[tb, 0] * arc0[0] + ai[tb, 1] * arc0[1] + ai[tb, 2] * arc0[2] + ai[tb, 3]
            if tva < 0.0 and tvb < 0.0:
                _add_vertex(pxi, pdist, pplane, vn, arc0[0], arc0[1], arc0[2], p0, p1, np.int64(-1))
                pdist[vn] = rado64
                vn += 1
            tva = ai[ta, 0] * arc1[0] + ai[ta, 1] * arc1[1] + ai[ta, 2] * arc1[2] + ai[ta, 3]
            tvb = ai[tb, 0] * arc1[0] + ai[tb, 1] * arc1[1] + ai[tb, 2] * arc1[2] + ai[tb, 3]
            if tva < 0.0 and tvb < 0.0:
                _add_vertex(pxi, pdist, pplane, vn, arc1[0], arc1[1], arc1[2], p0, p1, np.int64(-1))
                pdist[vn] = rado64
                vn += 1
    vj = 0
    for vi in range(vn):
        if pdist[vi] <= rado64:
            if vj != vi:
                pxi[vj, 0] = pxi[vi, 0]
                pxi[vj, 1] = pxi[vi, 1]
                pxi[vj, 2] = pxi[vi, 2]
                pdist[vj] = pdist[vi]
                pplane[vj, 0] = pplane[vi, 0]
                pplane[vj, 1] = pplane[vi, 1]
                pplane[vj, 2] = pplane[vi, 2]
            vj += 1
    nv = vj
    for cai in range(nc):
        cxi[cai, 0] = -ai[cai, 0] * ai[cai, 3]
        cxi[cai, 1] = -ai[cai, 1] * ai[cai, 3]
        cxi[cai, 2] = -ai[cai, 2] * ai[cai, 3]
        cdst[cai] = abs(ai[cai, 3])
        if ai[cai, 3] > 0.0:
            flag[cai] = _FLAG_E
    if not recalc:
        # save_seeds
        for vi in range(nv):
            if pplane[vi, 2] != -1:
                q0 = cindex[pplane[vi, 0]]
                q1 = cindex[pplane[vi, 1]]
                q2 = cindex[pplane[vi, 2]]
                if seed[3 * q0] == -1:
                    seed[3 * q0] = a0
                    seed[3 * q0 + 1] = q1
                    seed[3 * q0 + 2] = q2
                if seed[3 * q1] == -1:
                    seed[3 * q1] = a0
                    seed[3 * q1 + 1] = q0
                    seed[3 * q1 + 2] = q2
                if seed[3 * q2] == -1:
                    seed[3 * q2] = a0
                    seed[3 * q2 + 1] = q0
                    seed[3 * q2 + 2] = q1
    return nv


@njit(cache=True, error_model="numpy")
def _order_faces(nc, nv, rado64, ai, flag, cxi, pxi, pdist, pplane, npts, ptord, cos10x, tmp):
    """``order_faces``: the points of each face, in order around it (with an extra arc point when needed)."""
    # ---------------- order_faces ----------------
    # points of each face in increasing vertex order (one pass instead of one scan per plane)
    for px in range(nc):
        npts[px] = 0
    for vi in range(nv):
        q0 = pplane[vi, 0]
        q1 = pplane[vi, 1]
        q2 = pplane[vi, 2]
        if q0 >= 0 and q0 < nc and flag[q0] != _FLAG_X:
            ptord[q0, npts[q0]] = vi
            npts[q0] += 1
        if q1 >= 0 and q1 < nc and q1 != q0 and flag[q1] != _FLAG_X:
            ptord[q1, npts[q1]] = vi
            npts[q1] += 1
        if q2 >= 0 and q2 < nc and q2 != q0 and q2 != q1 and flag[q2] != _FLAG_X:
            ptord[q2, npts[q2]] = vi
            npts[q2] += 1
    nv_local = nv
    for px in range(nc):
        if flag[px] == _FLAG_X:
            continue
        sc = npts[px]
        if sc > 2:
            for vi in range(sc):
                pv = ptord[px, vi]
                if pplane[pv, 2] == -1:
                    tmp[0] = 2.0 * cxi[px, 0] - pxi[pv, 0]
                    tmp[1] = 2.0 * cxi[px, 1] - pxi[pv, 1]
                    tmp[2] = 2.0 * cxi[px, 2] - pxi[pv, 2]
                    if _test_point(tmp, ai, flag, nc, px, np.int64(-1), np.int64(-1)):
                        pxi[nv_local, 0] = tmp[0]
                        pxi[nv_local, 1] = tmp[1]
                        pxi[nv_local, 2] = tmp[2]
                        pplane[nv_local, 0] = px
                        pplane[nv_local, 1] = -1
                        pplane[nv_local, 2] = -1
                        pdist[nv_local] = rado64
                        ptord[px, sc] = nv_local
                        sc += 1
                        nv_local += 1
                    break
        npts[px] = sc
        if sc > 3:
            p0v = ptord[px, 0]
            if pplane[p0v, 0] == px:
                py = pplane[p0v, 1]
            else:
                py = pplane[p0v, 0]
            vi = 1
            while vi < sc:
                pv = ptord[px, vi]
                if pplane[pv, 0] == py or pplane[pv, 1] == py or pplane[pv, 2] == py:
                    break
                vi += 1
            # when no second point shares a plane with point 0, Vcontacts swaps in the stale
            # entry ptorder[planeX].pt[surfcount] left by an earlier atom; ptord reproduces it
            tsi = ptord[px, vi]
            ptord[px, vi] = ptord[px, 1]
            ptord[px, 1] = tsi
            for vi in range(2, sc):
                cos10x[vi] = _cos_pqr(pxi[ptord[px, 1]], pxi[ptord[px, 0]], pxi[ptord[px, vi]])
            for vi in range(2, sc - 1):
                for vi2 in range(vi + 1, sc):
                    if cos10x[vi] < cos10x[vi2]:
                        tsi = ptord[px, vi]
                        ptord[px, vi] = ptord[px, vi2]
                        ptord[px, vi2] = tsi
                        tc = cos10x[vi]
                        cos10x[vi] = cos10x[vi2]
                        cos10x[vi2] = tc


@njit(cache=True, error_model="numpy")
def _calc_areas(
    nc,
    nv,
    rado,
    rado_sq32,
    ai,
    cdist,
    flag,
    cxi,
    cdst,
    pxi,
    pdist,
    pplane,
    npts,
    ptord,
    carea,
    cosnn1,
    cosnz,
    engplane,
    projpt,
    arc0,
    arc1,
    tmp,
    tmp2,
):
    """``calc_areas`` with ``project_points``: area of each face on the probe-extended sphere."""
    rado64 = np.float64(rado)
    # ---------------- calc_areas ----------------
    epi = 0
    for px in range(nc):
        carea[px] = 0.0
        if flag[px] == _FLAG_E:
            engplane[epi] = px
            epi += 1
    if epi > 0:
        # project_points
        if epi == 1:
            projpt[0] = cxi[engplane[0], 0]
            projpt[1] = cxi[engplane[0], 1]
            projpt[2] = cxi[engplane[0], 2]
        elif epi == 2:
            for x in range(3):
                arc0[x] = 0.0
                arc1[x] = 0.0
            _solve_2xs(ai[engplane[0]], ai[engplane[1]], rado, arc0, arc1)
            projpt[0] = (arc0[0] + arc1[0]) / 2
            projpt[1] = (arc0[1] + arc1[1]) / 2
            projpt[2] = (arc0[2] + arc1[2]) / 2
        else:
            for x in range(3):
                arc0[x] = 0.0
            _solve_3x3(ai[engplane[0]], ai[engplane[1]], ai[engplane[2]], arc0)
            projpt[0] = arc0[0]
            projpt[1] = arc0[1]
            projpt[2] = arc0[2]
        for vi in range(nv):
            if pplane[vi, 2] != -1:
                w0 = pxi[vi, 0] - projpt[0]
                w1 = pxi[vi, 1] - projpt[1]
                w2 = pxi[vi, 2] - projpt[2]
                qa = w0 * w0 + w1 * w1 + w2 * w2
                qb = 2 * (pxi[vi, 0] * w0 + pxi[vi, 1] * w1 + pxi[vi, 2] * w2)
                qc = pxi[vi, 0] * pxi[vi, 0] + pxi[vi, 1] * pxi[vi, 1] + pxi[vi, 2] * pxi[vi, 2] - rado_sq32
                kk = (np.sqrt(qb * qb - 4.0 * qa * qc) - qb) / (2 * qa)
                pxi[vi, 0] += kk * w0
                pxi[vi, 1] += kk * w1
                pxi[vi, 2] += kk * w2
                pdist[vi] = rado64

    for px in range(nc):
        np_ = npts[px]
        area = 0.0
        if flag[px] == _FLAG_X:
            continue
        if np_ == 0:
            if _test_point(cxi[px], ai, flag, nc, px, np.int64(-1), np.int64(-1)):
                carea[px] = 2.0 * _PI * rado64 * (rado64 - cdst[px])
        elif np_ == 2:
            q0 = ptord[px, 0]
            q1 = ptord[px, 1]
            arc = _spherical_arc(cxi[px], cdst[px], pxi[q0], pdist[q0], pxi[q1], pdist[q1], rado)
            if _test_point(cxi[px], ai, flag, nc, px, np.int64(-1), np.int64(-1)):
                carea[px] = 2.0 * _PI * rado64 * (rado64 - cdst[px]) - arc
            else:
                carea[px] = arc
        else:
            v0i = ptord[px, 0]
            for vi in range(np_):
                va = ptord[px, vi]
                vb = ptord[px, (vi + 1) % np_]
                cosnn1[vi] = (pxi[va, 0] * pxi[vb, 0] + pxi[va, 1] * pxi[vb, 1] + pxi[va, 2] * pxi[vb, 2]) / (
                    pdist[va] * pdist[vb]
                )
                if vi != 0:
                    cosnz[vi] = (
                        pxi[v0i, 0] * pxi[va, 0] + pxi[v0i, 1] * pxi[va, 1] + pxi[v0i, 2] * pxi[va, 2]
                    ) / (pdist[v0i] * pdist[va])
            for vi in range(1, np_ - 1):
                cu = np.sqrt((1 + cosnz[vi]) * (1 + cosnn1[vi]) * (1 + cosnz[vi + 1]) / 8.0)
                cv = np.sqrt((1 - cosnz[vi]) * (1 - cosnn1[vi]) * (1 + cosnz[vi + 1]) / 8.0)
                cw = np.sqrt((1 - cosnz[vi]) * (1 + cosnn1[vi]) * (1 - cosnz[vi + 1]) / 8.0)
                cxx = np.sqrt((1 + cosnz[vi]) * (1 - cosnn1[vi]) * (1 - cosnz[vi + 1]) / 8.0)
                ts = (1 - cu + cv + cw + cxx) / (1 + cu - cv - cw - cxx)
                tsa = (1 - cu - cv - cw + cxx) / (1 + cu + cv + cw - cxx)
                tsb = (1 - cu - cv + cw - cxx) / (1 + cu + cv - cw + cxx)
                tsc = (1 - cu + cv - cw - cxx) / (1 + cu - cv + cw + cxx)
                tanprod = np.sqrt(ts * tsa * tsb * tsc)
                if tanprod > 0.0:
                    area += 4.0 * rado64 * rado64 * np.arctan(np.sqrt(tanprod))
            for vi in range(np_):
                va = ptord[px, vi]
                vb = ptord[px, (vi + 1) % np_]
                if pplane[va, 2] == -1 and pplane[vb, 2] == -1:
                    if (pplane[va, 0] + pplane[va, 1]) != (pplane[vb, 0] + pplane[vb, 1]):
                        area += _spherical_arc(
                            cxi[px], cdst[px], pxi[va], pdist[va], pxi[vb], pdist[vb], rado
                        )
            carea[px] = area

    if epi > 0:
        for px in range(nc):
            if flag[px] != _FLAG_E:
                continue
            np_ = npts[px]
            for vi in range(np_):
                cur = ptord[px, vi]
                nxt = ptord[px, (vi + 1) % np_]
                if pplane[cur, 0] == px:
                    pa1 = pplane[cur, 1]
                    pa2 = pplane[cur, 2]
                else:
                    pa1 = pplane[cur, 0]
                    if pplane[cur, 1] == px:
                        pa2 = pplane[cur, 2]
                    else:
                        pa2 = pplane[cur, 1]
                if pa1 == pplane[nxt, 0] or pa1 == pplane[nxt, 1] or pa1 == pplane[nxt, 2]:
                    comm = pa1
                elif pa2 == pplane[nxt, 0] or pa2 == pplane[nxt, 1] or pa2 == pplane[nxt, 2]:
                    comm = pa2
                else:
                    continue
                if comm != -1 and flag[comm] != _FLAG_E:
                    carea[comm] += _spherical_arc(
                        cxi[px], cdst[px], pxi[cur], pdist[cur], pxi[nxt], pdist[nxt], rado
                    )
                    if np_ == 2:
                        break
        if epi == 1:
            e0 = engplane[0]
            carea[e0] = 2.0 * _PI * rado64 * (rado64 + cdist[e0])
        elif epi == 2:
            e0 = engplane[0]
            e1 = engplane[1]
            if _solve_2xs(ai[e0], ai[e1], rado, tmp, tmp2) == -1:
                carea[e0] = 2.0 * _PI * rado64 * rado64
                carea[e1] = 2.0 * _PI * rado64 * rado64
            else:
                maxsas = _spherical_arc(cxi[e0], cdst[e0], tmp, rado64, tmp2, rado64, rado)
                maxsas += _spherical_arc(cxi[e1], cdst[e1], tmp, rado64, tmp2, rado64, rado)
                carea[e0] = 2.0 * _PI * rado64 * rado64 - 0.5 * maxsas
                carea[e1] = 2.0 * _PI * rado64 * rado64 - 0.5 * maxsas
        else:
            for px in range(nc):
                if flag[px] == _FLAG_E:
                    carea[px] = 4.0 * _PI * rado64 * rado64 / epi
                else:
                    carea[px] = 0.0


@njit(cache=True, error_model="numpy")
def _grow_i(a):
    b = np.empty(2 * a.shape[0], dtype=np.int64)
    for k in range(a.shape[0]):
        b[k] = a[k]
    return b


@njit(cache=True, error_model="numpy")
def _grow_f(a):
    b = np.empty(2 * a.shape[0], dtype=np.float32)
    for k in range(a.shape[0]):
        b[k] = a[k]
    return b


@njit(cache=True, error_model="numpy")
def _vcontacts_kernel(coords, radii, rw, unique_all):
    n = coords.shape[0]
    cx = coords.copy()  # float32; the failsafe may perturb an atom (as Vcontacts does)
    dim, nbox, boxnum, nument, first, pdblist = _grid(cx)

    # ---------------- global state ----------------
    done = np.zeros(n, dtype=np.int8)  # 0 not done, 1 done ('Y'), 2 marked contact ('C')
    seed = np.full(3 * n, -1, dtype=np.int64)
    # "atom j (done) recorded a positive contact with me": linked lists of pending records
    pend_head = np.full(n, -1, dtype=np.int64)
    pend_atom = np.empty(16 * n + 16, dtype=np.int64)
    pend_next = np.empty(16 * n + 16, dtype=np.int64)
    npend = 0
    # output records
    out_i = np.empty(16 * n + 16, dtype=np.int64)
    out_j = np.empty(16 * n + 16, dtype=np.int64)
    out_a = np.empty(16 * n + 16, dtype=np.float32)
    nout = 0
    rand_state = _glibc_rand_init(np.int64(0))
    rand_used = 0

    # ---------------- scratch (zero-initialised and reused across atoms, like the C globals) ----------------
    c_idx = np.zeros(_MAXC, dtype=np.int64)
    c_dist = np.zeros(_MAXC, dtype=np.float64)
    ai = np.zeros((_MAXC + 4, 4), dtype=np.float64)
    cdist = np.zeros(_MAXC + 4, dtype=np.float64)
    cindex = np.zeros(_MAXC + 4, dtype=np.int64)  # persists across atoms, like the C global
    carea = np.zeros(_MAXC + 4, dtype=np.float64)
    flag = np.zeros(_MAXC + 4, dtype=np.int8)
    pxi = np.zeros((_MAXV, 3), dtype=np.float64)
    pdist = np.zeros(_MAXV, dtype=np.float64)
    pplane = np.zeros((_MAXV, 3), dtype=np.int64)
    ev = np.zeros((_MAXE, 3), dtype=np.float64)
    e_start = np.zeros(_MAXE, dtype=np.int64)
    e_end = np.zeros(_MAXE, dtype=np.int64)
    e_pl = np.zeros((_MAXE, 2), dtype=np.int64)
    e_sp = np.zeros(_MAXE, dtype=np.int64)
    e_ep = np.zeros(_MAXE, dtype=np.int64)
    e_arc = np.zeros(_MAXE, dtype=np.int8)
    cxi = np.zeros((_MAXC, 3), dtype=np.float64)  # centerpt
    cdst = np.zeros(_MAXC, dtype=np.float64)
    npts = np.zeros(_MAXC, dtype=np.int64)
    ptord = np.zeros((_MAXC, _MAXPT), dtype=np.int64)
    cos10x = np.zeros(_MAXPT, dtype=np.float64)
    cosnn1 = np.zeros(_MAXPT, dtype=np.float64)
    cosnz = np.zeros(_MAXPT, dtype=np.float64)
    tmp = np.zeros(3, dtype=np.float64)
    tmp2 = np.zeros(3, dtype=np.float64)
    vecta = np.zeros(4, dtype=np.float64)
    arc0 = np.zeros(3, dtype=np.float64)
    arc1 = np.zeros(3, dtype=np.float64)
    projpt = np.zeros(3, dtype=np.float64)
    engplane = np.zeros(_MAXC, dtype=np.int64)
    vtbuf = np.zeros(_MAXC + 4, dtype=np.float64)

    for atomi in range(n):
        a0 = pdblist[atomi]
        rado = np.float32(np.float64(radii[a0]) + rw)
        rado64 = np.float64(rado)
        rado_sq32 = np.float64(np.float32(rado64 * rado64))
        nc = _neighbours(
            a0,
            rado64,
            rw,
            cx,
            radii,
            dim,
            nbox,
            boxnum,
            nument,
            first,
            pdblist,
            done,
            pend_head,
            pend_atom,
            pend_next,
            c_idx,
            c_dist,
        )
        if unique_all:
            nc = _unique_neighbours(nc, c_idx, c_dist)
        if nc == 0:
            done[a0] = 1
            continue

        recalc = False
        orig0 = np.float32(0.0)
        orig1 = np.float32(0.0)
        orig2 = np.float32(0.0)
        while True:  # RESTART
            _start_polyhedron(
                a0,
                nc,
                rado64,
                rw,
                cx,
                radii,
                c_idx,
                c_dist,
                ai,
                cdist,
                cindex,
                flag,
                seed,
                vecta,
                tmp,
                pxi,
                pdist,
                pplane,
                ev,
                e_start,
                e_end,
                e_pl,
                e_sp,
            )
            edgenum, vn = _walk(
                nc, rado_sq32, ai, flag, pxi, pdist, pplane, ev, e_start, e_end, e_pl, e_sp, e_ep, vtbuf
            )
            if edgenum >= 0:
                break
            if edgenum == -2:  # Vcontacts crashes here; the caller starts over with unique_all
                return out_i[:nout], out_j[:nout], out_a[:nout], a0
            # failsafe: perturb atom zero with glibc rand() and start over
            seed[a0 * 3] = -1
            orig0 = cx[a0, 0]
            orig1 = cx[a0, 1]
            orig2 = cx[a0, 2]
            if rand_used + 3 > rand_state.shape[0] - 345:
                new_state = _glibc_rand_init(2 * (rand_used + 3) + 64)
                for _q in range(rand_used):
                    _glibc_rand(new_state)
                rand_state = new_state
            cx[a0, 0] = _perturb(cx[a0, 0], rand_state)
            cx[a0, 1] = _perturb(cx[a0, 1], rand_state)
            cx[a0, 2] = _perturb(cx[a0, 2], rand_state)
            rand_used += 3
            recalc = True

        nv = _arcs(
            a0,
            nc,
            edgenum,
            vn,
            rado,
            ai,
            flag,
            cindex,
            pxi,
            pdist,
            pplane,
            e_start,
            e_end,
            e_pl,
            e_sp,
            e_ep,
            e_arc,
            arc0,
            arc1,
            cxi,
            cdst,
            seed,
            recalc,
        )
        if recalc:
            cx[a0, 0] = orig0
            cx[a0, 1] = orig1
            cx[a0, 2] = orig2
        _order_faces(nc, nv, rado64, ai, flag, cxi, pxi, pdist, pplane, npts, ptord, cos10x, tmp)
        _calc_areas(
            nc,
            nv,
            rado,
            rado_sq32,
            ai,
            cdist,
            flag,
            cxi,
            cdst,
            pxi,
            pdist,
            pplane,
            npts,
            ptord,
            carea,
            cosnn1,
            cosnz,
            engplane,
            projpt,
            arc0,
            arc1,
            tmp,
            tmp2,
        )

        # ---------------- save_areas ----------------
        done[a0] = 1
        for cai in range(nc):
            if carea[cai] > 0.0 and flag[cai] != _FLAG_X:
                if nout >= out_i.shape[0]:
                    out_i = _grow_i(out_i)
                    out_j = _grow_i(out_j)
                    out_a = _grow_f(out_a)
                out_i[nout] = a0
                out_j[nout] = cindex[cai]
                out_a[nout] = np.float32(carea[cai])
                nout += 1
                j = cindex[cai]
                if done[j] != 1:
                    if npend >= pend_atom.shape[0]:
                        pend_atom = _grow_i(pend_atom)
                        pend_next = _grow_i(pend_next)
                    pend_atom[npend] = a0
                    pend_next[npend] = pend_head[j]
                    pend_head[j] = npend
                    npend += 1

    return out_i[:nout], out_j[:nout], out_a[:nout], np.int64(-1)


@njit(cache=True, error_model="numpy")
def _sort_pairs(n, i, j, a):
    """Counting sort by i, then insertion sort by j within each row (rows hold ~10-20 pairs)."""
    m = i.shape[0]
    start = np.zeros(n + 1, dtype=np.int64)
    for k in range(m):
        start[i[k] + 1] += 1
    for r in range(n):
        start[r + 1] += start[r]
    pos = start[:n].copy()
    oi = np.empty(m, dtype=np.int64)
    oj = np.empty(m, dtype=np.int64)
    oa = np.empty(m, dtype=np.float32)
    for k in range(m):
        p = pos[i[k]]
        oi[p] = i[k]
        oj[p] = j[k]
        oa[p] = a[k]
        pos[i[k]] += 1
    for r in range(n):
        for k in range(start[r] + 1, start[r + 1]):
            jk = oj[k]
            ak = oa[k]
            q = k - 1
            while q >= start[r] and oj[q] > jk:
                oj[q + 1] = oj[q]
                oa[q + 1] = oa[q]
                q -= 1
            oj[q + 1] = jk
            oa[q + 1] = ak
    return oi, oj, oa


@njit(cache=True, error_model="numpy")
def _round_9g(a32, out, fallback):
    """``float("%.9g" % x)`` for float32 ``x`` > 0; marks the rare entries that need exact formatting."""
    for k in range(a32.shape[0]):
        x = np.float64(a32[k])
        if x == 0.0:
            out[k] = 0.0
            continue
        e = int(np.floor(np.log10(abs(x))))
        p = 8 - e
        if p < 0 or p > 22:
            fallback[k] = True
            continue
        y = x * 10.0**p
        if y >= 1e9:
            p -= 1
        elif y < 1e8:
            p += 1
        if p < 0 or p > 22:
            fallback[k] = True
            continue
        scale = 10.0**p
        y = x * scale
        f = np.floor(y)
        frac = y - f
        if abs(frac - 0.5) < 1e-6:
            fallback[k] = True
            continue
        m = f + 1.0 if frac > 0.5 else f
        out[k] = m / scale


def _round_like_vcon(area32: np.ndarray) -> np.ndarray:
    out = np.empty(area32.shape[0], dtype=np.float64)
    fallback = np.zeros(area32.shape[0], dtype=np.bool_)
    _round_9g(area32, out, fallback)
    for k in np.flatnonzero(fallback):
        out[k] = float(f"{float(area32[k]):.9g}")
    return out


def contact_areas(
    coords: np.ndarray,
    radii: np.ndarray,
    *,
    water_radius: float = 1.4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed atom-atom contact areas S(i -> j), exactly as Vcontacts reports them to NRGTEN.

    Parameters
    ----------
    coords : np.ndarray, shape (n, 3)
        Atom coordinates in A. They are rounded to float32 (Vcontacts reads the PDB text into C floats);
        pass coordinates with at most 3 decimals, i.e. what NRGTEN writes (``%8.3f``) into the temporary
        PDB, to reproduce NRGTEN. Coordinates read by biotite (float32) are fine as they are.
    radii : np.ndarray, shape (n,)
        Van der Waals radii in A without the water probe, normally :func:`vcontacts_radii`; rounded to
        float32.
    water_radius : float, keyword-only
        Probe radius (Vcontacts: 1.4 A).

    Returns
    -------
    i, j : np.ndarray, int64, shape (m,)
        Row indices into ``coords`` (0-based), sorted by ``i`` then ``j``.
    area : np.ndarray, float64, shape (m,)
        S(i -> j) in A^2: the part of atom i's sphere of radius ``radii[i] + water_radius`` that faces
        atom j through their radical plane inside i's constrained Voronoi cell (solid angle times radius
        squared). Not symmetric: S(j -> i) is a separate entry, and a pair may be present in one
        direction only. Only positive areas are listed; both covalently bonded and non-bonded
        neighbours are included (Vcontacts runs with ``showbonded = 'Y'``). Each value equals
        ``float("%.9g" % float32(S))``, the number NRGTEN parses from the ``.vcon`` file.

    Notes
    -----
    Atom set and order matter. Vcontacts' result depends on them through its processing order (a 7 A
    grid), its rule that an atom already processed stays a neighbour of a later atom only if it recorded a
    positive area with it, seeded first vertices and stale buffers. Passing the WT miR-125a atoms in
    plain file order instead of NRGTEN's order changes 37 of 20,136 areas, 2 of them by more than 1e-6
    relative (one by 32 %). To reproduce NRGTEN:

    * pass exactly the atoms NRGTEN writes to its temporary PDB (``Macromol.get_pdb_file_as_string``):
      the atoms of ``Macromol.resis`` (atoms that belong to beads), residue by residue in NRGTEN's order,
      the atoms of each residue sorted by atom serial. For RNA, NRGTEN's REDEFINE_RESIS rule moves the
      O3' of residue k into residue k+1 (its phosphate bead), so that O3' is written first among the
      atoms of residue k+1 (its serial is the smallest); the 5' O5' of the first residue and the O3' of
      the last residue belong to no bead and are not written (WT: 1,824 of 1,826 atoms);
    * drop what Vcontacts' reader drops: hydrogens (PDB name column 14 = 'H'), HOH, and alternate
      locations other than ' '/'A' (NRGTEN blanks altloc flags before writing, so normally nothing);
    * coincident atoms (distance exactly 0) are not neighbours of each other.

    NRGTEN keys its surface dict by atom serial, ``sd[serial[i]][serial[j]] = area`` (``i`` is the atom
    whose sphere carries the area, the first column of the ``.vcon`` file). For beads a and b (a < b),
    ``B_ab = max(0, sum over atoms i in a, j in b of S(i->j) e(t_i, t_j) + S(j->i) e(t_j, t_i))``, where a
    missing direction contributes nothing, ``e`` is the interaction matrix and ``t`` the Sobolev atom
    types (atoms without a type contribute nothing).

    Where Vcontacts crashes. On structures under 14 A across, Vcontacts' grid visits some boxes twice and
    lists their atoms twice as neighbours; on some of them (e.g. L92A or Y95A of NRGTEN's 8-residue
    ``test_medium.pdb``) a cell is then started on two copies of one plane and the program dies with a
    segmentation fault. There this function computes every cell again with each neighbour listed once,
    which is what Vcontacts itself gives when its grid is wider: the areas equal, bit for bit, NRGTEN's for
    the same structure with a spectator residue placed 60 A away (tested on all 18 such substitutions of
    ``test_medium.pdb``); on structures Vcontacts survives, nothing changes.

    The first call compiles the numba kernels (about 20 s of CPU, cached on disk afterwards).

    Raises
    ------
    ContactAreaError
        When a cell cannot be closed even with each neighbour listed once (names the atom).
    """
    xyz = np.asarray(coords)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"contact_areas: coords must have shape (n, 3), got {xyz.shape}")
    rad = np.asarray(radii)
    if rad.shape != (xyz.shape[0],):
        raise ValueError(f"contact_areas: radii must have shape ({xyz.shape[0]},), got {rad.shape}")
    if xyz.shape[0] == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), np.empty(0, dtype=np.float64)
    if not np.all(np.isfinite(xyz)):
        raise ValueError("contact_areas: coords contain NaN or infinite values")
    if not np.all(np.isfinite(rad)) or np.any(rad < 0):
        raise ValueError("contact_areas: radii must be finite and non-negative")
    xyz32 = np.ascontiguousarray(xyz, dtype=np.float32)
    rad32 = np.ascontiguousarray(rad, dtype=np.float32)
    i, j, a32, failed = _vcontacts_kernel(xyz32, rad32, float(water_radius), False)
    if failed >= 0:
        # the open cell comes from neighbours listed twice (see _unique_neighbours): list each atom once
        i, j, a32, failed = _vcontacts_kernel(xyz32, rad32, float(water_radius), True)
    if failed >= 0:
        raise ContactAreaError(int(failed), xyz32[failed])
    i, j, a32 = _sort_pairs(xyz32.shape[0], i, j, a32)
    return i, j, _round_like_vcon(a32)
