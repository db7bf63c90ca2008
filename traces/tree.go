package traces

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// TreeQuery asks for part of a trace's span tree: the spans up to Depth levels below Parent
// (below the roots if Parent is zero), at most Limit of them.
type TreeQuery struct {
	Parent SpanID
	Depth  int
	Limit  int
}

// TreeNode is one span of a tree answer: its header and the size of what hangs below it.
type TreeNode struct {
	SpanID, Parent  SpanID
	Service, Name   string
	Kind            SpanKind
	Status          StatusCode
	Start           time.Time
	Duration        time.Duration
	ChildCount      int
	DescendantCount int
}

// Tree is the answer to a TreeQuery: the whole trace's size, time range and services, the
// selected spans in depth-first order (children by start time), and how many spans of the
// requested subtree were left out and why.
type Tree struct {
	TraceID    TraceID
	SpanCount  int
	Start, End time.Time
	Services   []string
	Spans      []TreeNode
	Omitted    int
	// OmittedBy is "limit" if Limit cut the answer, "depth" if only Depth did, "" if
	// nothing was left out.
	OmittedBy string
}

// ErrSpanNotFound means the trace has no span with the requested id.
var ErrSpanNotFound = fmt.Errorf("span not found")

// traceHeaders reads the header of every span of trace id without decoding attributes. A
// span written in two batches is there twice (buildTree keeps one).
func (db *DB) traceHeaders(ctx context.Context, id TraceID) ([]spanHeader, error) {
	if err := db.acquire(); err != nil {
		return nil, err
	}
	defer db.closing.RUnlock()
	var (
		chunks [][]spanHeader
		n      int
	)
	err := db.traceChunks(ctx, id, time.Time{}, time.Time{}, func(_ uint32, v []byte) (bool, error) {
		h, err := decodeHeaders(v)
		if err != nil {
			return false, err
		}
		chunks = append(chunks, h.headers)
		n += len(h.headers)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("trace %s: %w", id, ErrTraceNotFound)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	hs := make([]spanHeader, 0, n) // one copy, not one per doubling
	for _, c := range chunks {
		hs = append(hs, c...)
	}
	return hs, nil
}

// TraceTree answers q for trace id from the span headers alone: a trace of 100,000 spans
// costs one pass over its chunks and a few arrays, not its attributes. Spans whose parent
// is not in the trace are roots (their parent id is kept), as are the spans of a parent
// cycle, so every span is in the tree once. The spans are chosen level by level (so Limit
// cuts the deepest level first), then sent depth first. It returns ErrTraceNotFound or,
// for an unknown q.Parent, ErrSpanNotFound.
func (db *DB) TraceTree(ctx context.Context, id TraceID, q TreeQuery) (Tree, error) {
	hs, err := db.traceHeaders(ctx, id)
	if err != nil {
		return Tree{}, err
	}
	tr, hs := buildTree(hs)
	t := Tree{TraceID: id, SpanCount: len(hs)}

	var first []int32 // the first level: children of the parent, or the roots
	subtree := len(hs)
	if q.Parent.IsZero() {
		first = tr.roots
	} else {
		p, ok := tr.index[q.Parent]
		if !ok {
			return Tree{}, fmt.Errorf("span %s of trace %s: %w", q.Parent, id, ErrSpanNotFound)
		}
		first = tr.children(p)
		subtree = int(tr.desc[p])
	}

	// Level by level, as far as Depth and Limit allow.
	selected := make([]bool, len(hs))
	n, level, limited := 0, first, false
	for d := 0; d < q.Depth && len(level) > 0 && !limited; d++ {
		var next []int32
		for _, i := range level {
			if n >= q.Limit {
				limited = true
				break
			}
			selected[i] = true
			n++
			next = append(next, tr.children(i)...)
		}
		level = next
	}
	// Depth first for the answer.
	t.Spans = make([]TreeNode, 0, n)
	stack := slices.Clone(first)
	slices.Reverse(stack)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !selected[i] {
			continue
		}
		h := &hs[i]
		t.Spans = append(t.Spans, TreeNode{
			SpanID: h.SpanID, Parent: h.Parent, Service: h.Service, Name: h.Name, Kind: h.Kind, Status: h.Status,
			Start: timeOf(h.StartNs), Duration: time.Duration(h.DurNs),
			ChildCount: len(tr.children(i)), DescendantCount: int(tr.desc[i]),
		})
		cs := tr.children(i)
		for k := len(cs) - 1; k >= 0; k-- {
			stack = append(stack, cs[k])
		}
	}
	t.Omitted = subtree - len(t.Spans)
	switch {
	case limited:
		t.OmittedBy = "limit"
	case t.Omitted > 0:
		t.OmittedBy = "depth"
	}

	startNs, endNs := hs[0].StartNs, hs[0].StartNs+hs[0].DurNs
	for i := range hs {
		startNs, endNs = min(startNs, hs[i].StartNs), max(endNs, hs[i].StartNs+hs[i].DurNs)
		if !slices.Contains(t.Services, hs[i].Service) {
			t.Services = append(t.Services, hs[i].Service)
		}
	}
	slices.Sort(t.Services)
	t.Start, t.End = timeOf(startNs), timeOf(endNs)
	return t, nil
}

// spanTree is the parent-child structure of a trace's headers, by position.
type spanTree struct {
	index map[SpanID]int32
	roots []int32
	// The children of span i are kids[off[i]:off[i+1]], by start time then span id.
	off, kids []int32
	desc      []int32 // descendants of each span
}

func (t *spanTree) children(i int32) []int32 { return t.kids[t.off[i]:t.off[i+1]] }

// buildTree returns the tree of hs, and hs with every span once.
func buildTree(hs []spanHeader) (*spanTree, []spanHeader) {
	t := &spanTree{index: make(map[SpanID]int32, len(hs))}
	k := 0
	for i := range hs {
		if _, dup := t.index[hs[i].SpanID]; !dup {
			t.index[hs[i].SpanID] = int32(k)
			hs[k] = hs[i]
			k++
		}
	}
	hs = hs[:k]
	n := len(hs)
	t.off, t.kids, t.desc = make([]int32, n+1), make([]int32, 0, n), make([]int32, n)
	parent := make([]int32, n)
	for i := range hs {
		parent[i] = -1
		if p, ok := t.index[hs[i].Parent]; ok && !hs[i].Parent.IsZero() && p != int32(i) {
			parent[i] = p
		}
	}
	// Break parent cycles: a span that leads back to itself becomes a root.
	state := make([]uint8, n) // 0 unknown, 1 on the current path, 2 reaches a root
	var path []int32
	for i := range n {
		for j := int32(i); j >= 0 && state[j] != 2; j = parent[j] {
			if state[j] == 1 { // a cycle through j
				parent[j] = -1
				break
			}
			state[j] = 1
			path = append(path, j)
		}
		for _, j := range path {
			state[j] = 2
		}
		path = path[:0]
	}
	byStart := func(a, b int32) int {
		return cmp.Or(cmp.Compare(hs[a].StartNs, hs[b].StartNs), bytes.Compare(hs[a].SpanID[:], hs[b].SpanID[:]))
	}
	count := make([]int32, n+1)
	for i, p := range parent {
		if p < 0 {
			t.roots = append(t.roots, int32(i))
		} else {
			count[p+1]++
		}
	}
	for i := range n {
		t.off[i+1] = t.off[i] + count[i+1]
	}
	t.kids = t.kids[:n-len(t.roots)]
	fill := slices.Clone(t.off[:n])
	for i, p := range parent {
		if p >= 0 {
			t.kids[fill[p]] = int32(i)
			fill[p]++
		}
	}
	for i := range n {
		slices.SortFunc(t.children(int32(i)), byStart)
	}
	slices.SortFunc(t.roots, byStart)
	// Descendants: children before parents in reverse breadth-first order.
	order := slices.Clone(t.roots)
	for k := 0; k < len(order); k++ {
		order = append(order, t.children(order[k])...)
	}
	for k := len(order) - 1; k >= 0; k-- {
		if i := order[k]; parent[i] >= 0 {
			t.desc[parent[i]] += t.desc[i] + 1
		}
	}
	return t, hs
}

// TraceSpan returns one span of trace id in full, decoding only the chunk that holds it.
func (db *DB) TraceSpan(ctx context.Context, id TraceID, span SpanID) (Span, error) {
	if err := db.acquire(); err != nil {
		return Span{}, err
	}
	defer db.closing.RUnlock()
	var (
		out        Span
		found, hit bool
	)
	err := db.traceChunks(ctx, id, time.Time{}, time.Time{}, func(b uint32, v []byte) (bool, error) {
		hit = true
		h, err := decodeHeaders(v)
		if err != nil {
			return false, err
		}
		if !slices.ContainsFunc(h.headers, func(sh spanHeader) bool { return sh.SpanID == span }) {
			return true, nil
		}
		spans, err := decodeChunk(id, v, func(hash uint64) ([]Attribute, error) { return db.resource(b, hash) })
		if err != nil {
			return false, err
		}
		for _, s := range spans {
			if s.SpanID == span {
				out, found = s, true
				return false, nil
			}
		}
		return true, nil
	})
	switch {
	case err != nil:
		return Span{}, err
	case !hit:
		return Span{}, fmt.Errorf("trace %s: %w", id, ErrTraceNotFound)
	case !found:
		return Span{}, fmt.Errorf("span %s of trace %s: %w", span, id, ErrSpanNotFound)
	}
	return out, nil
}
