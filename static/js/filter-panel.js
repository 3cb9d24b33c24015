// The /tasks filter panel is a <details>, closed on small screens so the results come first
// (it works the same without JavaScript). On wide screens, where it sits beside the results, open it.
(function () {
  if (!window.matchMedia("(min-width: 992px)").matches) return;
  document.querySelectorAll("details.filter-panel").forEach(function (panel) { panel.open = true; });
})();
