// molgen report: the candidate grid of a static report, filtered by ranges (all must hold; a
// missing value is outside any range) and sorted in the page, as `molgen serve` does on the
// server. Values are written with textContent, never as HTML.
"use strict";

const report = JSON.parse(document.getElementById("report-data").textContent);
const form = document.getElementById("filters");
const grid = document.getElementById("grid");
let page = 1;

function number(value) {
  if (value === null || value === undefined) return "—";
  return Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
}

function bound(name) {
  const text = form.elements[name].value.trim();
  return text === "" ? null : Number(text);
}

function selected() {
  const ranges = report.columns
    .map((c) => [c, bound(`min_${c}`), bound(`max_${c}`)])
    .filter(([, low, high]) => low !== null || high !== null);
  const rows = report.rows.filter((r) => ranges.every(([c, low, high]) => {
    const v = r[c];
    if (v === null || v === undefined) return false;
    return (low === null || v >= low) && (high === null || v <= high);
  }));
  const column = document.getElementById("sort").value;
  const sign = document.getElementById("desc").checked ? -1 : 1;
  return rows.sort((a, b) => {
    const x = a[column], y = b[column];
    if (x === y || (x === null && y === null)) return a.rank - b.rank;
    if (x === null) return 1;
    if (y === null) return -1;
    return sign * (x < y ? -1 : 1) || a.rank - b.rank;
  });
}

function cell(row, label, value) {
  const tr = document.createElement("tr");
  const th = document.createElement("th");
  th.textContent = label;
  const td = document.createElement("td");
  td.textContent = number(value);
  tr.append(th, td);
  row.append(tr);
}

function card(r) {
  const div = document.createElement("div");
  div.className = "card";
  div.dataset.inchikey = r.inchikey;
  const title = document.createElement("div");
  title.textContent = `#${r.rank}`;
  const img = document.createElement("img");
  img.src = r.svg;
  img.alt = r.smiles;
  img.width = 280;
  img.height = 210;
  let picture = img;
  if (r.href) {
    picture = document.createElement("a");
    picture.href = r.href;
    picture.append(img);
  }
  const smiles = document.createElement("div");
  smiles.className = "smiles";
  smiles.textContent = r.smiles;
  const values = document.createElement("table");
  values.className = "values";
  cell(values, "score", r.score);
  cell(values, "Pareto", r.pareto_rank);
  for (const o of report.objectives) cell(values, o, r[o]);
  cell(values, "round", r.round);
  div.append(title, picture, smiles, values);
  return div;
}

function draw() {
  const rows = selected();
  const pages = Math.max(1, Math.ceil(rows.length / report.pageSize));
  page = Math.min(Math.max(page, 1), pages);
  const shown = rows.slice((page - 1) * report.pageSize, page * report.pageSize);
  grid.replaceChildren(...shown.map(card));
  document.getElementById("summary").textContent =
    `${rows.length} of ${report.rows.length} candidates in this report`;
  document.getElementById("page").textContent = `page ${page} of ${pages}`;
  document.getElementById("previous").disabled = page <= 1;
  document.getElementById("next").disabled = page >= pages;
}

form.addEventListener("input", () => { page = 1; draw(); });
form.addEventListener("reset", () => setTimeout(() => { page = 1; draw(); }));
document.getElementById("previous").addEventListener("click", () => { page -= 1; draw(); });
document.getElementById("next").addEventListener("click", () => { page += 1; draw(); });
draw();
