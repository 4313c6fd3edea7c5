/* The maps: MapLibre GL JS draws a boundary set's vector tiles (one PMTiles archive, read
   by byte ranges) and colours each area by joining the server's spec to the tiles by area
   code, through MapLibre's feature state. See placeportrait_app/map.py for the spec and
   docs/app.md for how tiles are made and cached. Two maps use it: the ward map ("map",
   whose clicks open a ward) and the small areas inside a ward ("inside-map", in the
   portrait, with the ward's outline drawn from the ward set's own tiles).

   A switch of indicator changes only feature states: no geometry is fetched again. Text
   from data files reaches the page only through textContent, never as HTML. */
(function () {
  "use strict";

  const SOURCE = "areas";
  const WARD_SOURCE = "ward";
  const FILL = "areas-fill";
  const HATCH = "areas-no-data";
  const LINE = "areas-outline";
  const HOVER_COLOUR = "#1a1a1a";
  const SELECTED = "areas-selected";
  const WARD_LINE = "ward-outline";
  const TRANSPARENT = "rgba(0,0,0,0)";
  const BLANK = "white-bg";
  const UK = [-8.7, 49.8, 1.8, 60.9];

  function hatchImage() {
    // No data: grey diagonal hatching over the grey fill, as in the legend's swatch.
    const size = 8;
    const data = new Uint8ClampedArray(size * size * 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const on = (x + y) % size < 2;
        data.set(on ? [110, 110, 110, 255] : [0, 0, 0, 0], (y * size + x) * 4);
      }
    }
    return {width: size, height: size, data: data};
  }

  function blankStyle() {
    return {version: 8, sources: {},
            layers: [{id: "background", type: "background",
                      paint: {"background-color": "#ffffff"}}]};
  }

  function absolute(url) {
    return new URL(url, window.location.href).href;
  }

  function line(text, tag) {
    const el = document.createElement(tag || "div");
    el.textContent = text;
    return el;
  }

  function outlineWidth(width) {
    // Hovered: 2 px; shown: the spec's width; areas the spec does not show: none.
    return ["case", ["boolean", ["feature-state", "hover"], false], 2,
            ["boolean", ["feature-state", "shown"], false], width, 0];
  }

  function valuesKey(spec) {
    // A ward click changes only the outline: repainting 8,441 feature states would cost
    // the browser a second on the UK map, so the classes are compared first.
    return [spec.tiles, spec.codes.join(), spec.z.join(), spec.colours.join(),
            spec.line_width].join("|");
  }

  /* One map in the element with id ``containerId``; ``onClick(code)`` for its areas. */
  function makeView(containerId, label, onClick) {
    const view = {
      map: null, ready: false, pending: null, spec: null, tiles: null, viewKey: null,
      index: new Map(), popup: null, hovered: null, drawnAt: null, painted: null,
    };

    function create(container, spec) {
      if (!window.placeportraitProtocol) {
        window.placeportraitProtocol = new pmtiles.Protocol();
        maplibregl.addProtocol("pmtiles", window.placeportraitProtocol.tile);
      }
      const map = new maplibregl.Map({
        container: container,
        style: spec.style && spec.style !== BLANK ? spec.style : blankStyle(),
        bounds: spec.extent || UK, fitBoundsOptions: {padding: 12},
        attributionControl: false, dragRotate: false, pitchWithRotate: false,
        touchPitch: false, maxPitch: 0, renderWorldCopies: false,
      });
      map.touchZoomRotate.disableRotation();
      map.keyboard.disableRotation();
      map.addControl(new maplibregl.NavigationControl({showCompass: false}), "top-right");
      map.getCanvas().setAttribute("aria-label", label);
      view.popup = new maplibregl.Popup({closeButton: false, closeOnClick: false,
                                         maxWidth: "320px", className: "map-hover"});
      map.on("load", function () {
        map.addImage("no-data-hatch", hatchImage());
        view.ready = true;
        if (view.pending) {
          const s = view.pending; view.pending = null; apply(s);
        } else if (spec.tiles) {
          addSources(map, spec);  // the page's start: fetch the tiles while values come
        }
      });
      map.on("mousemove", FILL, hover);
      map.on("mouseleave", FILL, unhover);
      if (onClick) { map.on("click", FILL, click); }
      map.on("idle", function () { view.drawnAt = performance.now(); });
      view.map = map;
    }

    function addSources(map, spec) {
      [WARD_LINE, SELECTED, LINE, HATCH, FILL].forEach(function (id) {
        if (map.getLayer(id)) { map.removeLayer(id); }
      });
      [SOURCE, WARD_SOURCE].forEach(function (id) {
        if (map.getSource(id)) { map.removeSource(id); }
      });
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
      // One line layer draws both the outlines and the hovered area's: every layer costs
      // each tile a pass over all its areas, and a second one cost a tenth of a second.
      map.addLayer(Object.assign({id: LINE, type: "line", paint: {
        "line-color": ["case", ["boolean", ["feature-state", "hover"], false], HOVER_COLOUR,
                       spec.outline_colour],
        "line-width": outlineWidth(spec.line_width),
      }}, layer));
      map.addLayer(Object.assign({id: SELECTED, type: "line",
        filter: ["in", ["get", "code"], ["literal", []]],
        paint: {"line-color": spec.highlight_colour, "line-width": 3.5}}, layer));
      if (spec.ward_tiles) {  // the ward's own outline, from its set's tiles
        map.addSource(WARD_SOURCE, {type: "vector", url: "pmtiles://" + absolute(spec.ward_tiles)});
        map.addLayer({id: WARD_LINE, type: "line", source: WARD_SOURCE,
                      "source-layer": spec.layer, filter: ["==", ["get", "code"], spec.ward],
                      paint: {"line-color": spec.highlight_colour, "line-width": 3}});
      }
      view.tiles = spec.tiles;
      view.lineWidth = spec.line_width;
      view.hovered = null;
      view.painted = null;
    }

    function paint(map, spec) {
      map.removeFeatureState({source: SOURCE, sourceLayer: spec.layer});
      const index = new Map();
      spec.codes.forEach(function (code, i) {
        index.set(code, i);
        const z = spec.z[i];
        map.setFeatureState({source: SOURCE, sourceLayer: spec.layer, id: code},
                            {fill: z > 0 ? spec.colours[z - 1] : spec.no_data_colour,
                             no_data: z === 0, shown: true});
      });
      view.index = index;
      if (spec.line_width !== view.lineWidth) {  // a new expression lays the tiles out again
        map.setPaintProperty(LINE, "line-width", outlineWidth(spec.line_width));
        view.lineWidth = spec.line_width;
      }
    }

    function apply(spec) {
      const map = view.map;
      if (spec.tiles !== view.tiles) { addSources(map, spec); }
      const key = valuesKey(spec);
      if (key !== view.painted) { paint(map, spec); view.painted = key; }
      map.setFilter(SELECTED, ["in", ["get", "code"], ["literal", spec.selected || []]]);
      if (map.getLayer(WARD_LINE)) {
        map.setFilter(WARD_LINE, ["==", ["get", "code"], spec.ward]);
      }
      if (spec.view_key !== view.viewKey) {
        view.viewKey = spec.view_key;
        if (spec.extent) { map.fitBounds(spec.extent, {padding: 12, duration: 0}); }
      }
      view.spec = spec;
      view.popup.remove();
    }

    function setHover(id, on) {
      view.map.setFeatureState({source: SOURCE, sourceLayer: view.spec.layer, id: id},
                               {hover: on});
    }

    function hover(e) {
      const spec = view.spec;
      const feature = e.features && e.features[0];
      const i = feature ? view.index.get(feature.id) : undefined;
      if (view.hovered !== null && view.hovered !== (feature && feature.id)) {
        setHover(view.hovered, false);
        view.hovered = null;
      }
      if (i === undefined) { unhover(); return; }
      view.hovered = feature.id;
      setHover(feature.id, true);
      view.map.getCanvas().style.cursor = onClick ? "pointer" : "";
      const [display, status, note] = spec.hover[i];
      const box = document.createElement("div");
      const name = spec.names[i], code = spec.codes[i];
      box.appendChild(line(name ? name + " (" + code + ")" : code, "strong"));
      box.appendChild(line(display));
      box.appendChild(line(onClick ? "Status: " + status : status));
      if (note) { box.appendChild(line(note, "em")); }
      view.popup.setLngLat(e.lngLat).setDOMContent(box).addTo(view.map);
    }

    function unhover() {
      if (view.hovered !== null && view.spec) { setHover(view.hovered, false); }
      view.hovered = null;
      view.map.getCanvas().style.cursor = "";
      view.popup.remove();
    }

    function click(e) {
      const feature = e.features && e.features[0];
      if (feature && view.index.has(feature.id)) { onClick(feature.id); }
    }

    function ensure(container, spec) {
      if (!view.map || view.map.getContainer() !== container) {
        if (view.map) { view.map.remove(); }  // its element was replaced: free its WebGL
        Object.assign(view, {ready: false, tiles: null, painted: null, pending: null,
                             viewKey: spec.view_key});
        create(container, spec);
      }
    }

    view.draw = function (spec) {
      const container = document.getElementById(containerId);
      if (!spec || !spec.tiles || !container) { return false; }
      ensure(container, spec);
      if (view.ready) { apply(spec); } else { view.pending = spec; }
      return true;
    };

    /* Before any values: the map, its tiles and its view, from what the page says
       (``data-start`` on the container), so that the browser fetches and lays out the
       tiles while the app works out the values; ``draw`` then only colours them. */
    view.start = function (container) {
      if (view.map || !container.dataset.start) { return; }
      let start;
      try { start = JSON.parse(container.dataset.start); } catch (e) { return; }
      if (start && start.tiles) { ensure(container, start); }
    };
    return view;
  }

  /* Start a map as soon as React puts its element, with a start, in the page. */
  function startWhenShown(view, containerId) {
    function look() {
      const container = document.getElementById(containerId);
      if (!container) { return false; }
      view.start(container);
      return true;
    }
    if (look()) { return; }
    const watch = new MutationObserver(function () { if (look()) { watch.disconnect(); } });
    watch.observe(document.body, {childList: true, subtree: true});
  }

  const wardMap = makeView("map",
    "Map of the wards. Arrow keys pan, + and - zoom. The table of wards below the map " +
    "has the same values.",
    function (code) {
      window.dash_clientside.set_props("map-click", {data: {code: code, at: Date.now()}});
    });
  const insideMap = makeView("inside-map",
    "Map of the small areas inside the ward. The table below it has the same values.",
    null);
  startWhenShown(wardMap, "map");
  window.placeportraitMap = wardMap;  // read by the tests and the benchmark
  window.placeportraitInsideMap = insideMap;

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    placeportrait: {
      drawMap: function (spec) {
        return wardMap.draw(spec) ? spec.codes.length : window.dash_clientside.no_update;
      },
      drawInside: function (spec) {
        if (!spec) {
          if (insideMap.map) { insideMap.map.remove(); insideMap.map = null; }
          return null;
        }
        // The section arrives with the panel in the same response: draw once React has
        // put its element in the page.
        let tries = 0;
        (function attempt() {
          if (!insideMap.draw(spec) && tries++ < 60) { requestAnimationFrame(attempt); }
        })();
        return spec.codes.length;
      },
    },
  });
})();
