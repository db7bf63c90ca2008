// Package alerting evaluates Prometheus rule files (alerting and recording rules, and Vigil's
// log-query rules) against Vigil's stores, and routes the resulting alerts with the
// Alertmanager packages: route tree, grouping, inhibition, silences, notification log, plus
// escalation policies (which Alertmanager lacks), to Slack, PagerDuty and webhook receivers.
// Its state (silences, notification log, acknowledgements) lives under <data-dir>/alerting.
//
// Router: Router embeds Alertmanager's packages as Grafana and Mimir do — config (parsed
// strictly, unchanged files load), dispatch (route tree, grouping, timing), inhibit, silence,
// nflog, timeinterval, template, provider/mem and the notifiers (config/receiver) — and
// re-implements none of them. Silences and the notification log are snapshotted under the
// router's directory (at MaintenanceInterval and on Stop), so a restart neither forgets a
// silence nor pages again for an alert already notified. Vigil adds: templates that link to
// its UI and list every alert of a group (templates/vigil.tmpl), per-attempt delivery
// counters and history, the embedded default configuration (DefaultConfig), and escalation
// with acknowledgement (escalation.go), configured in a top-level `vigil:` section that is
// cut out before Alertmanager's parser sees the file; a route names its policy with the
// Alertmanager route label `escalation_policy`. The API v2 handlers (api*.go) speak
// Alertmanager's api/v2/models shapes, since its api/v2 package needs go-openapi/runtime.
// The router must not import Vigil's stores: alerts reach it only through PutAlerts.
//
// High availability (cluster.go) is Alertmanager's own, wired as its app.go wires it: with
// RouterOptions.Cluster, cluster.Create binds the memberlist gossip, silences ("sil"), the
// notification log ("nfl") and Vigil's acknowledgements ("vigil_ack") are added as gossiped
// states, Start joins the peers and settles; the notification pipeline is built with the peer
// (its first stage waits for the gossip to settle) and waits Position() × PeerTimeout before
// deduplicating against the log. Every peer evaluates the same rules and routes the same
// alerts; the first by name sends, the others find its log entry and do not; escalation goes
// through the same pipeline, so it too pages once. Invariant: peers must run the same routing
// configuration, since a notification is identified by its group key and receiver.
//
// It reads the stores only through query interfaces declared here; it must not know their
// on-disk formats, nor any ingest protocol.
//
// # Rules
//
// Rules (rules*.go) runs Prometheus's own rules.Manager over rule files in Prometheus's format,
// unchanged (rulefmt, strict: unknown keys are errors): alerting rules with for,
// keep_firing_for, labels and templated annotations ($labels, $value, $externalLabels,
// $externalURL), recording rules, per-group interval, query_offset and limit. Expressions are
// evaluated by a PromQL engine against a storage.Queryable; recording rules and the ALERTS and
// ALERTS_FOR_STATE series are written through a storage.AppendableV2, and `for` state is
// restored from them after a restart, as in Prometheus. Alerts go to an AlertSink exactly as
// Prometheus's rules.SendAlerts and notifier hand them to Alertmanager: StartsAt is when the
// alert fired, EndsAt its resolution time or, while firing, ValidUntil (four times the larger
// of the group interval and the resend delay ahead); GeneratorURL is
// <external_url>/graph?g0.expr=...; external labels are added where missing, then alert
// relabeling applies; a firing alert is resent every ResendDelay and a resolved one for a
// while after. Invariants: a rule file that does not load is refused with its file, line and
// reason, and the rule set running before keeps running (Start then evaluates nothing);
// Rules.RulesRetriever is what Prometheus's API serves GET /api/v1/rules and /api/v1/alerts
// from. Rules imports no Vigil store: it takes Prometheus's interfaces plus LogCounter.
//
// Log rules (a Vigil extension, like Loki's ruler) live in the same files and stay valid
// PromQL, so Prometheus's parser and promtool accept the files: a selector on the reserved
// label __logs__ reads logs instead of metrics. The one supported shape is
//
//	count_over_time({__logs__="<log query>"}[<range>]) [<op> <number>]
//
// where <log query> is Vigil's log query language, <op> one of > >= < <= == !=. For example
//
//	groups:
//	  - name: checkout-logs
//	    rules:
//	      - alert: CheckoutErrors
//	        expr: count_over_time({__logs__="level:error AND service:checkout"}[5m]) > 10
//	        for: 2m
//	        labels: {severity: high}
//	        annotations:
//	          summary: '{{ $value }} checkout errors in 5m'
//	      - record: checkout:log_errors:count5m
//	        expr: count_over_time({__logs__="level:error AND service:checkout"}[5m])
//
// At each evaluation time t the rule asks LogCounter.CountLogs for the records in (t-range, t];
// the result is one sample without labels (kept only if the comparison holds), so for,
// keep_firing_for, labels, annotations and recording behave as for PromQL rules. Alerts of log
// rules carry a logs_url annotation (unless the rule sets one), also their GeneratorURL:
// <external_url>/logs?q=<log query>&start=<active since - range>&end=<last evaluation>, times
// in RFC 3339. Anything else mentioning __logs__ (other functions, other matchers, offset, @,
// bool, a vector on the right) is refused when the file is loaded, with its line; so is a log
// query the LogCounter rejects (if it implements LogQueryValidator), and any log rule when no
// LogCounter is configured. A Prometheus server given such a file evaluates the selector to
// nothing, so the rule never fires there.
package alerting
