// molgen web app: the round-by-round plots and the rejection funnel (Plotly, vendored).
"use strict";

const layout = (title, extra) =>
  Object.assign({ title: { text: title }, margin: { t: 40, r: 10 }, height: 340 }, extra || {});
const config = { displaylogo: false, responsive: true };

function roundPlots(payload) {
  const s = payload.stats;
  Plotly.newPlot("plot-score", [
    {
      type: "box", name: "score", x: s.rounds, q1: s.score.q1, median: s.score.median,
      q3: s.score.q3, lowerfence: s.score.min, upperfence: s.score.max,
    },
    { type: "scatter", mode: "lines+markers", name: "best so far", x: s.rounds, y: s.best_so_far },
  ], layout("Score by round", { xaxis: { title: { text: "round" }, dtick: 1 } }), config);
  const traces = Object.entries(s.objectives).map(([name, values]) => (
    { type: "scatter", mode: "lines+markers", name, x: s.rounds, y: values }
  ));
  Plotly.newPlot("plot-objectives", traces,
    layout("Median of each objective by round", { xaxis: { title: { text: "round" }, dtick: 1 } }), config);
  if (payload.front) {
    const f = payload.front;
    Plotly.newPlot("plot-front", [{
      type: "scatter", mode: "markers", x: f.x, y: f.y, text: f.smiles,
      marker: { color: f.pareto_rank.map((p) => (p === 1 ? "#e76f51" : "#8fa8c8")) },
    }], layout("Pareto front", {
      xaxis: { title: { text: payload.x } }, yaxis: { title: { text: payload.y } },
    }), config);
  }
}

function funnel(summary) {
  Plotly.newPlot("plot-funnel", [{
    type: "bar", x: summary.map((s) => s.stage), y: summary.map((s) => s.count),
    text: summary.map((s) => s.reasons.map((r) => `${r.count} × ${r.reason}`).join("<br>")),
    hoverinfo: "text",
  }], layout("Rejected inputs per stage"), config);
}

const roundData = document.getElementById("round-data");
if (roundData) roundPlots(JSON.parse(roundData.textContent));
const funnelData = document.getElementById("funnel-data");
if (funnelData) funnel(JSON.parse(funnelData.textContent));
