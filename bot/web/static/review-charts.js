// The review dashboard's cohort charts (Chart.js 4, served by the app).
// The data comes from <script type="application/json" id="chart-data">; a
// click on a bar opens the conversation list (or the search) filtered to it.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var palette = ["#2f6fde", "#e0a100", "#2a9d8f", "#c4473a", "#7b61ff", "#5b8c5a", "#d96aa7", "#8d6e63", "#00838f", "#9e9d24"];

  function go(target) {
    if (!target) return;
    var path = target.search ? "/review/search?" : "/review/conversations?";
    window.location.assign(path + new URLSearchParams(target.search || target.filters).toString());
  }

  function bars(id, items, horizontal) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: items.map(function (b) { return b.label; }),
        datasets: [{ data: items.map(function (b) { return b.value; }), backgroundColor: palette[0] }]
      },
      options: {
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: { x: { ticks: { precision: 0 } }, y: { ticks: { precision: 0 } } },
        onClick: function (event, elements) { if (elements.length) go(items[elements[0].index]); },
        onHover: function (event, elements) { event.native.target.style.cursor = elements.length ? "pointer" : "default"; }
      }
    });
  }

  bars("funnel", data.funnel, false);
  bars("stopped", data.stopped, true);
  bars("trouble", data.trouble, true);
  bars("turns", data.turns, false);
  bars("minutes", data.minutes, false);

  var types = document.getElementById("types");
  if (types) {
    new Chart(types, {
      type: "bar",
      data: {
        labels: data.types.kinds,
        datasets: data.types.series.map(function (s, i) {
          return { label: s.label, data: s.values, backgroundColor: palette[i % palette.length] };
        })
      },
      options: {
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, ticks: { precision: 0 } } },
        onClick: function (event, elements) {
          if (!elements.length) return;
          var series = data.types.series[elements[0].datasetIndex];
          go({ filters: series.filters[elements[0].index] });
        }
      }
    });
  }
})();
