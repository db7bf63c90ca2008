package main

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlDecoder records where each key of a config file sits, so that every error (an unknown
// key, a value of the wrong type, a value Validate refuses) can name the file, line and key.
//
// yaml's own KnownFields mode reports unknown keys, but names the Go type rather than the key
// path and stops at values whose custom unmarshalers fail without a line; walking the node
// tree ourselves gives every error a line and a dotted key.
type yamlDecoder struct {
	file  string
	src   []string       // the file's lines
	lines map[string]int // key path -> line
	errs  []error
}

// decodeConfigFile reads path into cfg (which holds the defaults) and returns the line of
// every key it set.
func decodeConfigFile(path string, cfg *Config) (map[string]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("config file %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	d := &yamlDecoder{file: path, src: strings.Split(string(data), "\n"), lines: map[string]int{}}
	if len(root.Content) > 0 { // an empty file keeps every default
		d.decode(root.Content[0], reflect.ValueOf(cfg).Elem(), "")
	}
	return d.lines, errors.Join(d.errs...)
}

func (d *yamlDecoder) fail(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf("config file %s: line %d: key %q: %s", d.file, n.Line, key, fmt.Sprintf(format, args...)))
}

var (
	yamlUnmarshaler   = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshaler   = reflect.TypeFor[encoding.TextUnmarshaler]()
	legacyUnmarshaler = reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()
)

// decodes itself: a type with its own unmarshaler is a leaf for our walk.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(yamlUnmarshaler) || p.Implements(textUnmarshaler) || p.Implements(legacyUnmarshaler)
}

func (d *yamlDecoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if path != "" {
		d.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !decodesItself(t.Elem()):
		if n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "expected a list, got %s", n.ShortTag())
			return
		}
		v.Set(reflect.MakeSlice(t, len(n.Content), len(n.Content)))
		for i, item := range n.Content {
			d.decode(item, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case decodesItself(t) || (t.Kind() != reflect.Struct && t.Kind() != reflect.Pointer):
		if err := n.Decode(v.Addr().Interface()); err != nil {
			msg := err.Error()
			msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
			if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
				msg = msg[i+2:] // we say the line ourselves
			}
			d.fail(n, path, "%s", msg)
		}
	case t.Kind() == reflect.Pointer:
		if n.Tag == "!!null" {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, v.Elem(), path)
	default: // a plain struct: every key must be one of its fields
		if n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "expected a mapping of keys, got %s", n.ShortTag())
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := joinKey(path, k.Value)
			idx, ok := fields[k.Value]
			if !ok {
				d.fail(k, key, "unknown key%s", suggest(k.Value, fields))
				continue
			}
			f := v.FieldByIndex(idx)
			if raw, ok := f.Addr().Interface().(rawYAMLTarget); ok {
				d.lines[key] = k.Line
				raw.setRawYAML(d.rawText(k), d.file)
				continue
			}
			d.decode(val, f, key)
		}
	}
}

// rawYAMLTarget is a config value decoded by someone else's YAML loader (Prometheus's, for
// scrape_configs). It gets the source text of its key and value, padded with blank lines so
// that the other loader's line numbers are the file's.
type rawYAMLTarget interface {
	setRawYAML(src, file string)
}

// rawText returns the key k's line and every following line that belongs to its value (more
// indented, blank, or a comment), dedented to column 1, behind k.Line-1 blank lines.
func (d *yamlDecoder) rawText(k *yaml.Node) string {
	indent := k.Column - 1
	first := k.Line - 1
	end := first + 1
	for end < len(d.src) {
		line := d.src[end]
		trimmed := strings.TrimLeft(line, " ")
		if trimmed != "" && !strings.HasPrefix(trimmed, "#") && len(line)-len(trimmed) <= indent {
			break
		}
		end++
	}
	var b strings.Builder
	b.WriteString(strings.Repeat("\n", first))
	for _, line := range d.src[first:end] {
		if len(line) >= indent && strings.TrimSpace(line[:indent]) == "" {
			line = line[indent:]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func dirOf(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		return filepath.Dir(file)
	}
	return filepath.Dir(abs)
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps each YAML key of a struct to its field index, following inline fields.
func yamlFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			for k, idx := range yamlFields(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = []int{i}
	}
	return out
}

// suggest names the known key closest to a misspelt one.
func suggest(key string, fields map[string][]int) string {
	best, bestDist := "", 3 // more than two edits away is no longer a typo
	for k := range fields {
		if dist := editDistance(key, k); dist < bestDist || (dist == bestDist && k < best) {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
