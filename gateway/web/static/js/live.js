// Live view: server-sent events carry ids; the server renders the fragments.
"use strict";

(function () {
  var root = document.getElementById("live");
  if (!root || !window.EventSource) { return; }
  var reads = document.getElementById("reads");
  var alerts = document.getElementById("alerts");
  var banner = document.getElementById("banner");
  var state = document.getElementById("stream-state");
  var MAX_READS = 30;

  function url(template, id) { return template.replace(/\/0(\/|$)/, "/" + id + "$1"); }

  function fromHtml(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    return tpl.content.firstElementChild;
  }

  function addRead(data) {
    var id = data.id;
    if (reads.querySelector('[data-read-id="' + id + '"]')) { return; }
    var html = data.html ? Promise.resolve(data.html) : window.ALPR.fragment(url(root.dataset.readUrl, id));
    html.then(function (html) {
      if (reads.querySelector('[data-read-id="' + id + '"]')) { return; }
      var empty = document.getElementById("no-reads");
      if (empty) { empty.remove(); }
      reads.insertBefore(fromHtml(html), reads.firstChild);
      while (reads.children.length > MAX_READS) { reads.removeChild(reads.lastChild); }
    }).catch(function () { /* the next event or reconnect resyncs */ });
  }

  function markHit(readId) {
    var read = reads.querySelector('[data-read-id="' + readId + '"]');
    if (read) { read.classList.add("hit"); }
  }

  // A repeat hit is a sighting of an alert already on screen: refresh that alert's banner
  // (if it is the one shown) and list item, without the alarm, so the first alert is not buried.
  function addSighting(data) {
    markHit(data.read_id);
    var shown = banner.querySelector('[data-alert-id="' + data.repeat_of + '"]');
    if (shown && data.html) { banner.innerHTML = ""; banner.appendChild(fromHtml(data.html)); }
    if (alerts && data.item) {
      var old = alerts.querySelector('[data-alert-id="' + data.repeat_of + '"]');
      if (old) { old.replaceWith(fromHtml(data.item)); } else { alerts.insertBefore(fromHtml(data.item), alerts.firstChild); }
    }
  }

  function addAlert(data) {
    if (!root.dataset.bannerUrl) { return; }
    if (data.repeat_of) { addSighting(data); return; }
    var banner_html = data.html ? Promise.resolve(data.html)
      : window.ALPR.fragment(url(root.dataset.bannerUrl, data.id));
    banner_html.then(function (html) {
      banner.innerHTML = "";
      banner.appendChild(fromHtml(html));
      window.ALPR.sound(data.priority);
      markHit(data.read_id);
    }).catch(function () { /* shown on the next reconnect */ });
    if (alerts && !alerts.querySelector('[data-alert-id="' + data.id + '"]')) {
      var item = data.item ? Promise.resolve(data.item) : window.ALPR.fragment(url(root.dataset.itemUrl, data.id));
      item.then(function (html) {
        if (!alerts.querySelector('[data-alert-id="' + data.id + '"]')) {
          alerts.insertBefore(fromHtml(html), alerts.firstChild);
        }
      }).catch(function () {});
    }
  }

  var lost = document.getElementById("link-lost");
  var lostSince = document.getElementById("link-lost-since");

  // The officer must not take a still screen for a quiet street: while the stream is down a
  // full-width bar says since when nothing has been received, and what is shown is dimmed.
  function linkUp(up) {
    if (!lost) { return; }
    if (!up && lost.hidden) {
      lostSince.textContent = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    }
    lost.hidden = up;
    root.classList.toggle("stale", !up);
  }

  var source = new EventSource(root.dataset.stream);
  source.addEventListener("open", function () {
    state.textContent = "live";
    state.classList.remove("down");
    linkUp(true);
  });
  source.addEventListener("error", function () {
    state.textContent = "reconnecting…";
    state.classList.add("down");
    linkUp(false);
    if (source.readyState === EventSource.CLOSED) {
      // Refused (signed out, screen locked, training lapsed): let the server say where to go.
      window.setTimeout(function () { window.location.reload(); }, 3000);
    }
  });
  source.addEventListener("read", function (ev) { addRead(JSON.parse(ev.data)); });
  source.addEventListener("alert", function (ev) { addAlert(JSON.parse(ev.data)); });
  // The store's disk warning (reads may not be stored); an empty message: space is back.
  var disk = document.getElementById("disk-warning");
  source.addEventListener("warning", function (ev) {
    var data = JSON.parse(ev.data);
    if (!disk || data.source !== "disk") { return; }
    disk.textContent = data.message || "";
    disk.hidden = !data.message;
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
