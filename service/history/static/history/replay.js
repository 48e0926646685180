// Step through an instance's history on its own BPMN diagram. The server computed every step's element
// states and case data (history/case.html embeds them as JSON); this file only draws them.
(function () {
  "use strict";
  var script = document.currentScript;
  var instances = JSON.parse(document.getElementById("replay-json").textContent);
  var diagramUrl = script.getAttribute("data-diagram-url");
  var MARKERS = ["completed", "active", "cancelled", "escalated"];
  var viewer = new BpmnJS({ container: "#replay-canvas" });
  var slider = document.getElementById("replay-slider");
  var select = document.getElementById("replay-instance");
  var current = null;
  var stepIndex = 0;
  var marked = [];

  function clearMarkers() {
    var canvas = viewer.get("canvas");
    marked.forEach(function (pair) { canvas.removeMarker(pair[0], pair[1]); });
    marked = [];
  }

  function mark(elementId, kind) {
    var registry = viewer.get("elementRegistry");
    if (!registry.get(elementId)) { return; }
    viewer.get("canvas").addMarker(elementId, "replay-" + kind);
    marked.push([elementId, "replay-" + kind]);
  }

  function showData(step) {
    var body = document.querySelector("#replay-data tbody");
    body.textContent = "";
    Object.keys(step.data).sort().forEach(function (key) {
      var row = body.insertRow();
      row.insertCell().textContent = key;
      var value = step.data[key];
      row.insertCell().textContent = typeof value === "string" ? value : JSON.stringify(value);
    });
    var changes = document.getElementById("replay-changes");
    changes.textContent = "";
    step.changes.forEach(function (change) {
      var item = document.createElement("li");
      item.textContent = change.key + ": " + JSON.stringify(change.before) + " → " + JSON.stringify(change.after);
      changes.appendChild(item);
    });
  }

  function show(index) {
    if (!current || !current.steps.length) { return; }
    stepIndex = Math.max(0, Math.min(index, current.steps.length - 1));
    var step = current.steps[stepIndex];
    clearMarkers();
    // Escalated and cancelled win over completed: drawn last, and their colour is the one that shows.
    step.completed.forEach(function (id) { mark(id, "completed"); });
    step.active.forEach(function (id) { mark(id, "active"); });
    step.cancelled.forEach(function (id) { mark(id, "cancelled"); });
    step.escalated.forEach(function (id) { mark(id, "escalated"); });
    slider.value = String(stepIndex + 1);
    document.getElementById("replay-step").textContent = "Steg " + (stepIndex + 1) + " av " + current.steps.length +
      ": " + step.label + " (" + step.when + ", " + step.actor + ", händelse " + step.seq + ")";
    document.getElementById("replay-canvas").setAttribute("data-step", String(stepIndex + 1));
    showData(step);
  }

  function load(index) {
    current = instances[index];
    var stopped = document.getElementById("replay-stopped");
    stopped.hidden = !current.stopped;
    stopped.textContent = current.stopped ? "Uppspelningen stannade: " + current.stopped : "";
    slider.max = String(Math.max(1, current.steps.length));
    fetch(diagramUrl.replace(/0\.bpmn$/, current.instance_id + ".bpmn"), { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        marked = [];
        viewer.get("canvas").zoom("fit-viewport");
        show(current.steps.length - 1);
        document.getElementById("replay-canvas").setAttribute("data-ready", String(current.instance_id));
      });
  }

  document.getElementById("replay-first").addEventListener("click", function () { show(0); });
  document.getElementById("replay-back").addEventListener("click", function () { show(stepIndex - 1); });
  document.getElementById("replay-forward").addEventListener("click", function () { show(stepIndex + 1); });
  document.getElementById("replay-last").addEventListener("click", function () { show(current.steps.length - 1); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10) - 1); });
  select.addEventListener("change", function () { load(parseInt(select.value, 10)); });
  if (instances.length) { load(0); }
}());
