package alerting

// High availability is Alertmanager's, with Alertmanager's own cluster package (memberlist
// gossip), wired as its app.go wires it: every instance of a pair (or more) evaluates the same
// rules and routes the same alerts, and gossips its silences ("sil") and notification log
// ("nfl"). The notification pipeline then waits Position() × PeerTimeout before the
// deduplication stage reads the log, so the first peer (by name) sends, and the others, whose
// log has learnt by then that it was sent, do not. A peer that is down sends nothing and
// writes no log entry, so the next one in line sends after its wait: a pair pages once when
// both are up and still pages when one is down. The gossip settle stage holds notifications
// back after a start until the peer has learnt the cluster's state (or SettleTimeout passed).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/prometheus/alertmanager/cluster"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/client_golang/prometheus"
)

// ClusterOptions joins the router to a gossip cluster of peers running the same rules and
// routing configuration. An empty ListenAddress is no cluster. Zero durations take the
// defaults shown, which are Alertmanager's.
type ClusterOptions struct {
	// ListenAddress is ip:port for the gossip (TCP and UDP on the same port).
	ListenAddress string
	// AdvertiseAddress is ip:port the peers reach this one at; default: derived from
	// ListenAddress (which must then not be a wildcard address on a multi-homed host).
	AdvertiseAddress string
	// Peers are host:port of the other instances (names are resolved, as Alertmanager's
	// --cluster.peer); joining is retried while they are unreachable.
	Peers []string
	// PeerTimeout is how long each peer waits per peer ahead of it before notifying.
	// Default 15s.
	PeerTimeout time.Duration
	// GossipInterval between gossip messages. Default 200ms.
	GossipInterval time.Duration
	// PushPullInterval between full state syncs. Default 1m.
	PushPullInterval time.Duration
	// SettleTimeout is the longest notifications wait after a start for the gossip to settle.
	// Default PushPullInterval.
	SettleTimeout time.Duration
	// TLSConfigFile is Alertmanager's cluster TLS file (tls_server_config, tls_client_config):
	// gossip then goes over mutual TLS on TCP only. Empty: plain TCP and UDP.
	TLSConfigFile string
	// Label, if set, is carried by every packet; peers with another label are ignored.
	Label string
}

// Enabled reports whether the options describe a cluster.
func (o ClusterOptions) Enabled() bool { return o.ListenAddress != "" }

func (o *ClusterOptions) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PeerTimeout, 15*time.Second)
	def(&o.GossipInterval, cluster.DefaultGossipInterval)
	def(&o.PushPullInterval, cluster.DefaultPushPullInterval)
	def(&o.SettleTimeout, o.PushPullInterval)
}

// clusterPeer is the router's membership in a cluster; nil without one.
type clusterPeer struct {
	opts   ClusterOptions
	peer   *cluster.Peer
	log    *slog.Logger
	settle context.CancelFunc
}

// createClusterPeer binds the gossip listener, as Alertmanager's cluster.Create. Nothing is
// joined yet: states are added first, then start joins, so that the first push-pull already
// carries them.
func createClusterPeer(opts ClusterOptions, log *slog.Logger, reg prometheus.Registerer) (*clusterPeer, error) {
	opts.setDefaults()
	tlsCfg, err := cluster.GetTLSTransportConfig(opts.TLSConfigFile)
	if err != nil {
		return nil, fmt.Errorf("read cluster TLS config %s: %w", opts.TLSConfigFile, err)
	}
	log = log.With("component", "cluster")
	p, err := cluster.Create(log, reg, opts.ListenAddress, opts.AdvertiseAddress, opts.Peers,
		true, // wait for peer names to resolve, as Alertmanager does
		opts.PushPullInterval, opts.GossipInterval,
		cluster.DefaultTCPTimeout, cluster.DefaultResolvePeersTimeout,
		cluster.DefaultProbeTimeout, cluster.DefaultProbeInterval,
		tlsCfg, false, opts.Label, "")
	if err != nil {
		return nil, fmt.Errorf("create gossip cluster on %s: %w", opts.ListenAddress, err)
	}
	c := &clusterPeer{opts: opts, peer: p, log: log, settle: func() {}}
	enabled := prometheus.NewGaugeFunc(prometheus.GaugeOpts{ // as Alertmanager's app metrics
		Name: "alertmanager_cluster_enabled",
		Help: "Indicates whether the clustering is enabled or not.",
	}, func() float64 { return 1 })
	if err := reg.Register(enabled); err != nil {
		return nil, errors.Join(fmt.Errorf("register cluster metrics: %w", err), c.leave(context.Background()))
	}
	return c, nil
}

// addState gossips s under key and returns the function that broadcasts its changes.
func (c *clusterPeer) addState(key string, s cluster.State, reg prometheus.Registerer) func([]byte) {
	return c.peer.AddState(key, s, reg).Broadcast
}

// start joins the peers (retrying those unreachable every 10s for up to 6h, Alertmanager's
// defaults) and settles in the background; run receives the settling loop.
func (c *clusterPeer) start(run func(func())) {
	if err := c.peer.Join(cluster.DefaultReconnectInterval, cluster.DefaultReconnectTimeout); err != nil {
		c.log.Warn("unable to join gossip mesh; retrying in the background", "err", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.SettleTimeout)
	c.settle = cancel
	run(func() { c.peer.Settle(ctx, c.opts.GossipInterval*10) })
}

// leave tells the peers this one is leaving, so they stop waiting for it at once rather than
// after failure detection. memberlist keeps its listener until the process exits, as in
// Alertmanager (cluster.Peer offers no shutdown).
func (c *clusterPeer) leave(ctx context.Context) error {
	c.settle()
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if err := c.peer.Leave(max(timeout, time.Millisecond)); err != nil {
		return fmt.Errorf("leave gossip cluster: %w", err)
	}
	return nil
}

// wait is Alertmanager's clusterWait: one PeerTimeout per peer ahead of this one by name.
func (c *clusterPeer) wait() time.Duration {
	return time.Duration(c.peer.Position()) * c.opts.PeerTimeout
}

// ClusterStatus is the cluster part of GET /api/v2/status.
type ClusterStatus struct {
	Name   string // this peer's name
	Status string // "ready", "settling" or "disabled"
	Peers  []ClusterMember
}

// ClusterMember is one member of the cluster, this one included.
type ClusterMember struct{ Name, Address string }

// ClusterStatus reports the router's cluster membership, as Alertmanager's status API does.
func (r *Router) ClusterStatus() ClusterStatus {
	if r.peer == nil {
		return ClusterStatus{Status: "disabled"}
	}
	st := ClusterStatus{Name: r.peer.peer.Name(), Status: r.peer.peer.Status()}
	for _, m := range r.peer.peer.Peers() {
		st.Peers = append(st.Peers, ClusterMember{Name: m.Name(), Address: m.Address()})
	}
	sort.Slice(st.Peers, func(i, j int) bool { return st.Peers[i].Name < st.Peers[j].Name })
	return st
}

// wait is how long this router's pipeline waits before deduplicating: 0 without a cluster.
func (r *Router) wait() time.Duration {
	if r.peer == nil {
		return 0
	}
	return r.peer.wait()
}

// pipelinePeer is the peer the notification pipeline's settle stage waits for: a nil
// interface without a cluster (a typed nil would not be seen as absent by notify).
func (r *Router) pipelinePeer() notify.Peer {
	if r.peer == nil {
		return nil
	}
	return r.peer.peer
}
