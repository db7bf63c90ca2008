//go:build vigil_deps

// Temporary: pins dependencies while the packages that import them are written.

package main

import (
	_ "github.com/prometheus/prometheus/tsdb"
	_ "github.com/prometheus/prometheus/promql"
	_ "github.com/prometheus/prometheus/web/api/v1"
	_ "github.com/prometheus/prometheus/storage/remote"
	_ "github.com/prometheus/prometheus/scrape"
	_ "github.com/prometheus/prometheus/rules"
	_ "go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	_ "go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	_ "go.opentelemetry.io/collector/pdata/plog/plogotlp"
	_ "go.yaml.in/yaml/v3"
	_ "go.opentelemetry.io/otel/sdk/metric"
	_ "go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	_ "go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	_ "github.com/VictoriaMetrics/metrics"
	_ "github.com/go-chi/chi/v5"
	_ "go.uber.org/goleak"
	_ "golang.org/x/sync/errgroup"
	_ "google.golang.org/grpc"
)
func main() {}
