// Reads Chrome Trace Event files with the trace engine of Chrome DevTools'
// Performance panel and prints, for each file, a line of JSON saying what
// it made of them: the process names, and each thread's name, how many
// spans it took in, and how it nested them.
//
// usage: node read_trace.mjs TRACE.json...

import {analyzeTrace} from '@paulirish/trace_engine/analyze-trace.mjs';

for (const file of process.argv.slice(2)) {
  const {parsedTrace} = await analyzeTrace(file);
  const data = parsedTrace.data;
  const processNames = {};
  for (const [pid, event] of data.Meta.processNames) {
    processNames[pid] = event.args.name;
  }
  const threads = [];
  for (const [pid, proc] of data.Renderer.processes) {
    for (const [tid, thread] of proc.threads) {
      const roots = {};
      const parents = {};
      const walk = (node, parent) => {
        const name = node.entry.name;
        if (parent === null) {
          roots[name] = (roots[name] ?? 0) + 1;
        }
        const under = (parents[name] ??= {});
        const key = parent === null ? '' : parent.entry.name;
        under[key] = (under[key] ?? 0) + 1;
        for (const child of node.children) {
          walk(child, node);
        }
      };
      for (const root of thread.tree.roots) {
        walk(root, null);
      }
      threads.push({
        pid,
        tid,
        name: thread.name,
        entries: thread.entries.length,
        max_depth: thread.tree.maxDepth,
        roots,
        parents,
      });
    }
  }
  console.log(JSON.stringify({file, process_names: processNames, threads}));
}
