// mailjet-elt report: draws each chart from the JSON in #report-data with Chart.js, then marks the page
// ready (document.body.dataset.charts = how many were drawn). No animation: a chart is whole once drawn.
(function () {
  "use strict";
  var palette = ["#2f6fdf", "#e3873b", "#3aa17e", "#c4493f", "#8a63c7", "#6b7280", "#d9b310"];
  var specs = JSON.parse(document.getElementById("report-data").textContent);
  var drawn = 0;

  function percent(value) {
    return value === null || value === undefined ? "\u2013" : Number(value).toFixed(1) + " %";
  }

  function options(spec) {
    var axis = spec.horizontal ? "y" : "x";
    var value = spec.horizontal ? "x" : "y";
    var scales = {};
    if (spec.type !== "doughnut") {
      scales[axis] = { stacked: spec.stacked, ticks: { autoSkip: true, maxRotation: 60 } };
      scales[value] = { stacked: spec.stacked, beginAtZero: true };
      if (spec.percent) {
        scales[value].ticks = { callback: percent };
      }
    }
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: axis,
      scales: scales,
      plugins: {
        legend: { position: "bottom" },
        tooltip: spec.percent ? { callbacks: { label: function (item) {
          return item.dataset.label + ": " + percent(item.raw);
        } } } : {}
      }
    };
  }

  specs.forEach(function (spec) {
    var canvas = document.getElementById("chart-" + spec.id);
    var many = spec.type === "doughnut";
    var datasets = spec.series.map(function (series, i) {
      return {
        label: series.label,
        data: series.data,
        borderWidth: many ? 1 : 0,
        backgroundColor: many ? palette.slice(0, series.data.length) : palette[i % palette.length]
      };
    });
    new Chart(canvas, { type: spec.type, data: { labels: spec.labels, datasets: datasets }, options: options(spec) });
    drawn += 1;
  });
  document.body.dataset.charts = String(drawn);
})();
