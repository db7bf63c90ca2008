package forward

import (
	"encoding/hex"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/vigilhq/vigil/logs"
)

// resourcePrefixes are the OpenTelemetry semantic-convention namespaces of resource
// attributes. A logs.Record keeps its fields flat (record, scope and resource attributes of an
// OTLP record alike), so a field in one of these namespaces is sent back as a resource
// attribute and the rest as record attributes: that restores what SDKs and collectors send,
// and gives backends that key streams on resources (Loki, VictoriaLogs) the same streams.
var resourcePrefixes = []string{
	"service.", "host.", "k8s.", "container.", "cloud.", "deployment.", "process.", "os.",
	"telemetry.", "faas.", "device.", "aws.", "gcp.", "azure.", "heroku.", "webengine.",
}

func isResourceKey(k string) bool {
	for _, p := range resourcePrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// severityNumber maps Vigil's normalised levels to OTLP severity numbers (the first of each
// range, as the OpenTelemetry log data model's mapping of common level names does).
func severityNumber(level string) plog.SeverityNumber {
	switch level {
	case "trace":
		return plog.SeverityNumberTrace
	case "debug":
		return plog.SeverityNumberDebug
	case "info", "notice":
		return plog.SeverityNumberInfo
	case "warn", "warning":
		return plog.SeverityNumberWarn
	case "error", "err":
		return plog.SeverityNumberError
	case "fatal", "critical", "crit", "alert", "emerg", "emergency", "panic":
		return plog.SeverityNumberFatal
	}
	return plog.SeverityNumberUnspecified
}

// logsToPlog converts stored records back into OTLP: one ResourceLogs per distinct resource
// (service.name from Service, plus the fields in resource namespaces), the scope from
// otel.scope.name / otel.scope.version, the message as a string body, the level as severity
// text and number, trace and span ids, and every other field as a typed attribute.
func logsToPlog(recs []logs.Record) plog.Logs {
	ld := plog.NewLogs()
	type scopeKey struct{ res, name, version string }
	resources := map[string]plog.ResourceLogs{}
	scopes := map[scopeKey]plog.ScopeLogs{}
	var key strings.Builder
	var class []fieldClass // per field of the record at hand
	for i := range recs {
		r := &recs[i]
		class = class[:0]
		key.Reset()
		key.WriteString(r.Service)
		var scopeName, scopeVersion string
		for _, f := range r.Fields {
			c := classify(f.Key)
			class = append(class, c)
			switch c {
			case fieldScopeName:
				scopeName = f.Value
			case fieldScopeVersion:
				scopeVersion = f.Value
			case fieldResource:
				key.WriteByte(0)
				key.WriteString(f.Key)
				key.WriteByte(1)
				key.WriteString(f.Value)
			}
		}
		rk := key.String()
		rl, ok := resources[rk]
		if !ok {
			rl = ld.ResourceLogs().AppendEmpty()
			attrs := rl.Resource().Attributes()
			if r.Service != "" {
				attrs.PutStr("service.name", r.Service)
			}
			for j, f := range r.Fields {
				if class[j] == fieldResource {
					putField(attrs, f)
				}
			}
			resources[rk] = rl
		}
		sk := scopeKey{rk, scopeName, scopeVersion}
		sl, ok := scopes[sk]
		if !ok {
			sl = rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(scopeName)
			sl.Scope().SetVersion(scopeVersion)
			scopes[sk] = sl
		}
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(r.Time))
		if r.Level != "" {
			lr.SetSeverityText(r.Level)
			lr.SetSeverityNumber(severityNumber(r.Level))
		}
		if r.Message != "" {
			lr.Body().SetStr(r.Message)
		}
		if b, ok := parseHexID(r.TraceID, 16); ok {
			lr.SetTraceID(pcommon.TraceID(b))
		}
		if b, ok := parseHexID(r.SpanID, 8); ok {
			lr.SetSpanID(pcommon.SpanID(b))
		}
		attrs := lr.Attributes()
		attrs.EnsureCapacity(len(r.Fields))
		for j, f := range r.Fields {
			switch class[j] {
			case fieldEventName:
				lr.SetEventName(f.Value)
			case fieldRecord:
				putField(attrs, f)
			}
		}
	}
	return ld
}

// fieldClass is where a record's field goes in OTLP.
type fieldClass uint8

const (
	fieldRecord fieldClass = iota
	fieldResource
	fieldScopeName
	fieldScopeVersion
	fieldEventName
	fieldSkip // service.name: the record's Service already
)

func classify(k string) fieldClass {
	switch k {
	case "otel.scope.name":
		return fieldScopeName
	case "otel.scope.version":
		return fieldScopeVersion
	case "event.name":
		return fieldEventName
	case "service.name":
		return fieldSkip
	}
	if isResourceKey(k) {
		return fieldResource
	}
	return fieldRecord
}

// putField puts f with its kind's type: numbers as int when they are one, else double.
func putField(m pcommon.Map, f logs.Field) {
	switch f.Kind {
	case logs.KindNumber:
		if n, err := strconv.ParseInt(f.Value, 10, 64); err == nil {
			m.PutInt(f.Key, n)
			return
		}
		if x, err := strconv.ParseFloat(f.Value, 64); err == nil {
			m.PutDouble(f.Key, x)
			return
		}
	case logs.KindBool:
		if b, err := strconv.ParseBool(f.Value); err == nil {
			m.PutBool(f.Key, b)
			return
		}
	}
	m.PutStr(f.Key, f.Value)
}

// parseHexID parses a lower-case hex id of exactly n bytes.
func parseHexID(s string, n int) ([]byte, bool) {
	if len(s) != 2*n {
		return nil, false
	}
	b, err := hex.DecodeString(s)
	return b, err == nil
}
