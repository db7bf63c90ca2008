package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestAuthConfigErrorsNameLineAndKey(t *testing.T) {
	f := func(file string, flags []string, want ...string) {
		t.Helper()
		path := writeConfig(t, file)
		c, err := parseArgs(append([]string{"--config", path}, flags...), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.load()
		if err == nil {
			t.Fatalf("load of\n%s\nsucceeded, want an error", file)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
	f("auth:\n  tokens:\n    - name: a\n      token: x\n      scopes: [read, write]\n",
		nil, `line 5: key "auth.tokens[0].scopes"`, `unknown scope "write"`)
	f("auth:\n  tokens:\n    - name: a\n      token: x\n",
		nil, `line 3: key "auth.tokens[0]"`, "at least one of ingest, read, admin")
	f("auth:\n  tokens:\n    - name: a\n      token: x\n      token_file: y\n      scopes: [read]\n",
		nil, `line 3: key "auth.tokens[0]"`, "exactly one of token and token_file")
	f("auth:\n  tokens:\n    - {name: a, token: x, scopes: [read]}\n  basic_users:\n    - {username: a, password: p, scopes: [ingest]}\n",
		nil, `line 5: key "auth.basic_users[0].username"`, `"a" is already the name of auth.tokens[0].name`)
	f("auth:\n  tokens:\n    - {name: a, token: x, scopes: [read], tokn: y}\n",
		nil, `key "auth.tokens[0].tokn"`, `did you mean "token"`)
	f("auth:\n  session_ttl: 10s\n", nil, `line 2: key "auth.session_ttl"`, "at least 1m")
	f("tls:\n  cert_file: a.crt\n", nil, `key "tls"`, "both cert_file and key_file")
	f("tls:\n  client_ca_file: ca.pem\n", nil, `line 2: key "tls.client_ca_file"`, "mutual TLS is TLS first")

	// Opening a listener to the network with nothing checking who comes in.
	f("data_dir: d\nhttp_listen: 0.0.0.0:9700\n", nil,
		`line 2: key "http_listen"`, `"0.0.0.0:9700" is not a loopback address and no authentication is configured`,
		"auth.tokens", "--insecure-no-auth")
	f("data_dir: d\n", []string{"--otlp-grpc-listen", ":4317", "--otlp-http-listen", "10.1.2.3:4318"},
		`flag --otlp-grpc-listen: ":4317" is not a loopback address`, `flag --otlp-http-listen: "10.1.2.3:4318"`)
	f("data_dir: d\nhttp_listen: vigil.internal:9700\n", nil, `key "http_listen"`, "not a loopback address")
}

func TestPublicListenersNeedAuthOrTheFlag(t *testing.T) {
	f := func(file string, flags ...string) {
		t.Helper()
		c, err := parseArgs(append([]string{"--config", writeConfig(t, file)}, flags...), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.load(); err != nil {
			t.Errorf("load of\n%s\nwith %v: %v", file, flags, err)
		}
	}
	f("http_listen: 127.0.0.1:9700\notlp_grpc_listen: '[::1]:4317'\notlp_http_listen: localhost:4318\n")
	f("http_listen: 0.0.0.0:9700\n", "--insecure-no-auth")
	f("http_listen: 0.0.0.0:9700\nauth:\n  tokens: [{name: a, token: x, scopes: [read]}]\n")
	f("http_listen: 0.0.0.0:9700\nauth:\n  basic_users: [{username: a, password: x, scopes: [ingest]}]\n")
	f("http_listen: 0.0.0.0:9700\ntls: {cert_file: a, key_file: b, client_ca_file: c}\n")
}

func TestPrintConfigHidesSecrets(t *testing.T) {
	var out bytes.Buffer
	path := writeConfig(t, "auth:\n  tokens: [{name: a, token: top-secret-token, scopes: [read]}]\n  basic_users: [{username: u, password: top-secret-password, scopes: [ingest]}]\n")
	if err := run(context.Background(), []string{"--config", path, "--print-config"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "top-secret") || strings.Count(out.String(), "<secret>") != 2 {
		t.Fatalf("--print-config shows or loses secrets:\n%s", out.String())
	}
}
