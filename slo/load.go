package slo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// SpecError is one reason a spec was refused.
type SpecError struct {
	File   string
	Line   int    // 0 when unknown
	Field  string // dotted path, e.g. slos[1].sli.latency.threshold; "" for the whole file
	Reason string
}

func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Set is the SLOs of a set of spec files. It is immutable, so safe for concurrent use.
type Set struct {
	slos   []*SLO // by name
	failed map[string]bool
}

// SLOs returns every SLO, by name. The caller must not modify them.
func (s *Set) SLOs() []*SLO {
	if s == nil {
		return nil
	}
	return s.slos
}

// Get returns the SLO named name.
func (s *Set) Get(name string) (*SLO, bool) {
	if s == nil {
		return nil, false
	}
	i, ok := slices.BinarySearchFunc(s.slos, name, func(o *SLO, n string) int { return strings.Compare(o.Name, n) })
	if !ok {
		return nil, false
	}
	return s.slos[i], true
}

// FailedFiles are the files that had at least one invalid spec, sorted.
func (s *Set) FailedFiles() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.failed))
	for f := range s.failed {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// KeepFailed returns s where every file that failed to load keeps the SLOs it had in old: an
// invalid edit to one file leaves that file's SLOs as they were before the reload, and every
// other file's as they are now. A name s already holds is not taken from old.
func (s *Set) KeepFailed(old *Set) *Set {
	if len(s.failed) == 0 || old == nil {
		return s
	}
	out := &Set{slos: slices.Clone(s.slos), failed: s.failed}
	for _, o := range old.slos {
		if !s.failed[o.File] {
			continue
		}
		if _, dup := s.Get(o.Name); dup {
			continue
		}
		out.slos = append(out.slos, o)
	}
	sortSLOs(out.slos)
	return out
}

func sortSLOs(s []*SLO) {
	slices.SortFunc(s, func(a, b *SLO) int { return strings.Compare(a.Name, b.Name) })
}

// Load reads the spec files matching globs (relative globs are the caller's to resolve). A
// file may hold several YAML documents, each either Vigil's native form (a `slos:` list) or
// an OpenSLO v1 document (kind SLO, or kind SLI for an indicatorRef; the other OpenSLO kinds
// are skipped).
//
// Every invalid spec is refused with its file, line, field and reason, and reported in the
// joined error (each a *SpecError); Load still returns the valid SLOs, with the files that
// failed marked (see KeepFailed), so one broken spec does not take the others down. Two SLOs
// with one name are both refused.
func Load(ctx context.Context, globs []string) (*Set, error) {
	var files []string
	seen := map[string]bool{}
	for _, g := range globs {
		matches, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("slo file glob %q: %w", g, err)
		}
		for _, f := range matches {
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	l := &loader{parser: parser.NewParser(parser.Options{}), failed: map[string]bool{}, slis: map[string]openSLOSLIDoc{}}
	var docs []specDoc
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("load slo files: %w", err)
		}
		docs = append(docs, l.readFile(f)...)
	}
	var out []*SLO
	for _, d := range docs {
		out = append(out, l.build(d)...)
	}
	// Names are unique across files; a clash refuses both, since neither is the right one.
	byName := map[string][]*SLO{}
	for _, s := range out {
		byName[s.Name] = append(byName[s.Name], s)
	}
	kept := out[:0]
	for _, s := range out {
		if dups := byName[s.Name]; len(dups) > 1 {
			var where []string
			for _, d := range dups {
				where = append(where, fmt.Sprintf("%s:%d", d.File, d.Line))
			}
			l.fail(s.File, s.Line, "name", "SLO %q is defined more than once (%s)", s.Name, strings.Join(where, ", "))
			continue
		}
		kept = append(kept, s)
	}
	sortSLOs(kept)
	set := &Set{slos: kept, failed: l.failed}
	if len(l.errs) > 0 {
		return set, fmt.Errorf("invalid slo specs: %w", errors.Join(l.errs...))
	}
	return set, nil
}

type loader struct {
	parser parser.Parser
	errs   []error
	failed map[string]bool
	slis   map[string]openSLOSLIDoc // OpenSLO kind SLI, by name
}

func (l *loader) fail(file string, line int, field, format string, args ...any) {
	l.failed[file] = true
	l.errs = append(l.errs, &SpecError{File: file, Line: line, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// specDoc is one YAML document of a spec file.
type specDoc struct {
	file string
	node *yaml.Node // the document's mapping
}

// readFile splits a file into documents and collects its OpenSLO SLI documents.
func (l *loader) readFile(file string) []specDoc {
	data, err := os.ReadFile(file)
	if err != nil {
		l.failed[file] = true
		l.errs = append(l.errs, fmt.Errorf("read slo file: %w", err))
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []specDoc
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			l.fail(file, 0, "", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			return nil // yaml cannot resync after a syntax error
		}
		if len(n.Content) == 0 || n.Content[0].Tag == "!!null" {
			continue
		}
		root := n.Content[0]
		if root.Kind != yaml.MappingNode {
			l.fail(file, root.Line, "", "expected a mapping, got %s", root.ShortTag())
			continue
		}
		if v := mappingValue(root, "kind"); v != nil && v.Value == "SLI" && mappingValue(root, "apiVersion") != nil {
			l.readOpenSLOSLI(file, root)
			continue
		}
		docs = append(docs, specDoc{file: file, node: root})
	}
	return docs
}

func (l *loader) build(d specDoc) []*SLO {
	switch {
	case mappingValue(d.node, "apiVersion") != nil:
		return l.buildOpenSLO(d.file, d.node)
	case mappingValue(d.node, "slos") != nil:
		return l.buildNative(d.file, d.node)
	default:
		l.fail(d.file, d.node.Line, "", "neither a `slos:` list nor an OpenSLO document (apiVersion: openslo/v1)")
		return nil
	}
}

// decodeStrict decodes n into v, refusing keys v has no field for; it reports every problem
// with its line and dotted field and says whether v is usable.
func (l *loader) decodeStrict(file string, n *yaml.Node, v any, path string) bool {
	before := len(l.errs)
	l.checkKeys(file, n, reflect.TypeOf(v).Elem(), path)
	if len(l.errs) > before {
		return false
	}
	if err := n.Decode(v); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				line := 0
				if _, err := fmt.Sscanf(e, "line %d:", &line); err == nil {
					e = strings.TrimSpace(e[strings.Index(e, ":")+1:])
				}
				l.fail(file, line, path, "%s", e)
			}
		} else {
			l.fail(file, n.Line, path, "%v", err)
		}
		return false
	}
	return true
}

// checkKeys refuses keys of n that the struct type t has no yaml field for, recursively.
func (l *loader) checkKeys(file string, n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				l.checkKeys(file, item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	case reflect.Struct:
		if t == reflect.TypeFor[yaml.Node]() || n.Kind != yaml.MappingNode {
			return // the type error, if any, is yaml's to report
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			key := joinField(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				known := make([]string, 0, len(fields))
				for f := range fields {
					known = append(known, f)
				}
				sort.Strings(known)
				l.fail(file, k.Line, key, "unknown field (known: %s)", strings.Join(known, ", "))
				continue
			}
			l.checkKeys(file, n.Content[i+1], ft, key)
		}
	}
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lineOf returns the line of the value at keys under n, or of the deepest key found.
func lineOf(n *yaml.Node, keys ...string) int {
	line := n.Line
	for _, k := range keys {
		v := mappingValue(n, k)
		if v == nil {
			return line
		}
		n, line = v, v.Line
	}
	return line
}

// checkQuery parses the query q (a template over {{.window}}) and says why it is not PromQL.
func (l *loader) checkQuery(q string) error {
	if strings.TrimSpace(q) == "" {
		return errors.New("missing query")
	}
	_, err := l.parser.ParseExpr(windowPlaceholder.ReplaceAllLiteralString(q, "5m"))
	if err != nil {
		return fmt.Errorf("invalid PromQL: %w", err)
	}
	return nil
}

// counterRate turns a query into a rate over {{.window}}: a query that uses {{.window}} is
// kept; a bare counter selector becomes sum(rate(selector[{{.window}}])).
func (l *loader) counterRate(q string) (string, error) {
	if err := l.checkQuery(q); err != nil {
		return "", err
	}
	if windowPlaceholder.MatchString(q) {
		return q, nil
	}
	e, _ := l.parser.ParseExpr(q)
	if _, ok := e.(*parser.VectorSelector); ok {
		return "sum(rate(" + strings.TrimSpace(q) + "[{{.window}}]))", nil
	}
	return "", errors.New("must use {{.window}} as its range (e.g. sum(rate(x[{{.window}}]))) or be a counter's selector")
}
