// molgen web app and report: the round-by-round plots and the rejection funnel (Plotly, vendored).
"use strict";

const layout = (title, extra) =>
  Object.assign({ title: { text: title }, margin: { t: 40, r: 10 }, height: 340 }, extra || {});
const config = { displaylogo: false, responsive: true };

function frontPlot(front, x, y) {
  const xs = front.values[x], ys = front.values[y];
  const keep = xs.map((v, i) => v !== null && ys[i] !== null);
  const pick = (a) => a.filter((_, i) => keep[i]);
  Plotly.react("plot-front", [{
    type: "scatter", mode: "markers", x: pick(xs), y: pick(ys), text: pick(front.smiles),
    marker: { color: pick(front.pareto_rank).map((p) => (p === 1 ? "#e76f51" : "#8fa8c8")) },
  }], layout("Pareto front", {
    xaxis: { title: { text: x } }, yaxis: { title: { text: y } },
  }), config);
}

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
    const xSelect = document.getElementById("front-x");
    const ySelect = document.getElementById("front-y");
    const draw = () => frontPlot(payload.front, xSelect.value, ySelect.value);
    xSelect.addEventListener("change", draw);
    ySelect.addEventListener("change", draw);
    draw();
  }
}

// One bar per stage, and beside it one per filter or input-policy rule of that stage.
function funnel(summary) {
  const bars = [];
  for (const s of summary) {
    bars.push({ label: s.stage, count: s.count, hover: s.reasons.map((r) => `${r.count} × ${r.reason}`) });
    for (const r of s.rules) {
      bars.push({ label: `${s.stage}: ${r.rule}`, count: r.count, hover: [`${r.count} refused by ${r.rule}`] });
    }
  }
  Plotly.newPlot("plot-funnel", [{
    type: "bar", orientation: "h", y: bars.map((b) => b.label), x: bars.map((b) => b.count),
    text: bars.map((b) => b.hover.join("<br>")), hoverinfo: "text", textposition: "none",
    marker: { color: bars.map((b) => (b.label.includes(": ") ? "#8fa8c8" : "#1d3557")) },
  }], layout("Rejected inputs per stage and filter", {
    yaxis: { autorange: "reversed", automargin: true },
    height: Math.max(240, 60 + 28 * bars.length),
  }), config);
}

const roundData = document.getElementById("round-data");
if (roundData) roundPlots(JSON.parse(roundData.textContent));
const funnelData = document.getElementById("funnel-data");
if (funnelData) funnel(JSON.parse(funnelData.textContent));
