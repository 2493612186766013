// Havens maps: zones (coloured by status) over the admin boundaries of the loaded reference
// geography. No tile server: the base layer is the boundaries themselves, so maps work offline.
(function () {
  "use strict";
  const STATUS_COLOURS = {
    proposed: "#7a869a", negotiating: "#b7791f", consented: "#2b6cb0", operational: "#1e7b34",
    suspended: "#c05621", closing: "#b3261e", closed: "#4a5568", rejected: "#702459",
  };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(url + ": " + r.status))));
  }

  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function initMap(element) {
    const rtl = document.documentElement.dir === "rtl";
    const lang = document.documentElement.lang;
    const map = L.map(element, { zoomSnap: 0.25, attributionControl: true });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("OCHA COD-AB / geoBoundaries (CC BY)");
    map.setView([35.2, 38.5], 6.5);
    const layers = [];
    const adminUrl = element.dataset.adminUrl;
    const zonesUrl = element.dataset.zonesUrl;
    const sitesUrl = element.dataset.sitesUrl;
    const pending = [];
    if (adminUrl) {
      pending.push(getJSON(adminUrl).then((data) => {
        const layer = L.geoJSON(data, {
          style: { color: "#5f7386", weight: 1, fillColor: "#eef2f6", fillOpacity: 0.9 },
          onEachFeature: (feature, lyr) => {
            const p = feature.properties;
            lyr.bindTooltip(escapeHtml((lang === "ar" && p.name_ar) || p.name_en), { sticky: true });
          },
        }).addTo(map);
        layer.bringToBack();
      }));
    }
    const inline = element.dataset.zones ? Promise.resolve(JSON.parse(element.dataset.zones)) : null;
    if (zonesUrl || inline) {
      pending.push((inline || getJSON(zonesUrl)).then((data) => {
        const layer = L.geoJSON(data, {
          style: (feature) => {
            const colour = STATUS_COLOURS[feature.properties.status] || "#333";
            return { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.35 };
          },
          onEachFeature: (feature, lyr) => {
            const p = feature.properties;
            const name = (lang === "ar" && p.name_ar) || p.name_en;
            const link = "/zones/" + encodeURIComponent(p.code);
            lyr.bindPopup('<a href="' + link + '">' + escapeHtml(name) + "</a><br>" +
              escapeHtml(p.code) + " · " + escapeHtml(p.status_label || p.status));
          },
        }).addTo(map);
        layer.eachLayer((l) => l.getElement && l.getElement() &&
          l.getElement().classList.add("zone-shape"));
        if (layer.getLayers().length) layers.push(layer);
      }));
    }
    const inlineSites = element.dataset.sites ? Promise.resolve(JSON.parse(element.dataset.sites)) : null;
    if (sitesUrl || inlineSites) {
      pending.push((inlineSites || getJSON(sitesUrl)).then((data) => {
        const layer = L.geoJSON(data, {
          pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
            radius: 4, color: "#0b5394", weight: 1, fillOpacity: 0.8 }),
          onEachFeature: (feature, lyr) => {
            const p = feature.properties;
            lyr.bindTooltip(escapeHtml(((lang === "ar" && p.name_ar) || p.name_en) + " (" + p.code + ")"));
          },
        }).addTo(map);
        if (layer.getLayers().length) layers.push(layer);
      }));
    }
    Promise.all(pending).then(() => {
      const group = L.featureGroup(layers);
      if (layers.length && group.getBounds().isValid()) map.fitBounds(group.getBounds().pad(0.2));
      element.dataset.ready = "true";
    }).catch((error) => {
      element.dataset.ready = "error";
      element.insertAdjacentHTML("afterend", '<p class="alert error">' + escapeHtml(error.message) + "</p>");
    });
    if (rtl) element.classList.add("rtl-map");
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-map]").forEach(initMap);
  });
})();
