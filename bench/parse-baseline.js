// The baseline both language-server benchmarks compare against: the same
// edits applied to a tree with tree.edit() and an incremental reparse, and
// nothing else. `timer()` starts a measurement and returns the function that
// ends it (wall time in server-latency.js, CPU time in edit-cpu.js).
'use strict';

const { TextDocument } = require('vscode-languageserver-textdocument');

/** Per-edit times of tree.edit + incremental parse for edits {at, del, ins} applied in order to `text`. */
function incrementalParseTimes(parser, uri, text, edits, timer) {
  let ptext = text;
  let pdoc = TextDocument.create(uri, 'c', 1, text);
  let tree = parser.parse(ptext);
  const times = [];
  for (const e of edits) {
    const start = pdoc.positionAt(e.at);
    const oldEnd = pdoc.positionAt(e.at + e.del);
    const stop = timer();
    ptext = ptext.slice(0, e.at) + e.ins + ptext.slice(e.at + e.del);
    tree.edit({
      startIndex: e.at, oldEndIndex: e.at + e.del, newEndIndex: e.at + e.ins.length,
      startPosition: { row: start.line, column: start.character },
      oldEndPosition: { row: oldEnd.line, column: oldEnd.character },
      newEndPosition: { row: start.line, column: start.character + e.ins.length },
    });
    const next = parser.parse(ptext, tree);
    times.push(stop());
    tree.dispose();
    tree = next;
    pdoc = TextDocument.update(pdoc, [{ range: { start, end: oldEnd }, text: e.ins }], pdoc.version + 1);
  }
  tree.dispose();
  return times;
}

module.exports = { incrementalParseTimes };
