"""Where the web pages point: the same templates render the live app (``molgen serve``) and
the static report (``molgen report``), which differ only in their links.

:class:`ServerLinks` gives the app's routes. :class:`ReportLinks` gives file names relative
to the report's folder (every page sits in it), and keeps a list of the structure pictures the
pages asked for, which :func:`molgen.web.report.write_report` then draws.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote, urlencode


class ServerLinks:
    """Links of the live app."""

    live = True

    def home(self) -> str:
        return "/"

    def static(self, path: str) -> str:
        return f"/static/{path}"

    def campaign(self, name: str) -> str:
        return f"/campaign/{quote(name, safe='')}"

    def rounds(self, name: str) -> str:
        return f"{self.campaign(name)}/rounds"

    def rejections(self, name: str) -> str:
        return f"{self.campaign(name)}/rejections"

    def candidate(self, name: str, inchikey: str) -> str | None:
        return f"{self.campaign(name)}/candidate/{quote(inchikey, safe='')}"

    def pose(self, name: str, inchikey: str) -> str:
        return f"{self.candidate(name, inchikey)}/pose.sdf"

    def receptor(self, target: str) -> str:
        return f"/receptor/{quote(target, safe='')}.pdb"

    def svg(self, smiles: str, width: int = 280, query: str = "") -> str:
        params = {"smiles": smiles, "width": width, **({"q": query} if query else {})}
        return f"/svg?{urlencode(params)}"


class ReportLinks:
    """Links inside a static report folder.

    Args:
        pages: the InChIKeys that have a candidate page in the report; a link to any other
            candidate is None (the template shows it without a link).
    """

    live = False

    def __init__(self, pages: set[str]) -> None:
        self.pages = pages
        self.structures: dict[str, tuple[str, int]] = {}  # file name -> (SMILES, width)

    def home(self) -> str:
        return "index.html"

    def static(self, path: str) -> str:
        return f"static/{path}"

    def campaign(self, name: str) -> str:
        return "index.html"

    def rounds(self, name: str) -> str:
        return "rounds.html"

    def rejections(self, name: str) -> str:
        return "rejections.html"

    def candidate(self, name: str, inchikey: str) -> str | None:
        return f"candidate-{inchikey}.html" if inchikey in self.pages else None

    def svg(self, smiles: str, width: int = 280, query: str = "") -> str:
        digest = hashlib.sha256(f"{width} {smiles}".encode()).hexdigest()[:20]
        name = f"structures/{digest}.svg"
        self.structures[name] = (smiles, width)
        return name
