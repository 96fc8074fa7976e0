"""Print the requirements an image installs, one per line, from ``pyproject.toml``.

    python3 docker/requirements.py pyproject.toml --extras containers   # every dependency + extras
    python3 docker/requirements.py pyproject.toml --image structure     # a slim image's subset

``--image NAME`` keeps only the dependencies named in ``[tool.dynamotif.images].NAME`` (with the
version ranges of ``[project].dependencies``), so a slim image never drifts from the project's pins.
Standard library only: it runs in the image builder before anything is installed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement line (PEP 503)."""
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not m:
        raise SystemExit(f"requirements: cannot parse {requirement!r}")
    return re.sub(r"[-_.]+", "-", m.group(1)).lower()


def requirements(pyproject: dict, extras: list[str], image: str | None) -> list[str]:
    """The requirement lines for the extras (all dependencies) or for a slim image."""
    project = pyproject["project"]
    if image is None:
        optional = project.get("optional-dependencies", {})
        unknown = [e for e in extras if e not in optional]
        if unknown:
            raise SystemExit(f"requirements: unknown extras {unknown} (pyproject has {sorted(optional)})")
        return list(project["dependencies"]) + [d for e in extras for d in optional[e]]
    images = pyproject.get("tool", {}).get("dynamotif", {}).get("images", {})
    if image not in images:
        raise SystemExit(f"requirements: no image {image!r} in [tool.dynamotif.images] ({sorted(images)})")
    by_name = {_name(d): d for d in project["dependencies"]}
    wanted = [_name(n) for n in images[image]]
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise SystemExit(f"requirements: image {image!r} names {missing}, not in [project].dependencies")
    return [by_name[n] for n in wanted]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pyproject")
    ap.add_argument("--extras", default="", help="comma-separated extras (all dependencies installed)")
    ap.add_argument("--image", help="a slim image of [tool.dynamotif.images]")
    args = ap.parse_args(argv)
    with open(args.pyproject, "rb") as f:
        doc = tomllib.load(f)
    extras = [e for e in args.extras.split(",") if e]
    print("\n".join(requirements(doc, extras, args.image)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
