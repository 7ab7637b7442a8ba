"""The web app: campaigns, a campaign's candidate grid (range filters, substructure search,
sorting, paging, export of a ticked selection), and a candidate page with its docked pose in 3D.

Read-only over the store. Pages are rendered by Jinja2 with autoescaping, so every SMILES,
reason and name is shown as text. With a token, every request must carry it (``?token=``
once, then the cookie it sets, or ``Authorization: Bearer``).
"""

from __future__ import annotations

import csv
import hmac
import io
import math
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from molgen.chem.depict import write_sdf
from molgen.store import CandidateStore, StoreError
from molgen.web import data
from molgen.web.links import ServerLinks
from molgen.web.render import number_text, shown_url, structure_svg

PAGE_SIZE = 24
TOKEN_COOKIE = "molgen_token"


def _float(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise data.QueryError(f"{text!r} is not a number") from None


def create_app(store_url: str, token: str | None = None) -> FastAPI:
    """The app over the store at ``store_url``; ``token`` guards every request when given."""
    store = CandidateStore(store_url)
    web = files("molgen.web")
    templates = Jinja2Templates(directory=str(web / "templates"))
    templates.env.filters["num"] = number_text
    templates.env.globals["to"] = ServerLinks()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="molgen", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.mount("/static", StaticFiles(directory=str(web / "static")), name="static")

    if token:

        @app.middleware("http")
        async def require_token(request: Request, call_next: Any) -> Response:
            given = (
                request.query_params.get("token")
                or request.cookies.get(TOKEN_COOKIE)
                or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            )
            if not given or not hmac.compare_digest(given, token):
                return PlainTextResponse("a valid token is required", status_code=401)
            response = await call_next(request)
            if request.query_params.get("token"):
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
            return response

    def _table(campaign: str) -> data.CandidateTable:
        try:
            return data.candidate_table(store, campaign)
        except StoreError as err:
            raise HTTPException(404, str(err)) from None

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "index.html",
            {"campaigns": data.campaigns(store), "store": shown_url(store.url)},
        )

    @app.get("/campaign/{name}", response_class=HTMLResponse)
    def campaign(request: Request, name: str) -> Response:
        params = request.query_params
        narrowed = params.get("q") or any(
            k.startswith(("min_", "max_")) and v for k, v in params.items()
        )
        by_rank = params.get("sort", "rank") == "rank" and params.get("desc") != "1"
        if not narrowed and by_rank:  # the campaign by rank: read one page, not the campaign
            try:
                page = max(1, int(params.get("page", "1")))
            except ValueError:
                page = 1
            try:
                ranked = data.ranked_page(store, name, page, PAGE_SIZE)
            except StoreError as err:
                raise HTTPException(404, str(err)) from None
            if ranked.total <= data.PREPARE_LIMIT:  # for the filters and searches that may follow
                data.prepare(store, name)
            pages = max(1, math.ceil(ranked.total / PAGE_SIZE))
            return _grid(
                request,
                name,
                params,
                ranked,
                ranked.rows,
                ranked.total,
                ranked.total,
                min(page, pages),
                pages,
                "rank",
                "",
                "",
            )
        table = _table(name)
        ranges = {}
        error = ""
        try:
            for column in table.value_columns:
                low, high = _float(params.get(f"min_{column}")), _float(params.get(f"max_{column}"))
                if low is not None or high is not None:
                    ranges[column] = (low, high)
            sort = params.get("sort", "rank")
            selection = data.select_rows(
                table, ranges, params.get("q", ""), sort, params.get("desc") == "1"
            )
        except data.QueryError as err:
            error = str(err)
            selection = data.select_rows(table, {})
            sort = "rank"
        pages = max(1, math.ceil(selection.total / PAGE_SIZE))
        try:
            page = min(max(1, int(params.get("page", "1"))), pages)
        except ValueError:
            page = 1
        rows = selection.rows.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return _grid(
            request,
            name,
            params,
            table,
            rows.to_dict("records"),
            selection.total,
            len(table.frame),
            page,
            pages,
            sort,
            selection.note,
            error,
            params.get("q", "") if not error else "",
        )

    def _grid(
        request: Request,
        name: str,
        params: Any,
        table: data.CandidateTable | data.RankedPage,
        rows: list[dict[str, Any]],
        total: int,
        n_candidates: int,
        page: int,
        pages: int,
        sort: str,
        note: str,
        error: str = "",
        query: str = "",
    ) -> Response:
        kept = {k: v for k, v in params.items() if k != "page" and v != ""}
        return templates.TemplateResponse(
            request,
            "campaign.html",
            {
                "name": name,
                "columns": table.value_columns,
                "objectives": table.objectives,
                "rows": rows,
                "total": total,
                "n_candidates": n_candidates,
                "note": note,
                "page": page,
                "pages": pages,
                "params": params,
                "query": query,
                "sort": sort,
                "error": error,
                "page_url": lambda p: f"?{urlencode({**kept, 'page': p})}",
                "sort_url": lambda c: (
                    "?"
                    + urlencode(
                        {
                            **kept,
                            "sort": c,
                            "desc": "0" if sort == c and kept.get("desc") == "1" else "1",
                        }
                    )
                ),
            },
        )

    @app.get("/campaign/{name}/rounds", response_class=HTMLResponse)
    def rounds(request: Request, name: str) -> Response:
        return templates.TemplateResponse(request, "rounds.html", data.rounds_view(_table(name)))

    @app.get("/campaign/{name}/rejections", response_class=HTMLResponse)
    def rejections(
        request: Request, name: str, stage: str = "", rule: str = "", page: int = 1
    ) -> Response:
        if not store.has_campaign(name):
            raise HTTPException(404, f"store has no campaign named {name!r}")
        summary = store.rejection_summary(name, reasons=5)
        which = {"stage": stage or None, "rule": rule or None}
        total = store.count_rejections(name, **which)
        pages = max(1, math.ceil(total / 50))
        page = min(max(page, 1), pages)
        rows = store.rejections(name, limit=50, offset=(page - 1) * 50, **which)
        return templates.TemplateResponse(
            request,
            "rejections.html",
            {
                "name": name,
                "summary": summary,
                "rows": rows,
                "stage": stage,
                "rule": rule,
                "page": page,
                "pages": pages,
                "total": total,
                "page_url": lambda p: "?" + urlencode({"stage": stage, "rule": rule, "page": p}),
            },
        )

    @app.get("/campaign/{name}/candidate/{inchikey}", response_class=HTMLResponse)
    def candidate_page(request: Request, name: str, inchikey: str) -> Response:
        table = _table(name)
        found = data.candidate(store, name, inchikey)
        if found is None:
            raise HTTPException(404, f"campaign {name!r} has no candidate {inchikey}")
        return templates.TemplateResponse(
            request,
            "candidate.html",
            {
                "name": name,
                "c": found,
                "docking": found["provenance"].get("docking") or {},
                "neighbours": data.neighbours(table, inchikey),
            },
        )

    @app.get("/campaign/{name}/candidate/{inchikey}/pose.sdf")
    def pose(name: str, inchikey: str) -> Response:
        _table(name)
        found = data.candidate(store, name, inchikey)
        if found is None or not found["poses_sdf"]:
            raise HTTPException(404, "no docked pose")
        return PlainTextResponse(found["poses_sdf"], media_type="chemical/x-mdl-sdfile")

    @app.get("/receptor/{target}.pdb")
    def receptor(target: str) -> Response:
        text = data.receptor_pdb(target)
        if text is None:
            raise HTTPException(404, f"no bundled receptor {target!r}")
        return PlainTextResponse(text, media_type="chemical/x-pdb")

    @app.get("/svg")
    def svg(smiles: str, q: str = "", width: int = 280) -> Response:
        width = min(max(width, 100), 800)
        try:
            text = structure_svg(smiles, q, width, width * 3 // 4)
        except (ValueError, data.QueryError) as err:
            raise HTTPException(400, str(err)) from None
        headers = {"Cache-Control": "max-age=86400"}
        return Response(text, media_type="image/svg+xml", headers=headers)

    def _selected(name: str, keys: list[str]) -> list[dict[str, Any]]:
        table = _table(name)
        wanted = set(keys)
        ranks = sorted(
            int(r)
            for k, r in zip(table.frame["inchikey"], table.frame["rank"], strict=True)
            if k in wanted
        )
        if not ranks:
            raise HTTPException(400, "no candidate ticked")
        rows = store.top(name, ranks[-1])
        return [r for r in rows if r["inchikey"] in wanted]

    async def _ticked(request: Request) -> list[str]:
        """The InChIKeys ticked in the grid's form (``key=...``, URL-encoded)."""
        body = (await request.body()).decode("utf-8", errors="replace")
        return parse_qs(body).get("key", [])

    @app.post("/campaign/{name}/export.csv")
    async def export_csv(request: Request, name: str) -> Response:
        rows = _selected(name, await _ticked(request))
        objectives = sorted({k for r in rows for k in r["objectives"]})
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["rank", "smiles", "inchikey", "score", "pareto_rank", "round", *objectives]
        )
        for r in rows:
            values = [(r["objectives"].get(o) or {}).get("value") for o in objectives]
            writer.writerow(
                [
                    r["rank"],
                    r["smiles"],
                    r["inchikey"],
                    f"{r['score']:.4g}",
                    r["pareto_rank"],
                    r["round"],
                ]
                + ["" if v is None else f"{v:.4g}" for v in values]
            )
        headers = {"Content-Disposition": f'attachment; filename="{name}-selection.csv"'}
        return Response(out.getvalue(), media_type="text/csv", headers=headers)

    @app.post("/campaign/{name}/export.sdf")
    async def export_sdf(request: Request, name: str) -> Response:
        rows = _selected(name, await _ticked(request))
        poses = data.docked_poses(store, rows)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "selection.sdf"
            write_sdf(rows, path, poses)
            text = path.read_text()
        headers = {"Content-Disposition": f'attachment; filename="{name}-selection.sdf"'}
        return Response(text, media_type="chemical/x-mdl-sdfile", headers=headers)

    return app
