// MathJax 3, served from this site (assets/mathjax/, copied by docs/build.py from the
// docs extra's local MathJax package): no CDN. Only the math that Markdown marked
// (pymdownx.arithmatex: class "arithmatex") is typeset, so a "$" in code or prose is left alone.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};

document$.subscribe(() => {
  if (window.MathJax && MathJax.typesetPromise) {
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    MathJax.typesetPromise();
  }
});
