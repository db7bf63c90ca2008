package alerting

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"
)

// expandRuleGlobs returns the files matching globs, in order, each once. A glob matching
// nothing adds nothing, as in Prometheus; a malformed glob is an error.
func expandRuleGlobs(globs []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, g := range globs {
		matches, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("rule file glob %q: %w", g, err)
		}
		for _, f := range matches {
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	return files, nil
}

// maxErrorsPerFile bounds what one broken file adds to an error.
const maxErrorsPerFile = 10

// checkFiles parses every file as the rule manager will, and returns all their errors. Each
// names the file, the line and column, and the reason:
//
//	rules/api.yml: 12:11: group "api", rule 2, "HighLatency": could not parse expression: ...
//	rules/api.yml: line 9: field forr not found in type rulefmt.Rule
func (r *Rules) checkFiles(ctx context.Context, files []string) error {
	var errs []error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("check rule files: %w", err)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("read rule file: %w", err))
			continue
		}
		_, ferrs := rulefmt.Parse(data, false, model.UTF8Validation, r.parser, r.log)
		var lines ruleFileLines
		if len(ferrs) > 0 {
			lines = readRuleLines(data)
		}
		for i, err := range ferrs {
			if i == maxErrorsPerFile {
				errs = append(errs, fmt.Errorf("%s: and %d more errors", f, len(ferrs)-i))
				break
			}
			errs = append(errs, &ruleFileError{file: f, msg: lines.locate(err), err: err})
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid rule files: %w", errors.Join(errs...))
	}
	return nil
}

// ruleFileError is an error of one rule file, always with a line where one is known.
type ruleFileError struct {
	file, msg string
	err       error // rulefmt's
}

func (e *ruleFileError) Error() string { return e.file + ": " + e.msg }
func (e *ruleFileError) Unwrap() error { return e.err }

// ruleFileLines is where the groups and rules of a rule file start.
type ruleFileLines []ruleGroupLines

type ruleGroupLines struct {
	name      string
	line, col int
	rules     [][2]int // line, column of each rule
}

// readRuleLines reads the positions of groups and rules; a file yaml cannot read has none.
func readRuleLines(data []byte) ruleFileLines {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	groups := mappingValue(root.Content[0], "groups")
	if groups == nil || groups.Kind != yaml.SequenceNode {
		return nil
	}
	var out ruleFileLines
	for _, g := range groups.Content {
		gl := ruleGroupLines{line: g.Line, col: g.Column}
		if n := mappingValue(g, "name"); n != nil {
			gl.name = n.Value
		}
		if rs := mappingValue(g, "rules"); rs != nil && rs.Kind == yaml.SequenceNode {
			for _, r := range rs.Content {
				gl.rules = append(gl.rules, [2]int{r.Line, r.Column})
			}
		}
		out = append(out, gl)
	}
	return out
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

var repeatedGroupRE = regexp.MustCompile(`^0:0: groupname: "(.*)" is repeated`)

// locate returns rulefmt's message for err on one line, with the line and column of the rule
// or group where rulefmt gives none (template and label errors, repeated group names).
func (l ruleFileLines) locate(err error) string {
	msg := err.Error()
	msg = strings.Replace(msg, "yaml: unmarshal errors:\n  ", "", 1)
	msg = strings.Replace(msg, "yaml: ", "", 1)
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	var re *rulefmt.Error
	if errors.As(err, &re) && strings.HasPrefix(msg, "group ") {
		for _, g := range l {
			if g.name == re.Group && re.Rule >= 1 && re.Rule <= len(g.rules) {
				pos := g.rules[re.Rule-1]
				return fmt.Sprintf("%d:%d: %s", pos[0], pos[1], msg)
			}
		}
	}
	if m := repeatedGroupRE.FindStringSubmatch(msg); m != nil {
		seen := false
		for _, g := range l {
			if g.name != m[1] {
				continue
			}
			if seen {
				return fmt.Sprintf("%d:%d:%s", g.line, g.col, strings.TrimPrefix(msg, "0:0:"))
			}
			seen = true
		}
	}
	return msg
}
