"""The release's papers agree: one version everywhere, a valid citation, a changelog entry.

``convmat.__version__`` is the single source: the package metadata (pyproject reads it),
``convmat --version``, the documentation website (``docs/conf.py``), ``CITATION.cff`` and
the newest release in ``CHANGELOG.md`` must all say the same.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import runpy
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

import convmat

ROOT = Path(__file__).resolve().parent.parent
VERSION = convmat.__version__
#: the keys CFF 1.2 requires of every citation file
CFF_REQUIRED = ("cff-version", "message", "title", "authors")
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def _citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_version_is_semantic():
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION), VERSION


def test_the_metadata_reads_the_version_from_the_package():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^dynamic = \["version"\]$', text, re.MULTILINE)
    assert 'version = { attr = "convmat.__version__" }' in text
    assert not re.search(r'^version = "', text, re.MULTILINE), "a second, literal version"


def test_installed_metadata_agrees():
    dist = importlib.metadata.distribution("convmat")
    direct = dist.read_text("direct_url.json")
    if direct:
        info = json.loads(direct)
        source = info.get("url", "").removeprefix("file://")
        here = str(Path(convmat.__file__).resolve().parent.parent)
        if info.get("dir_info", {}).get("editable") and Path(source).resolve() != Path(here):
            pytest.skip(f"the installed convmat is an editable install of {source}, "
                        f"not of {here}: its metadata is another checkout's")
    assert dist.version == VERSION
    assert dist.metadata["License-Expression"] == "BSD-3-Clause"


def test_command_line_version_agrees():
    out = subprocess.run([sys.executable, "-m", "convmat", "--version"], capture_output=True,
                         text=True, check=True,
                         cwd=Path(convmat.__file__).resolve().parent.parent)
    assert out.stdout.strip() == f"convmat {VERSION}"


def test_documentation_website_agrees():
    config = runpy.run_path(str(ROOT / "docs" / "conf.py"))
    assert config["release"] == VERSION
    assert VERSION.startswith(config["version"])


def test_citation_is_valid_cff_and_agrees():
    cff = _citation()
    missing = [key for key in CFF_REQUIRED if key not in cff]
    assert missing == []
    assert cff["cff-version"] == "1.2.0"
    assert cff["authors"] and all(
        isinstance(a, dict) and ("name" in a or "family-names" in a) for a in cff["authors"])
    assert str(cff["version"]) == VERSION
    assert cff["license"] == "BSD-3-Clause"
    date.fromisoformat(str(cff["date-released"]))


def test_changelog_newest_release_agrees():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    releases = RELEASE.findall(text)
    assert releases, "no '## [x.y.z] - YYYY-MM-DD' release headings"
    newest, day = releases[0]
    assert newest == VERSION
    assert day == str(_citation()["date-released"])
    versions = [tuple(map(int, v.split("."))) for v, _ in releases]
    assert versions == sorted(versions, reverse=True), "releases are listed newest first"


def test_licence_is_bsd_3_clause_and_gives_away_the_output():
    text = " ".join((ROOT / "LICENSE").read_text(encoding="utf-8").split())
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder" in text
    assert "belongs to whoever generates it" in text


def test_readme_and_docs_name_this_version():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {(page.name, v) for page in pages
             for v in re.findall(r"\bversion (\d+\.\d+\.\d+)", page.read_text(encoding="utf-8"))}
    assert ("README.md", VERSION) in named
    assert {v for _, v in named} == {VERSION}, named
