package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// cliFlag ties a command-line flag to the config key it overrides: each flag is also a key
// of the YAML file, spelled with '-' where the key has '_'.
type cliFlag struct {
	key   string
	usage string
	field func(*Config) *string
}

var cliFlags = []cliFlag{
	{"data_dir", "directory holding all of Vigil's data", func(c *Config) *string { return &c.DataDir }},
	{"http_listen", "address of the main HTTP server (UI, query APIs, remote write, /metrics)", func(c *Config) *string { return &c.HTTPListen }},
	{"otlp_grpc_listen", "address of the OTLP gRPC receiver", func(c *Config) *string { return &c.OTLPGRPCListen }},
	{"otlp_http_listen", "address of the OTLP HTTP receiver", func(c *Config) *string { return &c.OTLPHTTPListen }},
	{"log_level", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }},
	{"log_format", "logfmt or json", func(c *Config) *string { return &c.LogFormat }},
	{"memory_limit", `memory to stay under (GOMEMLIMIT), e.g. 2GiB; "auto" is 70% of the machine's`, func(c *Config) *string { return &c.MemoryLimit }},
}

func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// cli is what the command line asked for.
type cli struct {
	configFile  string
	printConfig bool
	overrides   map[string]string // config key -> value given as a flag

	// insecureNoAuth allows listening on non-loopback addresses without authentication.
	insecureNoAuth bool
}

// usageError is a mistake in how vigil was called (a flag, the config file): main exits
// with status 2 and prints only the message.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func isUsageError(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// parseArgs parses the flags. Help goes to out.
func parseArgs(args []string, out io.Writer) (cli, error) {
	fs := flag.NewFlagSet("vigil", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: vigil [flags]\n       vigil version\n\nFlags (each also a key of the config file):\n")
		fs.PrintDefaults()
	}
	var c cli
	fs.StringVar(&c.configFile, "config", "", "YAML configuration file")
	fs.BoolVar(&c.printConfig, "print-config", false, "print the effective configuration as YAML and exit")
	fs.BoolVar(&c.insecureNoAuth, "insecure-no-auth", false, "allow listening on non-loopback addresses with no authentication configured")
	defaults := DefaultConfig()
	values := map[string]*string{}
	for _, f := range cliFlags {
		values[f.key] = fs.String(flagName(f.key), *f.field(&defaults), f.usage+" (key "+f.key+")")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{err}
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Errorf("unexpected argument %q (see vigil -help)", fs.Arg(0))}
	}
	c.overrides = map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		key := strings.ReplaceAll(f.Name, "-", "_")
		if v, ok := values[key]; ok {
			c.overrides[key] = *v
		}
	})
	return c, nil
}

// load builds the effective configuration: defaults, then the file, then the flags; then
// validates it, naming the file line or the flag of every bad value.
func (c cli) load() (Config, error) {
	cfg := DefaultConfig()
	lines := map[string]int{}
	if c.configFile != "" {
		var err error
		if lines, err = decodeConfigFile(c.configFile, &cfg); err != nil {
			return cfg, err
		}
		cfg.Alerting.resolvePaths(dirOf(c.configFile))
		cfg.SLO.resolvePaths(dirOf(c.configFile))
		cfg.Web.resolvePaths(dirOf(c.configFile))
		cfg.Auth.resolvePaths(dirOf(c.configFile))
		cfg.TLS.resolvePaths(dirOf(c.configFile))
		cfg.Query.resolvePaths(dirOf(c.configFile))
		cfg.Forward.resolve(dirOf(c.configFile))
	}
	for _, f := range cliFlags {
		if v, ok := c.overrides[f.key]; ok {
			*f.field(&cfg) = v
		}
	}
	err := errors.Join(append(unjoin(cfg.Validate()), cfg.checkExposure(c.insecureNoAuth)...)...)
	if err == nil {
		return cfg, nil
	}
	var located []error
	for _, e := range unjoin(err) {
		var fe *fieldError
		switch {
		case !errors.As(e, &fe):
			located = append(located, e)
		case hasKey(c.overrides, fe.Key):
			located = append(located, fmt.Errorf("flag --%s: %s", flagName(fe.Key), fe.Msg))
		case fe.Line > 0 && c.configFile != "":
			located = append(located, fmt.Errorf("config file %s: line %d: key %q: %s", c.configFile, fe.Line, fe.Key, fe.Msg))
		case lines[fe.Key] > 0:
			located = append(located, fmt.Errorf("config file %s: line %d: key %q: %s", c.configFile, lines[fe.Key], fe.Key, fe.Msg))
		default:
			located = append(located, fmt.Errorf("config key %q: %s", fe.Key, fe.Msg))
		}
	}
	return cfg, errors.Join(located...)
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
