// Shared behaviour of every page: night mode, alert sounds, the idle screen lock.
"use strict";

window.ALPR = window.ALPR || {};

(function (ALPR) {
  var store = window.localStorage;

  function pref(name) {
    try { return store.getItem(name) === "1"; } catch (e) { return false; }
  }
  function setPref(name, on) {
    try { store.setItem(name, on ? "1" : "0"); } catch (e) { /* not kept */ }
  }

  // --- night mode ---------------------------------------------------------
  function applyNight(on) {
    document.documentElement.classList.toggle("night", on);
    var btn = document.getElementById("night-toggle");
    if (btn) { btn.textContent = on ? "Day" : "Night"; }
  }

  // --- sounds: synthesised, a different pattern per priority ---------------
  // Browsers only start audio after a tap, so the officer turns sound on once
  // per sign-in (and any tap re-arms it when the preference is on).
  var audio = null;
  function ensureAudio() {
    if (!audio) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) { return null; }
      audio = new Ctx();
    }
    if (audio.state === "suspended") { audio.resume(); }
    return audio;
  }
  var PATTERNS = {
    // [frequency Hz, start s, length s]
    1: [[1400, 0, 0.18], [900, 0.2, 0.18], [1400, 0.4, 0.18], [900, 0.6, 0.18], [1400, 0.8, 0.3]],
    2: [[1000, 0, 0.2], [1000, 0.3, 0.2]],
    3: [[760, 0, 0.35]],
    4: [[520, 0, 0.25]]
  };
  ALPR.sound = function (priority) {
    if (!pref("alpr-sound") || !audio) { return false; }
    var p = Math.min(Math.max(parseInt(priority, 10) || 4, 1), 4);
    var t0 = audio.currentTime + 0.02;
    PATTERNS[p].forEach(function (tone) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = p === 1 ? "square" : "sine";
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, t0 + tone[1]);
      gain.gain.exponentialRampToValueAtTime(0.5, t0 + tone[1] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + tone[1] + tone[2]);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + tone[1]);
      osc.stop(t0 + tone[1] + tone[2] + 0.05);
    });
    return true;
  };
  function showSound() {
    var btn = document.getElementById("sound-toggle");
    if (!btn) { return; }
    var on = pref("alpr-sound");
    btn.textContent = on ? "Sound on" : "Sound off";
    btn.setAttribute("aria-pressed", on ? "true" : "false");
    btn.classList.toggle("warn", !on);
  }

  // --- idle screen lock ----------------------------------------------------
  function idleLock() {
    var seconds = parseInt(document.body.dataset.idleLock || "0", 10);
    var url = document.body.dataset.lockUrl;
    if (!seconds || !url) { return; }
    var last = Date.now();
    ["pointerdown", "keydown", "touchstart", "wheel"].forEach(function (kind) {
      document.addEventListener(kind, function () { last = Date.now(); }, { passive: true });
    });
    window.setInterval(function () {
      if (Date.now() - last > seconds * 1000) {
        var form = typedForm();
        if (form) { keepDraft(form, true); }
        window.location.assign(url + "?next=" + encodeURIComponent(window.location.pathname));
      }
    }, 5000);
  }

  // --- typed input survives a session that ends, or a screen that locks, mid-form ---
  // A form posted is kept in this tab (sessionStorage), without passwords, until the next
  // page. If that page is the sign-in page, the lock screen or an error page, the form
  // was not taken: the next page that shows the same form, for the same user, gets the
  // typed values back. Any other page drops the draft.
  var DRAFT = "alpr-draft";
  function readDraft() {
    try { return JSON.parse(window.sessionStorage.getItem(DRAFT) || "null"); } catch (e) { return null; }
  }
  function writeDraft(draft) {
    try {
      if (draft) { window.sessionStorage.setItem(DRAFT, JSON.stringify(draft)); }
      else { window.sessionStorage.removeItem(DRAFT); }
    } catch (e) { /* not kept */ }
  }
  function formPath(form) {
    try { return new URL(form.action, window.location.href).pathname; } catch (e) { return ""; }
  }
  function draftable(el) {
    return el.name && el.name !== "csrf_token" && !/^(password|hidden|file|submit|button)$/.test(el.type);
  }
  function keepDraft(form, interrupted) {
    var user = document.body.dataset.user;
    if (!user || !form.closest("main") || (form.method || "").toLowerCase() !== "post") { return; }
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!draftable(el)) { return; }
      if (el.type === "radio") { if (el.checked) { fields[el.name] = el.value; } }  // the group's choice
      else { fields[el.name] = el.type === "checkbox" ? el.checked : el.value; }
    });
    writeDraft({ user: user, path: formPath(form), fields: fields, interrupted: !!interrupted });
  }
  function restoreDraft() {
    var draft = readDraft();
    if (!draft) { return; }
    var user = document.body.dataset.user;
    if (!user || document.getElementById("error-home")) {
      draft.interrupted = true;  // not taken: sign-in, lock screen or error page
      writeDraft(draft);
      return;
    }
    writeDraft(null);
    if (!draft.interrupted || draft.user !== user) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      if (formPath(form) !== draft.path) { return; }
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!draftable(el) || !Object.prototype.hasOwnProperty.call(draft.fields, el.name)) { return; }
        var value = draft.fields[el.name];
        if (el.type === "radio") { el.checked = el.value === value; }
        else if (el.type === "checkbox") { el.checked = !!value; }
        else { el.value = value; }
      });
    });
  }
  function typedForm() {
    var forms = document.querySelectorAll("main form[method=post]");
    for (var i = 0; i < forms.length; i += 1) {
      var typed = Array.prototype.some.call(forms[i].elements, function (el) {
        return draftable(el) && el.type !== "checkbox" && el.type !== "radio" && el.value !== el.defaultValue;
      });
      if (typed) { return forms[i]; }
    }
    return null;
  }

  ALPR.csrf = function () {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  };

  // Fetch a server-rendered fragment; the server checks the session as for any page.
  ALPR.fragment = function (url) {
    return window.fetch(url, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (r) {
      if (r.status === 401) { window.location.reload(); throw new Error("signed out"); }
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    });
  };

  document.addEventListener("DOMContentLoaded", function () {
    applyNight(document.documentElement.classList.contains("night"));
    var night = document.getElementById("night-toggle");
    if (night) {
      night.addEventListener("click", function () {
        var on = !document.documentElement.classList.contains("night");
        setPref("alpr-night", on);
        applyNight(on);
      });
    }
    var sound = document.getElementById("sound-toggle");
    if (sound) {
      sound.addEventListener("click", function () {
        var on = !pref("alpr-sound");
        setPref("alpr-sound", on);
        if (on && ensureAudio()) { ALPR.sound(3); }
        showSound();
      });
    }
    document.addEventListener("pointerdown", function () {
      if (pref("alpr-sound")) { ensureAudio(); }
    }, { passive: true });
    showSound();
    restoreDraft();
    document.addEventListener("submit", function (event) {
      var form = event.target;
      // A double tap posts a form once: a second new wanted entry, or a second "add user"
      // that hides the first one's one-time-code setup behind "already exists", is not made.
      if (form.closest("main") && (form.method || "").toLowerCase() === "post") {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
        form.setAttribute("aria-busy", "true");
      }
      keepDraft(form, false);
    });
    window.addEventListener("pageshow", function () {  // a page shown again from history posts again
      Array.prototype.forEach.call(document.querySelectorAll("form[data-sent]"), function (form) {
        delete form.dataset.sent;
        form.removeAttribute("aria-busy");
      });
    });
    idleLock();
  });
})(window.ALPR);
