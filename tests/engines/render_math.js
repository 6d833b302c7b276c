// Render LaTeX math with KaTeX and MathJax 3 (both from npm), as a web page would.
//
// usage: node render_math.js NODE_MODULES [--html OUT.html] < cases.json
// cases.json: [{"name": ..., "tex": ...}, ...]; prints {"name": {"katex": error or null,
// "mathjax": error or null}, ...}. With --html, also writes a page of every case rendered by
// both engines (KaTeX HTML and MathJax SVG) for a screenshot.
"use strict";
const fs = require("fs");
const path = require("path");

const modules = path.resolve(process.argv[2]);
const htmlOut = process.argv[3] === "--html" ? process.argv[4] : null;
const need = (name) => require(path.join(modules, name));

const katex = need("katex");
const { mathjax } = need("mathjax-full/js/mathjax.js");
const { TeX } = need("mathjax-full/js/input/tex.js");
const { SVG } = need("mathjax-full/js/output/svg.js");
const { liteAdaptor } = need("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = need("mathjax-full/js/handlers/html.js");
const { AllPackages } = need("mathjax-full/js/input/tex/AllPackages.js");

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
// every package a MathJax 3 page can autoload, but undefined macros are errors (no
// "noundefined", which would print them in red) and errors are thrown, not typeset
const packages = AllPackages.filter((p) => !["noundefined", "autoload", "require"].includes(p));
const tex = new TeX({ packages, formatError: (jax, err) => { throw err; } });
const svg = new SVG({ fontCache: "local" });
const doc = mathjax.document("", { InputJax: tex, OutputJax: svg });

const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const results = {};
const page = [];
for (const { name, tex: source } of cases) {
  const result = { katex: null, mathjax: null };
  let katexHtml = "", mathjaxSvg = "";
  try {
    katexHtml = katex.renderToString(source, { displayMode: true, throwOnError: true,
                                               strict: "error" });
  } catch (err) {
    result.katex = String(err.message || err);
  }
  try {
    const node = doc.convert(source, { display: true });
    mathjaxSvg = adaptor.outerHTML(node);
    if (mathjaxSvg.includes("merror") || mathjaxSvg.includes('data-mjx-error')) {
      result.mathjax = "merror in output";
    }
  } catch (err) {
    result.mathjax = String(err.message || err);
  }
  results[name] = result;
  page.push(`<h3>${name}</h3><div class="k">${katexHtml}</div><div class="m">${mathjaxSvg}</div>`);
}
if (htmlOut) {
  const css = path.join(modules, "katex", "dist", "katex.min.css");
  const sheet = adaptor.innerHTML(svg.styleSheet(doc));
  fs.writeFileSync(htmlOut, `<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="file://${css}"><style>${sheet}</style>
<style>body{font-size:18px;margin:12px}
h3{font:14px sans-serif;margin:18px 0 4px}</style></head><body>${page.join("\n")}</body></html>`);
}
process.stdout.write(JSON.stringify(results));
