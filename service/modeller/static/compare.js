// Comparison page: the newer version's diagram with added and changed elements coloured.
(function () {
  const viewer = new BpmnJS({ container: '#diagram' });
  const markers = JSON.parse(document.getElementById('markers').textContent);
  viewer.importXML(JSON.parse(document.getElementById('new-xml').textContent)).then(() => {
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    canvas.zoom('fit-viewport');
    Object.entries(markers).forEach(([id, kind]) => {
      if (registry.get(id)) canvas.addMarker(id, 'diff-' + kind);
    });
    document.body.dataset.diagramReady = 'true';
  });
})();
