// Heat map: per element passed / waiting / median / p90 as overlays, coloured by how many wait there.
(function () {
  const viewer = new BpmnJS({ container: '#diagram' });
  const figures = JSON.parse(document.getElementById('figures-data').textContent);
  viewer.importXML(JSON.parse(document.getElementById('new-xml').textContent)).then(() => {
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    const overlays = viewer.get('overlays');
    canvas.zoom('fit-viewport');
    const most = Math.max(1, ...Object.values(figures).map((f) => f.passed));
    Object.entries(figures).forEach(([id, f]) => {
      if (!registry.get(id)) return;
      const html = document.createElement('div');
      html.className = 'heat-overlay';
      html.style.background = `rgba(220, 60, 30, ${0.25 + 0.75 * f.passed / most})`;
      const time = f.median_hours === null ? '' : ` · median ${f.median_hours} h · p90 ${f.p90_hours} h`;
      html.textContent = `${f.passed} passerat · ${f.waiting} väntar${time}`;
      overlays.add(id, 'heat', { position: { top: -22, left: 0 }, html });
      if (f.waiting) canvas.addMarker(id, 'heat-waiting');
    });
    document.body.dataset.diagramReady = 'true';
  });
})();
