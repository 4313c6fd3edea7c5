/* The ward map: MapLibre GL JS draws the boundary set's vector tiles (one PMTiles archive,
   read by byte ranges) and colours each area by joining the server's map spec to the
   tiles by area code, through MapLibre's feature state. See placeportrait_app/map.py for
   the spec and docs/app.md for how tiles are made and cached.

   A switch of indicator changes only feature states: no geometry is fetched again. Text
   from data files reaches the page only through textContent, never as HTML. */
(function () {
  "use strict";

  const SOURCE = "areas";
  const FILL = "areas-fill";
  const HATCH = "areas-no-data";
  const LINE = "areas-outline";
  const HOVER_LINE = "areas-hover";
  const SELECTED = "areas-selected";
  const TRANSPARENT = "rgba(0,0,0,0)";
  const BLANK = "white-bg";

  const view = {
    map: null, ready: false, pending: null, spec: null, tiles: null, viewKey: null,
    index: new Map(), popup: null, hovered: null, drawnAt: null, painted: null,
  };
  window.placeportraitMap = view;  // read by the tests and the benchmark

  function hatchImage() {
    // No data: grey diagonal hatching over the grey fill, as in the legend's swatch.
    const size = 8;
    const data = new Uint8ClampedArray(size * size * 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const on = (x + y) % size < 2;
        const i = (y * size + x) * 4;
        data.set(on ? [110, 110, 110, 255] : [0, 0, 0, 0], i);
      }
    }
    return {width: size, height: size, data: data};
  }

  function blankStyle() {
    return {version: 8, sources: {},
            layers: [{id: "background", type: "background",
                      paint: {"background-color": "#ffffff"}}]};
  }

  function create(container, spec) {
    if (!window.placeportraitProtocol) {
      window.placeportraitProtocol = new pmtiles.Protocol();
      maplibregl.addProtocol("pmtiles", window.placeportraitProtocol.tile);
    }
    const map = new maplibregl.Map({
      container: container,
      style: spec.style && spec.style !== BLANK ? spec.style : blankStyle(),
      bounds: spec.extent || [-8.7, 49.8, 1.8, 60.9],
      fitBoundsOptions: {padding: 12},
      attributionControl: false, dragRotate: false, pitchWithRotate: false,
      touchPitch: false, maxPitch: 0, renderWorldCopies: false,
      cooperativeGestures: false,
    });
    map.touchZoomRotate.disableRotation();
    map.keyboard.disableRotation();
    map.addControl(new maplibregl.NavigationControl({showCompass: false}), "top-right");
    map.getCanvas().setAttribute("aria-label",
      "Map of the wards. Arrow keys pan, + and - zoom. The table of wards below the map " +
      "has the same values.");
    view.popup = new maplibregl.Popup({closeButton: false, closeOnClick: false,
                                       maxWidth: "320px", className: "map-hover"});
    map.on("load", function () {
      map.addImage("no-data-hatch", hatchImage());
      view.ready = true;
      if (view.pending) { const s = view.pending; view.pending = null; apply(s); }
    });
    map.on("mousemove", FILL, hover);
    map.on("mouseleave", FILL, unhover);
    map.on("click", FILL, click);
    map.on("idle", function () { view.drawnAt = performance.now(); });
    view.map = map;
    return map;
  }

  function absolute(url) {
    return new URL(url, window.location.href).href;
  }

  function addSource(map, spec) {
    [SELECTED, HOVER_LINE, LINE, HATCH, FILL].forEach(function (id) {
      if (map.getLayer(id)) { map.removeLayer(id); }
    });
    if (map.getSource(SOURCE)) { map.removeSource(SOURCE); }
    map.addSource(SOURCE, {type: "vector", url: "pmtiles://" + absolute(spec.tiles),
                           promoteId: {[spec.layer]: "code"}});
    const layer = {source: SOURCE, "source-layer": spec.layer};
    map.addLayer(Object.assign({id: FILL, type: "fill", paint: {
      "fill-color": ["to-color", ["coalesce", ["feature-state", "fill"], TRANSPARENT]],
      "fill-antialias": false,
    }}, layer));
    map.addLayer(Object.assign({id: HATCH, type: "fill", paint: {
      "fill-pattern": "no-data-hatch",
      "fill-opacity": ["case", ["boolean", ["feature-state", "no_data"], false], 1, 0],
    }}, layer));
    map.addLayer(Object.assign({id: LINE, type: "line", paint: {
      "line-color": spec.outline_colour,
      "line-width": spec.line_width,
      "line-opacity": ["case", ["boolean", ["feature-state", "shown"], false], 1, 0],
    }}, layer));
    map.addLayer(Object.assign({id: HOVER_LINE, type: "line", paint: {
      "line-color": "#1a1a1a", "line-width": 2,
      "line-opacity": ["case", ["boolean", ["feature-state", "hover"], false], 1, 0],
    }}, layer));
    map.addLayer(Object.assign({id: SELECTED, type: "line",
      filter: ["in", ["get", "code"], ["literal", []]],
      paint: {"line-color": spec.highlight_colour, "line-width": 3.5}}, layer));
    view.tiles = spec.tiles;
    view.hovered = null;
  }

  function colour(spec, z) {
    return z > 0 ? spec.colours[z - 1] : spec.no_data_colour;
  }

  function paint(map, spec) {
    const target = {source: SOURCE, sourceLayer: spec.layer};
    map.removeFeatureState(target);
    const index = new Map();
    spec.codes.forEach(function (code, i) {
      index.set(code, i);
      const z = spec.z[i];
      map.setFeatureState({source: SOURCE, sourceLayer: spec.layer, id: code},
                          {fill: colour(spec, z), no_data: z === 0, shown: true});
    });
    view.index = index;
    map.setPaintProperty(LINE, "line-width", spec.line_width);
  }

  function valuesKey(spec) {
    // A ward click changes only the outline: repainting 8,441 feature states would cost
    // the browser a second on the UK map, so the classes are compared first.
    return [spec.tiles, spec.codes.join(), spec.z.join(), spec.colours.join(),
            spec.line_width].join("|");
  }

  function apply(spec) {
    const map = view.map;
    if (spec.tiles !== view.tiles) { addSource(map, spec); view.painted = null; }
    const key = valuesKey(spec);
    if (key !== view.painted) { paint(map, spec); view.painted = key; }
    map.setFilter(SELECTED, ["in", ["get", "code"], ["literal", spec.selected || []]]);
    if (spec.view_key !== view.viewKey) {
      view.viewKey = spec.view_key;
      if (spec.extent) { map.fitBounds(spec.extent, {padding: 12, duration: 0}); }
    }
    view.spec = spec;
    view.popup.remove();
  }

  function line(text, tag) {
    const el = document.createElement(tag || "div");
    el.textContent = text;
    return el;
  }

  function hover(e) {
    const spec = view.spec;
    const feature = e.features && e.features[0];
    const i = feature ? view.index.get(feature.id) : undefined;
    const map = view.map;
    if (view.hovered !== null && view.hovered !== (feature && feature.id)) {
      map.setFeatureState({source: SOURCE, sourceLayer: spec.layer, id: view.hovered},
                          {hover: false});
      view.hovered = null;
    }
    if (i === undefined) { unhover(); return; }
    view.hovered = feature.id;
    map.setFeatureState({source: SOURCE, sourceLayer: spec.layer, id: feature.id},
                        {hover: true});
    map.getCanvas().style.cursor = "pointer";
    const [display, status, note] = spec.hover[i];
    const box = document.createElement("div");
    box.appendChild(line(spec.names[i], "strong"));
    box.appendChild(line(display));
    box.appendChild(line("Status: " + status));
    if (note) { box.appendChild(line(note, "em")); }
    view.popup.setLngLat(e.lngLat).setDOMContent(box).addTo(map);
  }

  function unhover() {
    const map = view.map;
    if (view.hovered !== null && view.spec) {
      map.setFeatureState({source: SOURCE, sourceLayer: view.spec.layer, id: view.hovered},
                          {hover: false});
    }
    view.hovered = null;
    map.getCanvas().style.cursor = "";
    view.popup.remove();
  }

  function click(e) {
    const feature = e.features && e.features[0];
    if (!feature || !view.index.has(feature.id)) { return; }
    window.dash_clientside.set_props("map-click", {data: {code: feature.id, at: Date.now()}});
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    placeportrait: {
      drawMap: function (spec) {
        if (!spec || !spec.tiles) { return window.dash_clientside.no_update; }
        const container = document.getElementById("map");
        if (!view.map || view.map.getContainer() !== container) {
          view.ready = false;
          view.tiles = null;
          view.painted = null;
          view.viewKey = spec.view_key;
          create(container, spec);
        }
        if (view.ready) { apply(spec); } else { view.pending = spec; }
        return spec.codes.length;
      },
    },
  });
})();
