// Web Worker computing a trace's critical path off the page's thread. Message in:
// {id, starts, ends, parents, root} (typed arrays); out: {id, segments, onPath} or {id, error}.
import { criticalPath } from './trace-critical.js';

self.onmessage = e => {
  const { id, starts, ends, parents, root } = e.data;
  try {
    const { segments, onPath } = criticalPath(starts, ends, parents, root);
    self.postMessage({ id, segments, onPath }, [segments.buffer, onPath.buffer]);
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message || err) });
  }
};
