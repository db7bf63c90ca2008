package ingest

import "bytes"

// bodyPosition recovers line numbers for textparse, which reports none: the
// parsers hand out sub-slices of the body, so their capacity gives their
// offset.
type bodyPosition struct {
	body []byte
	seen bool // whether any entry was located yet
	at   int  // offset of the last entry seen
	end  int  // offset just past it
}

// see records the entry whose bytes are s, if s lies within the body.
func (p *bodyPosition) see(s []byte) {
	if len(s) == 0 || cap(s) > cap(p.body) {
		return
	}
	off := cap(p.body) - cap(s)
	if off+len(s) > len(p.body) || &p.body[off] != &s[0] {
		return // a copy (e.g. unescaped text): keep the last known position
	}
	p.seen, p.at, p.end = true, off, off+len(s)
}

// line is the 1-based line of the last entry seen.
func (p *bodyPosition) line() int {
	if !p.seen {
		return p.nextLine()
	}
	return bytes.Count(p.body[:p.at], []byte{'\n'}) + 1
}

// nextLine is the first non-blank line after the last entry seen: where the
// parser stopped when it fails.
func (p *bodyPosition) nextLine() int {
	i := 0
	if p.seen {
		nl := bytes.IndexByte(p.body[p.end:], '\n')
		if nl < 0 {
			return bytes.Count(p.body[:p.at], []byte{'\n'}) + 1
		}
		i = p.end + nl + 1
	}
	for i < len(p.body) {
		nl := bytes.IndexByte(p.body[i:], '\n')
		if nl < 0 || len(bytes.TrimSpace(p.body[i:i+nl])) > 0 {
			break
		}
		i += nl + 1
	}
	return bytes.Count(p.body[:min(i, len(p.body))], []byte{'\n'}) + 1
}
