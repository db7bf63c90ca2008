//go:build vigil_deps

// Temporary: pins the dependencies of the packages being written in parallel, so that no two
// engineers edit go.mod at once. Removed at integration.
package main

import (
	_ "github.com/blevesearch/bleve/v2"
	_ "github.com/prometheus/alertmanager/dispatch"
	_ "github.com/prometheus/alertmanager/silence"
	_ "github.com/prometheus/alertmanager/inhibit"
	_ "github.com/prometheus/alertmanager/nflog"
	_ "github.com/prometheus/alertmanager/notify/slack"
	_ "github.com/prometheus/alertmanager/notify/pagerduty"
	_ "github.com/prometheus/alertmanager/notify/webhook"
	_ "github.com/prometheus/alertmanager/api/v2/models"
	_ "github.com/prometheus/alertmanager/provider/mem"
	_ "github.com/cockroachdb/pebble/v2"
	_ "github.com/klauspost/compress/zstd"
	_ "go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	_ "go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	_ "go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	_ "go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	_ "go.opentelemetry.io/otel/sdk/log"
	_ "go.opentelemetry.io/otel/sdk/trace"
)
