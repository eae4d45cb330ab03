/*
 * westplan maps: fills the Folium layer groups of a plan's map from the page's JSON document.
 *
 * Every user-provided string (names, ids, categories) reaches the page as a DOM text node
 * (textContent), never as HTML, so a name holding markup (an img tag with an onerror
 * handler, say) shows as text. Every text of the page's own (control names, legend titles,
 * popup fields) comes from the document's "labels" (maps/labels.py), never from this file.
 * window.westplan exposes the Leaflet layers and the counts drawn, for tests and debugging.
 */
(function () {
  "use strict";

  var T = {};  // the page's labels, set by westplanMap

  /* The name of a post category: its label, else the code as written. */
  function category(code) {
    var key = "category_" + code;
    return Object.prototype.hasOwnProperty.call(T, key) ? T[key] : code;
  }

  /* A label with its "{}" places filled by value. */
  function fmt(text, value) {
    return String(text).split("{}").join(String(value));
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  /* A popup or tooltip: a bold title and a two-column table, all text nodes. */
  function card(title, rows) {
    var box = el("div", null, "wp-card");
    box.appendChild(el("div", title, "wp-title"));
    var table = el("table", null, "wp-table");
    rows.forEach(function (row) {
      if (row[1] === undefined || row[1] === null || row[1] === "") return;
      var tr = table.insertRow();
      tr.appendChild(el("th", row[0]));
      tr.appendChild(el("td", row[1]));
    });
    box.appendChild(table);
    return box;
  }

  function num(v) {
    return v === undefined || v === null ? "" : Number(v).toLocaleString("en-US");
  }

  function pct(v) {
    return v === undefined || v === null ? "" : (100 * v).toFixed(0) + "%";
  }

  var NO_DATA = "#d9d9d9";
  var FLOW = "#111111";  /* recruitment flows: dark and dashed, no category's colour */

  function countyCard(p) {
    return card(p.name + " " + p.code, [
      [T.county_prefecture, p.prefecture],
      [T.county_province, p.province],
      [T.county_quota, num(p.quota)],
      [T.county_placed, num(p.placed)],
      [T.county_fill, pct(p.fill)],
      [T.county_relay, num(p.relay)],
      [T.county_budget, num(p.budget)],
      [T.county_townships_met, p.townships === undefined ? "" : num(p.met) + " / " + num(p.townships)],
    ]);
  }

  /* Parts of encoded polylines (see maps/render.py::_encode) -> Leaflet latlng arrays. */
  function decode(parts, digits) {
    return parts.map(function (part) {
      return part.map(function (ring) { return polyline.decode(ring, digits); });
    });
  }

  function counties(data, groups, state) {
    if (!data.counties) return;
    var shapes = data.counties.map(function (f) { return decode(f.g, data.digits); });
    Object.keys(data.classes).forEach(function (metric) {
      var group = groups["county_" + metric];
      var colors = data.classes[metric].colors;
      var layer = L.featureGroup();
      data.counties.forEach(function (f, i) {
        var k = f.p.cls[metric];
        var poly = L.polygon(shapes[i], {
          color: "#555",
          weight: 0.6,
          fillOpacity: 0.65,
          fillColor: k >= 0 ? colors[k] : NO_DATA,
          className: "wp-county wp-county-" + metric,
        });
        poly.feature = { type: "Feature", properties: f.p };
        if (!state.countyBounds[i]) state.countyBounds[i] = poly.getBounds();
        poly.bindTooltip(function () { return el("span", f.p.name + " " + f.p.code); }, { sticky: true });
        poly.bindPopup(function () { return countyCard(f.p); });
        poly.addTo(layer);
      });
      layer.addTo(group);
      state.layers["county_" + metric] = layer;
      state.legends.push({ group: group, title: data.classes[metric].title, items: legendItems(data.classes[metric]) });
      if (!state.searchLayer) state.searchLayer = layer;
    });
    state.counts.counties = data.counties.length;
  }

  function legendItems(classes) {
    var items = classes.labels.map(function (label, i) {
      return [classes.colors[i], label];
    });
    items.push([NO_DATA, T.no_data]);
    return items;
  }

  function outlines(data, groups, state) {
    [["provinces", "#222", 1.6], ["prefectures", "#666", 0.9]].forEach(function (spec) {
      var lines = data[spec[0]];
      if (!lines || !groups[spec[0]]) return;
      var layer = L.featureGroup();
      lines.forEach(function (f) {
        var parts = decode(f.g, data.digits).map(function (part) { return part[0]; });
        L.polyline(parts, { color: spec[1], weight: spec[2], interactive: false, className: "wp-outline" }).addTo(layer);
      });
      layer.addTo(groups[spec[0]]);
      state.layers[spec[0]] = layer;
      state.counts[spec[0]] = lines.length;
    });
  }

  function posts(data, groups, state) {
    var p = data.posts;
    if (!p || !groups.posts) return;
    var markers = p.rows.map(function (r) {
      var marker = L.circleMarker([r[0], r[1]], {
        radius: 6,
        color: "#222",
        weight: 1,
        fillColor: p.colors[r[5]],
        fillOpacity: 0.9,
      });
      marker.wpRow = r;
      marker.bindPopup(function () {
        return card(T.post + " " + r[2], [
          [T.post_township, (r[4] ? r[4] + " " : "") + r[3]],
          [T.post_county, r[10]],
          [T.post_category, category(p.categories[r[5]])],
          [T.post_seats, num(r[6])],
          [T.post_filled, num(r[7])],
          [T.post_relay, r[8] ? fmt(T.post_relay_yes, num(r[9])) : T.no],
        ]);
      });
      return marker;
    });
    groups.posts.addLayers(markers);
    state.layers.posts = groups.posts;
    state.counts.posts = groups.posts.getLayers().length;  // what the cluster holds
    state.legends.push({
      group: groups.posts,
      title: T.legend_posts,
      items: p.categories.map(function (c, i) { return [p.colors[i], category(c)]; }),
    });
  }

  /* County names on the map, each only at a zoom where it fits inside its county's box. */
  function countyNames(map, data, state) {
    if (!data.counties) return;
    var layer = L.layerGroup().addTo(map);
    var names = data.counties.map(function (f) {
      var icon = L.divIcon({ html: el("span", f.p.name, "wp-county-name"), className: "wp-county-label", iconSize: null });
      return { marker: L.marker(f.p.at, { icon: icon, interactive: false, keyboard: false }), width: 13 * f.p.name.length + 6 };
    });
    function place() {
      var shown = 0;
      names.forEach(function (n, i) {
        var b = state.countyBounds[i];
        var nw = map.latLngToLayerPoint(b.getNorthWest());
        var se = map.latLngToLayerPoint(b.getSouthEast());
        var fits = 0.7 * (se.x - nw.x) >= n.width && 0.7 * (se.y - nw.y) >= 16;
        if (fits) shown += 1;
        if (fits && !layer.hasLayer(n.marker)) layer.addLayer(n.marker);
        else if (!fits && layer.hasLayer(n.marker)) layer.removeLayer(n.marker);
      });
      state.counts.county_names = shown;
    }
    map.on("zoomend", place);
    place();
    state.layers.county_names = layer;
  }

  function flows(data, groups, state) {
    var f = data.flows;
    if (!f || !groups.flows) return;
    f.rows.forEach(function (r) {
      var line = L.polyline([[r[0], r[1]], [r[2], r[3]]], {
        color: FLOW,
        dashArray: "8 5",
        opacity: 0.75,
        weight: 1.5 + 10 * Math.sqrt(r[4] / Math.max(f.max, 1)),
        className: "wp-flow",
      });
      line.bindTooltip(function () {
        return el("span", r[6] + " " + r[5] + " → " + r[8] + " " + r[7] + ": " + fmt(T.flow_volunteers, num(r[4])));
      }, { sticky: true });
      line.addTo(groups.flows);
    });
    state.layers.flows = groups.flows;
    state.counts.flows = f.rows.length;
    state.legends.push({ group: groups.flows, title: T.layer_flows, items: [[FLOW, T.legend_flows]] });
  }

  /* The routes and stops of each day in a layer of its own (state.layers.routes_<i>); the
     day control puts the chosen day's layer, or every day's, into the one routes group. */
  function routes(map, data, groups, state) {
    var R = data.routes;
    if (!R || !groups.routes) return;
    state.counts.routes = 0;
    state.counts.stops = 0;
    var days = R.days.map(function (d, i) {
      state.layers["routes_" + i] = L.layerGroup();
      return state.layers["routes_" + i];
    });
    R.routes.forEach(function (r) {
      var group = days[r.day];
      var color = R.colors[r.vehicle];
      var line = L.polyline(r.line, { color: color, weight: 3, opacity: 0.85, className: "wp-route" });
      line.bindTooltip(function () {
        return el("span", T.vehicle + " " + R.vehicles[r.vehicle] + " · " + fmt(T.day, R.days[r.day]));
      }, { sticky: true });
      line.addTo(group);
      r.stops.forEach(function (s) {
        var stop = L.circleMarker([s[0], s[1]], {
          radius: 5, color: color, weight: 2, fillColor: "#fff", fillOpacity: 1, className: "wp-stop",
        });
        stop.bindPopup(function () {
          return card(T.stop + " " + s[2], [
            [T.vehicle, R.vehicles[r.vehicle]],
            [T.stop_day, R.days[r.day]],
            [T.stop_order, s[3]],
            [T.stop_arrival, s[4]],
            [T.stop_clients, num(s[5])],
          ]);
        });
        stop.addTo(group);
        state.counts.stops += 1;
      });
      state.counts.routes += 1;
    });
    state.layers.routes = groups.routes;
    if (groups.stations) {
      R.stations.forEach(function (s) {
        var depot = L.circleMarker([s[0], s[1]], {
          radius: 8, color: "#000", weight: 2, fillColor: "#ffd92f", fillOpacity: 1, className: "wp-station",
        });
        depot.bindTooltip(function () { return el("span", T.station + " " + s[2]); });
        depot.addTo(groups.stations);
      });
      state.layers.stations = groups.stations;
      state.counts.stations = R.stations.length;
    }
    state.legends.push({
      group: groups.routes,
      title: T.legend_vehicles,
      items: R.vehicles.map(function (v, i) { return [R.colors[i], v]; }),
    });
    dayControl(map, R.days, days, groups.routes, state);
  }

  /* One control for the campaign day: all days, or one; shown while the routes layer is on. */
  function dayControl(map, names, days, group, state) {
    var control = L.control({ position: "topright" });
    var select = el("select", null, "wp-day-select");
    control.onAdd = function () {
      var box = el("div", null, "wp-box wp-days");
      var label = el("label", null, "wp-day-label");
      label.appendChild(el("span", T.day_control, "wp-title"));
      var all = el("option", T.day_all);
      all.value = "all";
      select.appendChild(all);
      names.forEach(function (d, i) {
        var option = el("option", fmt(T.day, d));
        option.value = String(i);
        select.appendChild(option);
      });
      label.appendChild(select);
      box.appendChild(label);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      L.DomEvent.on(select, "change", function () { show(select.value); });
      return box;
    };
    function show(value) {
      group.clearLayers();
      days.forEach(function (layer, i) {
        if (value === "all" || String(i) === String(value)) group.addLayer(layer);
      });
      select.value = String(value);
      state.day = select.value;
      map.fire("westplan:layout");
    }
    control.addTo(map);
    map.on("overlayadd overlayremove", function () {
      control.getContainer().style.display = map.hasLayer(group) ? "" : "none";
      map.fire("westplan:layout");
    });
    show(days.length ? "0" : "all");
    state.showDay = show;
  }

  function coverage(data, groups, state) {
    var C = data.coverage;
    if (!C || !groups.coverage) return;
    C.rows.forEach(function (r) {
      var unserved = Math.max(r[4] - r[5], 0);
      var share = r[4] > 0 ? r[5] / r[4] : 1;
      var circle = L.circleMarker([r[0], r[1]], {
        radius: 4 + 14 * Math.sqrt((r[7] ? r[4] : unserved) / Math.max(C.max, 1)),
        color: r[7] ? "#1a9850" : "#d73027",
        weight: r[7] ? 1 : 3,
        fillColor: r[7] ? "#91cf60" : "#d73027",
        fillOpacity: r[7] ? 0.45 : 0.7,
        className: r[7] ? "wp-township wp-met" : "wp-township wp-unmet",
      });
      circle.bindTooltip(function () {
        return card(T.township + " " + (r[3] ? r[3] + " " : "") + r[2], [
          [T.township_demand, num(r[4])],
          [T.township_served, num(r[5]) + " (" + pct(share) + ")"],
          [T.township_target, num(r[6]) + (r[4] ? " (" + pct(r[6] / r[4]) + ")" : "")],
          [T.township_unserved, num(unserved)],
          [T.township_met, r[7] ? T.yes : T.no],
        ]);
      }, { sticky: true });
      circle.addTo(groups.coverage);
    });
    state.layers.coverage = groups.coverage;
    state.counts.coverage = C.rows.length;
    state.legends.push({
      group: groups.coverage,
      title: T.layer_coverage,
      items: [["#91cf60", T.legend_met], ["#d73027", T.legend_unmet]],
    });
  }

  function title(map, data) {
    var control = L.control({ position: "topleft" });
    control.onAdd = function () {
      var t = data.title;
      var box = el("div", null, "wp-box wp-heading");
      box.appendChild(el("div", t.scenario + (t.year ? " " + t.year : ""), "wp-title"));
      box.appendChild(el("div", t.area));
      if (t.synthetic) box.appendChild(el("div", T.synthetic, "wp-synthetic"));
      return box;
    };
    control.addTo(map);
  }

  /* The legends of the layers that are on, in the top right corner below the layer and day
     controls (Leaflet stacks the controls of a corner, so none covers another), as high as
     the map leaves room for above the bottom right corner; it scrolls when that is less. */
  function legend(map, state) {
    if (!state.legends.length) return;
    var control = L.control({ position: "topright" });
    var sections = [];
    var box = el("div", null, "wp-box wp-legend");
    var toggle = el("button", T.legend, "wp-legend-toggle");  // folds the legend (a phone)
    toggle.type = "button";
    box.appendChild(toggle);
    L.DomEvent.on(toggle, "click", function (e) {
      L.DomEvent.stop(e);
      box.classList.toggle("wp-folded");
      toggle.setAttribute("aria-expanded", box.classList.contains("wp-folded") ? "false" : "true");
      refresh();
    });
    if (narrow(map)) box.classList.add("wp-folded");
    toggle.setAttribute("aria-expanded", box.classList.contains("wp-folded") ? "false" : "true");
    control.onAdd = function () {
      state.legends.forEach(function (entry) {
        var section = el("div", null, "wp-legend-section");
        section.appendChild(el("div", entry.title, "wp-title"));
        entry.items.forEach(function (item) {
          var row = el("div", null, "wp-legend-row");
          var swatch = el("span", null, "wp-swatch");
          swatch.style.background = item[0];
          row.appendChild(swatch);
          row.appendChild(el("span", item[1]));
          section.appendChild(row);
        });
        sections.push([entry.group, section]);
        box.appendChild(section);
      });
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    function fit() {
      var bottom = map.getContainer().getBoundingClientRect().bottom;
      var below = map.getContainer().querySelector(".leaflet-bottom.leaflet-right");
      if (below && below.children.length) bottom = below.getBoundingClientRect().top;
      var room = bottom - box.getBoundingClientRect().top - 10;
      box.style.maxHeight = Math.max(room, 40) + "px";
    }
    function refresh() {
      sections.forEach(function (s) {
        s[1].style.display = map.hasLayer(s[0]) ? "" : "none";
      });
      fit();
    }
    map.on("overlayadd overlayremove westplan:layout resize", refresh);
    refresh();
  }

  function search(map, state) {
    if (!state.searchLayer || !L.Control.Search) return;
    var control = new L.Control.Search({
      layer: state.searchLayer,
      propertyName: "label",
      initial: false,
      marker: false,
      textPlaceholder: T.search,
      buildTip: function (text) {
        var a = el("a", text);
        a.href = "#";
        return a;
      },
      moveToLocation: function (latlng, text, m) {
        if (latlng.layer && latlng.layer.getBounds) m.fitBounds(latlng.layer.getBounds());
        else m.setView(latlng, 9);
      },
    });
    control.on("search:locationfound", function (e) {
      if (e.layer && e.layer.openPopup) e.layer.openPopup();
    });
    map.addControl(control);
    state.search = control;
  }

  /* A phone-sized map: the layer list and the legend start folded. */
  function narrow(map) {
    return map.getContainer().clientWidth < 600;
  }

  window.westplanMap = function (map, groups, layersControl) {
    var data = JSON.parse(document.getElementById("westplan-data").textContent);
    T = data.labels;
    var state = { layers: {}, counts: {}, legends: [], searchLayer: null, search: null, countyBounds: [] };
    window.westplan = state;
    if (data.bounds) map.fitBounds(data.bounds, { animate: false });  // before clustering
    outlines(data, groups, state);
    counties(data, groups, state);
    countyNames(map, data, state);
    flows(data, groups, state);
    posts(data, groups, state);
    coverage(data, groups, state);
    routes(map, data, groups, state);
    title(map, data);
    legend(map, state);
    search(map, state);
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");  // no flag
    if (layersControl && narrow(map)) {  // the list opens from its button, closes on the map
      layersControl.collapse();
      map.on("click", function () { layersControl.collapse(); });
    }
    state.ready = performance.now();
  };
})();
