// Live sending progress of a training notice (Server-Sent Events from the console).
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !window.EventSource) { return; }
  var source = new EventSource(box.getAttribute("data-events"));
  function set(id, value) { var el = document.getElementById(id); if (el) { el.textContent = String(value); } }
  source.addEventListener("progress", function (event) {
    var p = JSON.parse(event.data);
    set("sent", p.sent); set("queued", p.queued); set("failed", p.failed); set("total", p.total);
    set("percent", p.percent);
    document.getElementById("bar").value = p.percent;
    if (p.done) { source.close(); }
  });
})();
