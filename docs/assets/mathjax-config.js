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

// Material's document$ fires once per page (no instant navigation). MathJax typesets the page
// at startup; afterwards only math that is new is typeset. (Clearing MathJax's cache here
// would drop the per-glyph CSS of the math typeset at startup: blank equations.)
document$.subscribe(() => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => MathJax.typesetPromise());
  }
});
