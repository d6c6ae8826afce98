// Night mode before first paint: the choice is kept on this tablet only.
(function () {
  try {
    if (window.localStorage.getItem("alpr-night") === "1") {
      document.documentElement.classList.add("night");
    }
  } catch (e) { /* storage disabled: day mode */ }
})();
