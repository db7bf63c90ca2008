package main

import (
	"os"
	"regexp"
	"testing"
)

// The README's configuration reference must be complete and true: it loads, and it states
// exactly the defaults.
func TestREADMEConfigReferenceIsTheDefaults(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Configuration reference.*?```yaml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no yaml block under ## Configuration reference")
	}
	path := writeConfig(t, string(m[1]))
	var cfg Config // zero: every key must be in the block to reach the defaults
	if _, err := decodeConfigFile(path, &cfg); err != nil {
		t.Fatalf("README config reference does not load: %v", err)
	}
	if !sameConfig(t, cfg, DefaultConfig()) {
		t.Fatalf("README config reference differs from the defaults:\n%+v\n%+v", cfg, DefaultConfig())
	}
}
