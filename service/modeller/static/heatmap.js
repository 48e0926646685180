// Heat map: per element a small badge at its top-right corner (passed · waiting), coloured by how many passed;
// the full figures are in the badge's title and the table. Badges are moved up until none covers another
// badge or an element's label.
(function () {
  const viewer = new BpmnJS({ container: '#diagram' });
  const figures = JSON.parse(document.getElementById('figures-data').textContent);
  const LEVELS = 4;

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  function labelBoxes() {
    // Every text the diagram draws: element names inside shapes and the external labels of events and gateways.
    return Array.from(document.querySelectorAll('#diagram .djs-element text'))
      .map((text) => text.getBoundingClientRect()).filter((box) => box.width > 0);
  }

  function separate(badges) {
    const taken = labelBoxes();
    badges.forEach((badge) => {
      let shift = 0;
      let box = badge.getBoundingClientRect();
      for (let tries = 0; tries < 20 && taken.some((other) => overlaps(box, other)); tries += 1) {
        shift -= box.height + 2;
        badge.style.transform = `translateY(${shift}px)`;
        box = badge.getBoundingClientRect();
      }
      taken.push(box);
    });
  }

  viewer.importXML(JSON.parse(document.getElementById('new-xml').textContent)).then(() => {
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    const overlays = viewer.get('overlays');
    canvas.zoom('fit-viewport');
    const most = Math.max(1, ...Object.values(figures).map((f) => f.passed));
    const badges = [];
    Object.entries(figures).forEach(([id, f]) => {
      if (!registry.get(id)) return;
      const html = document.createElement('div');
      const level = Math.min(LEVELS, 1 + Math.floor((LEVELS * f.passed) / (most + 1)));
      html.className = `heat-overlay heat-level-${level}`;
      html.dataset.elementId = id;
      html.textContent = f.waiting ? `${f.passed} · ${f.waiting} väntar` : `${f.passed}`;
      const time = f.median_hours === null ? '' : ` · median ${f.median_hours} h · p90 ${f.p90_hours} h`;
      html.title = `${f.label}: ${f.passed} passerat · ${f.waiting} väntar${time}`;
      overlays.add(id, 'heat', { position: { top: -14, right: 12 }, html });
      badges.push(html);
      if (f.waiting) canvas.addMarker(id, 'heat-waiting');
    });
    requestAnimationFrame(() => {
      separate(badges);
      document.body.dataset.diagramReady = 'true';
    });
  });
})();
