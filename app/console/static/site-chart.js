// The site page's live chart: the site's load per interval (limit, capacity, plan, measured power), asked
// for again every few seconds (poll.js) and redrawn in place. uPlot is vendored (static/vendor).
(function () {
  "use strict";
  const figure = document.getElementById("site-chart");
  if (!figure || typeof uPlot === "undefined" || typeof smartchargePoll === "undefined") return;
  const src = figure.dataset.src;
  const refreshMs = Number(figure.dataset.refreshS || 2) * 1000;
  const stepped = uPlot.paths.stepped({ align: 1 });
  let plot = null;

  function columns(d) {
    return [d.start, d.limit_kw, d.capacity_kw, d.planned_kw, d.measured_kw];
  }

  function size() {
    return { width: Math.max(320, figure.clientWidth), height: 320 };
  }

  function build(data) {
    const options = Object.assign(size(), {
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{}, { label: "kW" }],
      series: [
        { label: "Time" },
        { label: "Limit", stroke: "#c0392b", width: 2, paths: stepped },
        { label: "Capacity", stroke: "#e67e22", dash: [6, 4], paths: stepped },
        { label: "Planned", stroke: "#2e86de", width: 2, paths: stepped, fill: "rgba(46,134,222,0.12)" },
        { label: "Measured", stroke: "#27ae60", width: 2, paths: stepped, points: { show: true } },
      ],
    });
    plot = new uPlot(options, columns(data), figure);
  }

  function latest(values) {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  }

  function show(data) {
    if (plot === null) build(data);
    else plot.setData(columns(data));
    const measured = data.measured_kw.filter((v) => v !== null);
    figure.dataset.pointsMeasured = String(measured.length);
    const last = latest(data.measured_kw);
    figure.dataset.latestMeasuredKw = last === null ? "" : last.toFixed(1);
    figure.dataset.updatedAt = new Date().toISOString();
  }

  window.addEventListener("resize", () => plot && plot.setSize(size()));
  smartchargePoll(figure, src, refreshMs, show);
})();
