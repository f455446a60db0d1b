// A transaction's meter values as four small charts (energy, power, current per phase, state of charge),
// drawn with the vendored uPlot from /transactions/{id}/meter-values.json; an active transaction's charts
// ask for new samples every few seconds (poll.js). A chart without any sample says so instead of drawing.
(function () {
  "use strict";
  const box = document.getElementById("transaction-charts");
  if (!box || typeof uPlot === "undefined" || typeof smartchargePoll === "undefined") return;
  const src = box.dataset.src;
  const refreshMs = Number(box.dataset.refreshS || 0) * 1000;
  const CHARTS = {
    energy: { unit: "kWh", series: [["energy_kwh", "Energy", "#2e86de"]] },
    power: { unit: "kW", series: [["power_kw", "Power", "#27ae60"]] },
    current: {
      unit: "A",
      series: [
        ["current_l1_a", "L1", "#8e44ad"],
        ["current_l2_a", "L2", "#e67e22"],
        ["current_l3_a", "L3", "#7f8c8d"],
        ["current_a", "Current", "#c0392b"],
      ],
    },
    soc: { unit: "%", series: [["soc_percent", "SoC", "#16a085"]] },
  };
  const plots = {};

  function counted(values) {
    return values.filter((v) => v !== null && v !== undefined).length;
  }

  function draw(figure, name, data) {
    const chart = CHARTS[name];
    const present = chart.series.filter(([key]) => counted(data[key] || []) > 0);
    const points = present.reduce((sum, [key]) => sum + counted(data[key]), 0);
    figure.dataset.points = String(points);
    figure.dataset.series = present.map(([, label]) => label).join(",");
    if (points === 0) {
      figure.classList.add("empty");
      return;
    }
    figure.classList.remove("empty");
    const columns = [data.time].concat(present.map(([key]) => data[key]));
    const key = name + ":" + figure.dataset.series;
    if (plots[name] && plots[name].key === key) {
      plots[name].plot.setData(columns);
      return;
    }
    if (plots[name]) plots[name].plot.destroy();
    const options = {
      width: Math.max(300, figure.clientWidth - 16),
      height: 200,
      scales: { x: { time: true } },
      axes: [{}, { label: chart.unit }],
      series: [{ label: "Time" }].concat(
        present.map(([, label, colour]) => ({ label: label, stroke: colour, width: 2, spanGaps: true, points: { show: true } }))
      ),
    };
    plots[name] = { key: key, plot: new uPlot(options, columns, figure) };
  }

  function show(data) {
    for (const figure of box.querySelectorAll("figure[data-chart]")) draw(figure, figure.dataset.chart, data);
    box.dataset.samples = String(data.time.length);
  }

  smartchargePoll(box, src, refreshMs, show);
})();
