// Runs the script of the /docs page (docs/index.html) as a browser would
// after loading the page from URL, and prints what its curl examples and
// its "where" note then say, as JSON: {"where": "...", "examples": [...]}.
// The page's HTML comes on stdin.  Only what the script touches is
// modelled: window.location, document.querySelectorAll("pre.cmd") and
// document.getElementById (text content only).  Node.js's standard
// library only.
//
//   node t/docs-examples.js URL < page.html
"use strict";

const vm = require("vm");

const html = require("fs").readFileSync(0, "utf8");
const url = new URL(process.argv[2]);

function text(inner) {
  return inner.replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

const examples = [];
for (const m of html.matchAll(/<pre class="cmd">([\s\S]*?)<\/pre>/g)) {
  examples.push({ textContent: text(m[1]) });
}

const byId = {};
for (const m of html.matchAll(/<(\w+)[^>]*\bid="(\w+)"[^>]*>([\s\S]*?)<\/\1>/g)) {
  byId[m[2]] = { textContent: text(m[3]) };
}

const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
if (scripts.length !== 1) {
  console.error("docs-examples: expected one <script>, found " + scripts.length);
  process.exit(1);
}

vm.runInNewContext(scripts[0][1], {
  window: { location: url },
  document: {
    querySelectorAll: (sel) => {
      if (sel !== "pre.cmd") throw new Error("unexpected selector " + sel);
      return examples;
    },
    getElementById: (id) => byId[id] || null,
  },
});

process.stdout.write(JSON.stringify({
  where: byId.where ? byId.where.textContent : null,
  examples: examples.map((e) => e.textContent),
}) + "\n");
