"""Check the release artifacts in a folder: one wheel and one sdist of this version.

The wheel holds the package with ``py.typed`` and the licence, and no tests; the sdist holds
what is needed to rebuild, test and read the package (docs, tests, licence, citation,
changelog). Usage: ``python .ci/check_dist.py DIST``.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from convmat import __version__  # noqa: E402


def main(dist: Path) -> int:
    wheels = sorted(dist.glob("convmat-*.whl"))
    sdists = sorted(dist.glob("convmat-*.tar.gz"))
    problems = []
    if [w.name for w in wheels] != [f"convmat-{__version__}-py3-none-any.whl"]:
        problems.append(f"expected one wheel of {__version__}, found {[w.name for w in wheels]}")
    if [s.name for s in sdists] != [f"convmat-{__version__}.tar.gz"]:
        problems.append(f"expected one sdist of {__version__}, found {[s.name for s in sdists]}")
    if problems:
        print("\n".join(problems))
        return 1
    wheel = set(zipfile.ZipFile(wheels[0]).namelist())
    info = f"convmat-{__version__}.dist-info"
    for name in ("convmat/__init__.py", "convmat/py.typed", "convmat/latex/__init__.py",
                 "convmat/figures/__init__.py", "convmat/networks/__init__.py",
                 "convmat/cli/__init__.py", f"{info}/licenses/LICENSE", f"{info}/METADATA",
                 f"{info}/entry_points.txt"):
        if name not in wheel:
            problems.append(f"the wheel lacks {name}")
    if any(name.startswith(("tests/", "docs/")) for name in wheel):
        problems.append("the wheel carries tests/ or docs/")
    root = f"convmat-{__version__}/"
    sdist = {name.removeprefix(root) for name in tarfile.open(sdists[0]).getnames()}
    for name in ("LICENSE", "README.md", "CHANGELOG.md", "CITATION.cff", "pyproject.toml",
                 "convmat/py.typed", "docs/conf.py", "docs/index.md", "docs/api/index.rst",
                 "docs/img", "tests/conftest.py", "tests/test_docs.py", "tests/engines"):
        if name not in sdist:
            problems.append(f"the sdist lacks {name}")
    source = Path(__file__).resolve().parent.parent
    for folder in ("docs", "tests"):
        tracked = {p.relative_to(source).as_posix() for p in (source / folder).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and "_build" not in p.parts}
        missing = sorted(tracked - sdist)
        if missing:
            problems.append(f"the sdist lacks {len(missing)} files of {folder}/: {missing[:5]}")
    print("\n".join(problems) or f"{wheels[0].name}: {len(wheel)} files; "
                                   f"{sdists[0].name}: {len(sdist)} entries; contents as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
