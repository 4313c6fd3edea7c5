/* The maps: MapLibre GL JS draws a boundary set's vector tiles (fetched and laid out by
   its worker, one request a tile) and colours each area by joining the server's spec to
   the tiles by area code, through MapLibre's feature state. See placeportrait_app/map.py
   for the spec and docs/app.md for how tiles are made and cached. Two maps use it: the ward map ("map",
   whose clicks open a ward) and the small areas inside a ward ("inside-map", in the
   portrait, with the ward's outline drawn from the ward set's own tiles).

   A switch of indicator changes only feature states: no geometry is fetched again. Text
   from data files reaches the page only through textContent, never as HTML. */
(function () {
  "use strict";

  const SOURCE = "areas";
  const SELECTED_SOURCE = "areas-selected";
  const WARD_SOURCE = "ward";
  const FILL = "areas-fill";
  const HATCH = "areas-no-data";
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
    // MapLibre's worker fetches the tiles, and resolves no path against the page; not
    // through URL(), which would escape the template's braces
    return url.startsWith("/") ? window.location.origin + url : url;
  }

  function vectorSource(tiles, extra) {  // tiles: placeportrait_app.tiles.source
    return Object.assign({type: "vector", tiles: tiles.tiles.map(absolute),
                          minzoom: tiles.minzoom, maxzoom: tiles.maxzoom}, extra || {});
  }

  function tilesKey(spec) {
    return spec.tiles ? spec.tiles.tiles.join() : null;
  }

  function line(text, tag) {
    const el = document.createElement(tag || "div");
    el.textContent = text;
    return el;
  }

  function outlineColour(hex, width) {
    // The fill's own 1 px outline stands in for a line of ``width`` px: a line layer would
    // cost each tile a tessellated pass over all its areas (a quarter of a second on the
    // UK map). Hovered: near black; shown: ``hex`` at opacity ``width``; otherwise none.
    const rgb = [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
    const colour = "rgba(" + rgb.join(",") + "," + Math.min(1, width) + ")";
    return ["case", ["boolean", ["feature-state", "hover"], false], HOVER_COLOUR,
            ["boolean", ["feature-state", "shown"], false], colour, TRANSPARENT];
  }

  function valuesKey(spec) {
    // A ward click changes only the outline: repainting 8,441 feature states would cost
    // the browser a second on the UK map, so the classes are compared first.
    return [tilesKey(spec), spec.codes.join(), spec.z.join(), spec.colours.join(),
            spec.line_width].join("|");
  }

  /* One map in the element with id ``containerId``; ``onClick(code)`` for its areas. */
  function makeView(containerId, label, onClick) {
    const view = {
      map: null, ready: false, pending: null, spec: null, tiles: null, viewKey: null,
      index: new Map(), popup: null, hovered: null, drawnAt: null, painted: null,
      waiting: false, held: null,  // waiting: draws are held (a ward's page, see afterThePanel)
    };

    function create(container, spec) {
      const map = new maplibregl.Map({
        container: container,
        style: spec.style && spec.style !== BLANK ? spec.style : blankStyle(),
        bounds: spec.extent || UK, fitBoundsOptions: {padding: 12},
        attributionControl: false, dragRotate: false, pitchWithRotate: false, fadeDuration: 0,
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
      [WARD_LINE, SELECTED, HATCH, FILL].forEach(function (id) {
        if (map.getLayer(id)) { map.removeLayer(id); }
      });
      [SOURCE, SELECTED_SOURCE, WARD_SOURCE].forEach(function (id) {
        if (map.getSource(id)) { map.removeSource(id); }
      });
      map.addSource(SOURCE, vectorSource(spec.tiles, {promoteId: {[spec.layer]: "code"}}));
      const layer = {source: SOURCE, "source-layer": spec.layer};
      map.addLayer(Object.assign({id: FILL, type: "fill", paint: {
        "fill-color": ["to-color", ["coalesce", ["feature-state", "fill"], TRANSPARENT]],
        "fill-outline-color": outlineColour(spec.outline_colour, spec.line_width),
      }}, layer));
      map.addLayer(Object.assign({id: HATCH, type: "fill", paint: {
        "fill-pattern": "no-data-hatch", "fill-antialias": false,
        "fill-opacity": ["case", ["boolean", ["feature-state", "no_data"], false], 1, 0],
      }}, layer));
      if (spec.ward_tiles) {  // the ward's own outline, from its set's tiles
        map.addSource(WARD_SOURCE, vectorSource(spec.ward_tiles));
        map.addLayer({id: WARD_LINE, type: "line", source: WARD_SOURCE,
                      "source-layer": spec.layer, filter: ["==", ["get", "code"], spec.ward],
                      paint: {"line-color": spec.highlight_colour, "line-width": 3}});
      }
      view.tiles = tilesKey(spec);
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
        map.setPaintProperty(FILL, "fill-outline-color",
                             outlineColour(spec.outline_colour, spec.line_width));
        view.lineWidth = spec.line_width;
      }
    }

    function select(map, spec) {
      // The selected wards' outline reads the same tiles as a source of its own, added at
      // the first selection: a new filter makes MapLibre lay out its source's tiles again,
      // and for this source that is only a test of each area's code, not the fills and
      // outlines of 8,441 wards.
      const filter = ["in", ["get", "code"], ["literal", spec.selected || []]];
      if (map.getLayer(SELECTED)) { map.setFilter(SELECTED, filter); return; }
      if (!(spec.selected || []).length) { return; }
      map.addSource(SELECTED_SOURCE, vectorSource(spec.tiles));
      map.addLayer({id: SELECTED, type: "line", source: SELECTED_SOURCE,
                    "source-layer": spec.layer, filter: filter,
                    paint: {"line-color": spec.highlight_colour, "line-width": 3.5}},
                   map.getLayer(WARD_LINE) ? WARD_LINE : undefined);
    }

    function apply(spec) {
      const map = view.map;
      if (tilesKey(spec) !== view.tiles) { addSources(map, spec); }
      const key = valuesKey(spec);
      if (key !== view.painted) { paint(map, spec); view.painted = key; }
      select(map, spec);
      if (map.getLayer(WARD_LINE)) {
        map.setFilter(WARD_LINE, ["==", ["get", "code"], spec.ward]);
      }
      if (spec.view_key !== view.viewKey) {
        view.viewKey = spec.view_key;
        view.extent = spec.extent;
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

    /* The map draws into a holder element of its own, which the page's element for it
       (React's) takes in: so the map can start before React has drawn the page, and
       outlives React replacing that element (the portrait's, at each ward). */
    function place(container) {
      const size = function () {
        const canvas = view.map.getCanvas();
        return canvas.clientWidth + "x" + canvas.clientHeight;
      };
      const before = size();
      view.holder.removeAttribute("style");
      container.appendChild(view.holder);
      view.map.resize();
      const after = size();
      if (after !== before && view.extent) {
        view.map.fitBounds(view.extent, {padding: 12, duration: 0});
      }
    }

    function ensure(container, spec) {
      if (view.map) {
        if (view.holder.parentNode !== container) { place(container); }
        return;
      }
      Object.assign(view, {ready: false, tiles: null, painted: null, pending: null,
                           viewKey: spec.view_key, extent: spec.extent,
                           holder: document.createElement("div")});
      view.holder.className = "map-holder";
      if (container) {
        container.appendChild(view.holder);
      } else {  // not in the page yet: off screen, at the size the page will give it
        const [width, height] = expectedSize();
        view.holder.style.cssText = "position:absolute;left:-10000px;top:0;" +
          "width:" + width + "px;height:" + height + "px";
        document.body.appendChild(view.holder);
      }
      create(view.holder, spec);
    }

    view.draw = function (spec) {
      if (view.waiting) {  // drawn when released, the newest spec
        view.held = spec;
        return Boolean(spec && spec.tiles);
      }
      const container = document.getElementById(containerId);
      if (!spec || !spec.tiles || !container) { return false; }
      ensure(container, spec);
      if (view.ready) { apply(spec); } else { view.pending = spec; }
      return true;
    };

    /* The map the page starts with: its tiles, view and values, drawn as soon as the map
       has loaded; the first ``draw`` from Dash then brings the same values and changes
       nothing. */
    view.start = function (start) {
      if (!view.map && start && start.tiles) {
        ensure(document.getElementById(containerId), start);
        if (start.codes) { view.pending = start; }
      }
    };
    view.release = function () {
      view.waiting = false;
      const spec = view.held;
      view.held = null;
      if (spec) { view.draw(spec); }
    };
    /* Into the page's element for it, once React has drawn that. */
    view.settle = function () {
      const container = document.getElementById(containerId);
      if (!container) { return false; }
      if (view.map) { ensure(container, null); }
      return true;
    };
    return view;
  }

  function expectedSize() {
    // The ward map's box as the page's style sheet (layout.INDEX) lays it out: <main>'s
    // 1rem padding, two columns (11fr 10fr, 1rem gap) above 1200 px, #map 560 px high
    // with a 1 px border. Only a first guess: a map that is placed at another size fits
    // its view again.
    const page = document.documentElement.clientWidth - 32;
    const column = page > 1200 - 32 ? (page - 16) * 11 / 21 : page;
    return [Math.max(Math.round(column) - 2, 100), 558];
  }

  /* The page's own first map (a JSON script in the index HTML, from
     callbacks.first_map: the spec, the router's state for it and what the map callback
     would record as shown): the map starts as soon as the scripts have run, and moves
     into its element when React has drawn the page. */
  let first = null;

  function startWithThePage(view) {
    const source = document.getElementById("placeportrait-map-start");
    try { first = source && JSON.parse(source.textContent); } catch (e) { first = null; }
    const spec = first && first.spec;
    if (spec && spec.selected && spec.selected.length) {
      view.waiting = true;
      whenThePageHas(panelDrawn, view.release, PANEL_WAIT);
    } else {
      view.start(spec);
    }
    whenThePageHas(function () { return document.getElementById("map") !== null; },
                   function () {
                     view.settle();
                     // Dash's copy of the spec, which later switches patch: the page's own
                     if (spec) { window.dash_clientside.set_props("map-spec", {data: spec}); }
                   });
  }

  /* A ward's own address (or a comparison's): the ward is what was asked for, so its map
     waits until the panel has been drawn (at most PANEL_WAIT ms) rather than take the
     browser's two cores from it; the portrait then shows as soon as without a map. */
  const PANEL_WAIT = 4000;
  const INSIDE_WAIT = 1000;  // the portrait's section comes in the panel's own response

  function panelDrawn() {
    const body = document.getElementById("panel-body");
    return body !== null && body.childElementCount > 0;
  }

  /* ``then()`` once, as soon as ``ready()`` holds as React changes the page (or after
     ``wait`` ms, if given). */
  function whenThePageHas(ready, then, wait) {
    let done = false;
    const watch = new MutationObserver(function () { if (ready()) { go(); } });
    function go() {
      if (done) { return; }
      done = true;
      watch.disconnect();
      then();
    }
    if (ready()) { go(); return; }
    watch.observe(document.body, {childList: true, subtree: true});
    if (wait) { setTimeout(go, wait); }
  }

  function canonical(value) {  // the same state, whatever the order of its keys
    return JSON.stringify(Object.keys(value || {}).sort().map(k => [k, value[k]]));
  }

  /* Dash's request_pre hook (create_app): when the map callback is first asked for the
     very view the page's own map shows, tell it so (``map-shown``), and it answers
     without sending the whole spec again. */
  window.placeportraitRequestPre = function (payload) {
    if (!first || String(payload.output).indexOf("map-spec.data") === -1) { return; }
    const state = (payload.inputs || []).find(i => i.id === "map-state");
    const shown = (payload.state || []).find(s => s.id === "map-shown");
    if (state && shown && shown.value == null && canonical(state.value) === canonical(first.state)) {
      shown.value = first.shown;
    }
    first = null;  // only the first request
  };

  const wardMap = makeView("map",
    "Map of the wards. Arrow keys pan, + and - zoom. The table of wards below the map " +
    "has the same values.",
    function (code) {
      window.dash_clientside.set_props("map-click", {data: {code: code, at: Date.now()}});
    });
  const insideMap = makeView("inside-map",
    "Map of the small areas inside the ward. The table below it has the same values.",
    null);
  if (document.readyState === "loading") {  // MapLibre's script comes after this one
    document.addEventListener("DOMContentLoaded", function () { startWithThePage(wardMap); });
  } else {
    startWithThePage(wardMap);
  }
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
        // put its element in the page (at most INSIDE_WAIT ms).
        whenThePageHas(function () { return document.getElementById("inside-map") !== null; },
                       function () { insideMap.draw(spec); }, INSIDE_WAIT);
        return spec.codes.length;
      },
    },
  });
})();
