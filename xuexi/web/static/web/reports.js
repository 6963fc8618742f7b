/* 学习报表: draws the charts of the report pages with ECharts (served by the project, no CDN).
   Data comes from a json_script element named by each chart's data-report-chart attribute
   (no inline script: CSP script-src 'self'). Days never computed are gaps, not zeros. */
(function () {
  "use strict";

  var RED = "#c8161d";
  var GOLD = "#e6a23c";
  var GREY = "#8c8c8c";

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-report-chart"));
    if (!source || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    var narrow = element.clientWidth < 520;
    chart.setOption({
      animation: !reduced,
      color: [RED, GREY, GOLD],
      textStyle: {
        fontFamily: 'system-ui, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
      },
      tooltip: { trigger: "axis" },
      legend: { top: 0, itemGap: narrow ? 8 : 20, textStyle: { fontSize: narrow ? 11 : 12 } },
      grid: { left: narrow ? 36 : 48, right: narrow ? 36 : 56, top: 40, bottom: 28 },
      xAxis: {
        type: "category",
        data: data.days,
        axisLabel: { color: "#666", hideOverlap: true }
      },
      yAxis: [
        { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", color: "#666" } },
        { type: "value", min: 0, splitLine: { show: false }, axisLabel: { color: "#666" } }
      ],
      series: [
        { name: data.labels.participation, type: "line", data: data.participation, connectNulls: false,
          symbolSize: 5, lineStyle: { width: 2.5 } },
        { name: data.labels.coverage, type: "line", data: data.coverage, connectNulls: false,
          symbolSize: 4, lineStyle: { type: "dashed" } },
        { name: data.labels.points_per_member, type: "bar", yAxisIndex: 1, data: data.points_per_member,
          barMaxWidth: 14, itemStyle: { opacity: 0.55 } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    var charts = document.querySelectorAll("[data-report-chart]");
    for (var i = 0; i < charts.length; i += 1) {
      draw(charts[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
