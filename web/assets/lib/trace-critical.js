// Critical path of a trace, as Jaeger computes it: walk back from the root's end, each time
// into the child that finished last before the current point; the parent's own time between
// children is on the path too. Children are first clipped to their parent's interval (clock
// skew makes children overhang). Iterative, so a trace thousands of levels deep cannot
// overflow the stack. Pure: run in a Web Worker by trace-critical-worker.js.

// criticalPath takes starts and ends (µs, Float64Array), parents (Int32Array, -1 for a root)
// and the root to start from; it returns {segments: Float64Array of [span, from, to] triples,
// onPath: Uint8Array}.
export function criticalPath(starts, ends, parents, root) {
  const n = starts.length;
  const kids = new Array(n);
  for (let i = 0; i < n; i++) kids[i] = null;
  for (let i = 0; i < n; i++) {
    const p = parents[i];
    if (p >= 0) (kids[p] || (kids[p] = [])).push(i);
  }
  // Clip top-down from the root.
  const s0 = new Float64Array(n), e0 = new Float64Array(n);
  const inside = new Uint8Array(n);
  const order = [root];
  s0[root] = starts[root]; e0[root] = ends[root]; inside[root] = 1;
  for (let q = 0; q < order.length; q++) {
    const p = order[q];
    for (const c of kids[p] || []) {
      const s = Math.max(starts[c], s0[p]), e = Math.min(ends[c], e0[p]);
      if (e <= s && !(starts[c] === ends[c] && s === e)) continue; // entirely outside its parent
      s0[c] = s; e0[c] = e; inside[c] = 1;
      order.push(c);
    }
  }
  const segs = [];
  const onPath = new Uint8Array(n);
  const stack = [root];
  while (stack.length) {
    const sp = stack.pop();
    onPath[sp] = 1;
    const cs = (kids[sp] || []).filter(c => inside[c]);
    cs.sort((a, b) => e0[b] - e0[a]);
    let cur = e0[sp];
    for (const c of cs) {
      if (e0[c] > cur) continue; // overlaps the child already on the path
      if (cur <= s0[sp]) break;
      if (e0[c] < cur) segs.push(sp, e0[c], cur);
      stack.push(c);
      cur = s0[c];
    }
    if (cur > s0[sp]) segs.push(sp, s0[sp], cur);
  }
  return { segments: Float64Array.from(segs), onPath };
}
