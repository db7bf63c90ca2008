// Layout of the service graph: services in columns by call depth (a service is one column
// right of its furthest caller; cycles are cut where they close), stacked in each column,
// edges as curves from the right side of the caller to the left side of the callee.

const NODE_W = 150, NODE_H = 30, COL_GAP = 90, ROW_GAP = 22, PAD = 16;

// layoutGraph takes Jaeger dependencies [{parent, child, callCount}] and returns
// {nodes: [{name, label, x, y, w, h, level}], edges: [{from, to, calls, path, lx, ly}], width, height}.
export function layoutGraph(deps) {
  const names = [...new Set(deps.flatMap(d => [d.parent, d.child]))].sort();
  const out = new Map(names.map(n => [n, []]));
  const indeg = new Map(names.map(n => [n, 0]));
  for (const d of deps) {
    if (d.parent === d.child) continue;
    out.get(d.parent).push(d.child);
    indeg.set(d.child, indeg.get(d.child) + 1);
  }
  // Longest-path levels over the graph with back edges removed (DFS from the sources, then
  // from anything left, which is inside a cycle).
  const state = new Map(); // 1 on stack, 2 done
  const back = new Set();
  const visit = start => {
    const stack = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const kids = out.get(top[0]);
      if (top[1] < kids.length) {
        const k = kids[top[1]++];
        const st = state.get(k);
        if (st === 1) back.add(`${top[0]}\u0000${k}`);
        else if (!st) { state.set(k, 1); stack.push([k, 0]); }
      } else {
        state.set(top[0], 2);
        stack.pop();
      }
    }
  };
  for (const n of names) if (indeg.get(n) === 0 && !state.get(n)) visit(n);
  for (const n of names) if (!state.get(n)) visit(n);
  const level = new Map(names.map(n => [n, 0]));
  // Relax in topological order (Kahn's algorithm on the acyclic remainder).
  const deg = new Map(names.map(n => [n, 0]));
  for (const [a, kids] of out) for (const k of kids) if (!back.has(`${a}\u0000${k}`)) deg.set(k, deg.get(k) + 1);
  const queue = names.filter(n => deg.get(n) === 0);
  while (queue.length) {
    const a = queue.shift();
    for (const k of out.get(a)) {
      if (back.has(`${a}\u0000${k}`)) continue;
      level.set(k, Math.max(level.get(k), level.get(a) + 1));
      deg.set(k, deg.get(k) - 1);
      if (deg.get(k) === 0) queue.push(k);
    }
  }
  const cols = [];
  for (const n of names) (cols[level.get(n)] ||= []).push(n);
  const nodes = new Map();
  let height = 0;
  cols.forEach((col, li) => {
    col.forEach((n, ri) => {
      const node = {
        name: n, label: n.length > 19 ? n.slice(0, 18) + '…' : n, level: li,
        x: PAD + li * (NODE_W + COL_GAP), y: PAD + ri * (NODE_H + ROW_GAP), w: NODE_W, h: NODE_H,
      };
      nodes.set(n, node);
      height = Math.max(height, node.y + NODE_H + PAD);
    });
  });
  const width = PAD * 2 + cols.length * NODE_W + Math.max(0, cols.length - 1) * COL_GAP;
  const edges = deps.map(d => {
    const a = nodes.get(d.parent), b = nodes.get(d.child);
    let path, lx, ly;
    if (a === b) { // a service calling itself: a loop above the box
      const x = a.x + a.w - 20, y = a.y;
      path = `M ${x} ${y} C ${x - 10} ${y - 26}, ${x + 30} ${y - 26}, ${x + 12} ${y}`;
      lx = x + 6; ly = y - 18;
    } else if (b.level > a.level) {
      const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2, mx = (x1 + x2) / 2;
      path = `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`;
      lx = mx; ly = (y1 + y2) / 2 - 4;
    } else { // back or same-column edge: around underneath
      const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y + b.h, low = Math.max(y1, y2) + 30;
      path = `M ${x1} ${y1} C ${x1} ${low}, ${x2} ${low}, ${x2} ${y2}`;
      lx = (x1 + x2) / 2; ly = low - 4;
      height = Math.max(height, low + PAD);
    }
    return { from: d.parent, to: d.child, calls: d.callCount, path, lx, ly };
  });
  return { nodes: [...nodes.values()], edges, width, height };
}
