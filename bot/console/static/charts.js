// The dashboard's charts (Apache ECharts, served locally). The figures come from the page itself
// (a JSON block the server wrote); every chart also has its table on the page.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var green = ["#2e7d32", "#66bb6a", "#a5d6a7", "#1b5e20", "#81c784"];
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });  // canvas: the CSP allows no style attributes
    option.color = green;
    option.tooltip = { trigger: "axis" };
    option.grid = { left: 48, right: 16, top: 24, bottom: 64, containLabel: true };
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  draw("chart-months", {
    xAxis: { type: "category", data: data.months.map(function (m) { return m[0]; }) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "line", smooth: true, areaStyle: {}, data: data.months.map(function (m) { return m[1]; }) }]
  });
  draw("chart-fields", {
    xAxis: { type: "category", data: data.fields.map(function (f) { return f[0]; }), axisLabel: { rotate: 35 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: data.fields.map(function (f) { return f[1]; }) }]
  });
  draw("chart-cities", {
    xAxis: { type: "category", data: data.cities.map(function (c) { return c[0]; }), axisLabel: { rotate: 45, interval: 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: data.cities.map(function (c) { return c[1]; }) }]
  });
})();
