// Charts of the console: every <canvas data-chart="..."> is drawn with the vendored Chart.js
// from the figures in its attribute (the page's tables and summaries hold the same figures).
// Also: a file upload form with data-progress shows the upload's progress in its <progress>.
(function () {
  const palette = ["#0969da", "#1a7f37", "#bf3989", "#9a6700", "#8250df", "#cf222e",
                   "#0a3069", "#57606a", "#116329"];
  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    const data = JSON.parse(canvas.dataset.chart);
    const kind = data.kind || "bar";
    const stacked = data.stacked === undefined ? kind === "bar" : data.stacked;
    canvas.dataset.drawn = "1";
    new Chart(canvas, {
      type: kind,
      data: {
        labels: data.labels,
        datasets: data.series.map((s, i) => ({
          label: s.name,
          data: s.values,
          backgroundColor: palette[i % palette.length],
          borderColor: palette[i % palette.length],
          borderWidth: kind === "line" ? 2 : 0,
          pointRadius: 0,
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: stacked, ticks: { maxTicksLimit: 12 } },
          y: { stacked: stacked, beginAtZero: true },
        },
        plugins: { legend: { display: data.series.length > 1, position: "bottom" } },
      },
    });
  }
  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", () => drawAll());
  document.addEventListener("htmx:afterSettle", (event) => drawAll(event.target));
  // A refused upload (422) carries the bad lines: show them (htmx swaps only 2xx by default).
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 422 && event.detail.target.dataset.showRefusals) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // htmx reports upload progress on the form that sent it.
  document.addEventListener("htmx:xhr:progress", (event) => {
    const form = event.target.closest("form[data-progress]");
    if (!form || !event.detail.lengthComputable) return;
    const bar = document.getElementById(form.dataset.progress);
    if (bar) bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });
})();
