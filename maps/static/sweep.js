/*
 * westplan sweep page: the comparison chart (SVG), the table and the map of changed
 * placements, from the page's JSON document (maps/sweep.py). Every name and value reaches
 * the page as a DOM text node, never as HTML. window.westplan tells tests when the page is
 * drawn and what it drew.
 */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var D = JSON.parse(document.getElementById("sweep-data").textContent);
  var T = D.labels;

  function text(id, value) {
    document.getElementById(id).textContent = String(value);
  }

  function svg(tag, attrs, content) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (content !== undefined) node.textContent = String(content);
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") {
      if (Math.abs(v) < 1 && v !== 0) return v.toFixed(6);
      return v.toLocaleString("en-US", { maximumFractionDigits: 2 });
    }
    return String(v);
  }

  var col = {};
  D.columns.forEach(function (c, i) { col[c] = i; });

  function name(row) {
    return row[col.variant] === 0 ? T.base : "#" + row[col.variant] + " " + row[col.changes];
  }

  /* The chart: one horizontal bar per plan for the chosen measure. */
  function chart(measure) {
    var box = document.getElementById("sweep-chart");
    while (box.firstChild) box.removeChild(box.firstChild);
    var values = D.rows.map(function (r) { return Number(r[col[measure]]) || 0; });
    var lo = Math.min(0, Math.min.apply(null, values));
    var hi = Math.max(0, Math.max.apply(null, values));
    var width = 900, left = 380, bar = 22, gap = 6;
    var height = D.rows.length * (bar + gap) + 10;
    var span = hi - lo || 1;
    var x = function (v) { return left + ((v - lo) / span) * (width - left - 120); };
    var root = svg("svg", { width: width, height: height, role: "img", "class": "sweep-chart" });
    D.rows.forEach(function (r, i) {
      var y = 5 + i * (bar + gap);
      var v = values[i];
      root.appendChild(svg("text", { x: left - 8, y: y + bar * 0.7, "text-anchor": "end", "font-size": 12 }, name(r)));
      var x0 = Math.min(x(0), x(v)), w = Math.max(1, Math.abs(x(v) - x(0)));
      root.appendChild(svg("rect", {
        x: x0, y: y, width: w, height: bar,
        fill: r[col.variant] === 0 ? "#555" : (r[col.optimal] ? "#3182bd" : "#de2d26"),
        "class": "sweep-bar"
      }));
      root.appendChild(svg("text", { x: x0 + w + 6, y: y + bar * 0.7, "font-size": 12 }, fmt(v)));
    });
    box.appendChild(root);
    return D.rows.length;
  }

  function table() {
    var t = document.getElementById("sweep-table");
    var head = document.createElement("tr");
    D.columns.forEach(function (c) {
      var th = document.createElement("th");
      th.textContent = c;
      head.appendChild(th);
    });
    t.appendChild(head);
    D.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      r.forEach(function (v) {
        var td = document.createElement("td");
        td.textContent = fmt(v);
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
  }

  function colour(change) {
    if (change > 0) return change >= 5 ? "#08519c" : "#6baed6";
    if (change < 0) return change <= -5 ? "#a50f15" : "#fb6a4a";
    return "#d9d9d9";
  }

  function decode(ring) {
    // the precision is encoded in the data: the grid of maps/sweep.py (0.001 deg, 3 digits)
    return polyline.decode(ring, 3);
  }

  var map = L.map("sweep-map", { zoomSnap: 0.25, minZoom: 3, maxZoom: 12 });
  var layer = L.featureGroup().addTo(map);
  var shapes = {};
  D.counties.forEach(function (c) {
    var shape = L.polygon(c.g.map(function (part) { return part.map(decode); }), {
      weight: 0.5, color: "#666", fillOpacity: 0.8, fillColor: "#d9d9d9"
    });
    shape.bindPopup(function () { return popup(c); });
    shapes[c.code] = shape;
    layer.addLayer(shape);
  });
  var current = "1";

  function popup(c) {
    var box = document.createElement("div");
    var head = document.createElement("b");
    head.textContent = c.name + " " + c.code + " (" + c.province + ")";
    box.appendChild(head);
    var v = (D.changes[current] || {})[c.code] || [0, 0, 0, 0, 0];
    [[T.county_base, v[0]], [T.county_variant, v[1]], [T.arrived, v[2]], [T.left, v[3]],
     [T.change, (v[4] > 0 ? "+" : "") + v[4]]].forEach(function (kv) {
      var line = document.createElement("div");
      line.textContent = kv[0] + ": " + kv[1];
      box.appendChild(line);
    });
    return box;
  }

  function paint(variant) {
    current = variant;
    var changed = 0;
    var rows = D.changes[variant] || {};
    Object.keys(shapes).forEach(function (code) {
      var v = rows[code];
      var change = v ? v[4] : 0;
      if (change !== 0) changed += 1;
      shapes[code].setStyle({ fillColor: colour(change) });
    });
    return changed;
  }

  function legend() {
    var box = document.getElementById("sweep-legend");
    [["#08519c", T.legend_gain], ["#d9d9d9", T.legend_same], ["#a50f15", T.legend_loss]].forEach(function (kv) {
      var swatch = document.createElement("span");
      swatch.style.background = kv[0];
      box.appendChild(swatch);
      box.appendChild(document.createTextNode(kv[1]));
    });
  }

  text("sweep-status", T.status);
  text("sweep-chart-title", T.chart);
  text("sweep-measure-label", T.measure);
  text("sweep-map-title", T.map);
  text("sweep-variant-label", T.variant);
  text("sweep-table-title", T.table);
  var measure = document.getElementById("sweep-measure");
  D.measures.forEach(function (m) {
    var o = document.createElement("option");
    o.value = m[0];
    o.textContent = m[1];
    measure.appendChild(o);
  });
  var variant = document.getElementById("sweep-variant");
  D.rows.forEach(function (r) {
    if (r[col.variant] === 0) return;
    var o = document.createElement("option");
    o.value = String(r[col.variant]);
    o.textContent = name(r);
    variant.appendChild(o);
  });
  var state = { bars: chart("objective"), changed: paint(variant.value || "1") };
  measure.addEventListener("change", function () { state.bars = chart(measure.value); });
  variant.addEventListener("change", function () {
    state.changed = paint(variant.value);
    window.westplan.counts.changed = state.changed;
  });
  table();
  legend();
  if (layer.getLayers().length) map.fitBounds(layer.getBounds());
  else map.setView([35, 100], 4);
  window.westplan = {
    map: map,
    ready: performance.now(),
    counts: {
      variants: D.rows.length - 1,
      counties: layer.getLayers().length,
      bars: state.bars,
      changed: state.changed,
      rows: document.querySelectorAll("#sweep-table tr").length - 1
    }
  };
})();
