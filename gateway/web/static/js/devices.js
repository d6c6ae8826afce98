// Devices page: refresh each board's latest frame every 2 s, to help aim the camera.
"use strict";

(function () {
  var frames = document.querySelectorAll("img.frame[data-src]");
  if (!frames.length) { return; }
  window.setInterval(function () {
    if (document.hidden) { return; }
    frames.forEach(function (img) {
      var next = new Image();
      next.onload = function () { img.src = next.src; };
      next.src = img.dataset.src + "?t=" + Date.now();
    });
  }, 2000);
})();
