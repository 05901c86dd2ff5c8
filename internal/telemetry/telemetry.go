// Package telemetry keeps the gateway's Prometheus metrics: it observes
// every finished request and reads the store's own statistics when
// scraped. No label ever holds a client address, email or token: labels
// are decisions, rule names, status classes and store kinds.
package telemetry

import (
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/store"
)

// Sources are read at scrape time.
type Sources struct {
	// Stats reports the store's state (nil, or ok=false: no store metrics).
	Stats func() (store.Stats, bool)
	// Bans counts the bans in force per rule.
	Bans func() map[string]int
	// Maintenance reports maintenance mode.
	Maintenance func() bool
	// Hardening reports the gateway's own refusals outside the rule set
	// (limits:, dropped upgrades) by limit, and the requests whose client
	// could not be known (a junk forwarding entry from a trusted proxy).
	Hardening func() (refusals map[string]uint64, unknownClients uint64)
}

// Metrics is the registry and the gateway's collectors. It implements
// gateway.Observer.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	upstream    *prometheus.HistogramVec
	bodyLimit   prometheus.Counter
	bansStarted *prometheus.CounterVec
	reloads     *prometheus.CounterVec
	lastReload  prometheus.Gauge

	mu   sync.RWMutex
	reqs map[[2]string]prometheus.Counter // cached children: no label hashing per request
	// byClass holds the upstream histogram's children: error, 1xx..5xx.
	byClass [6]prometheus.Observer
}

// New registers every metric.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), reqs: map[[2]string]prometheus.Counter{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wootguard_requests_total",
		Help: "Requests by decision (pass, throttle, block, ban, safelist, dry-run, error) and deciding rule (empty when none)."},
		[]string{"decision", "rule"})
	m.upstream = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wootguard_upstream_duration_seconds",
		Help:    "Time from forwarding a request to Chatwoot's response headers, by status class (2xx..5xx, or error when Chatwoot did not answer).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
		[]string{"status_class"})
	for i, class := range []string{"error", "1xx", "2xx", "3xx", "4xx", "5xx"} {
		m.byClass[i] = m.upstream.WithLabelValues(class)
	}
	m.bodyLimit = prometheus.NewCounter(prometheus.CounterOpts{Name: "wootguard_body_limit_rejections_total",
		Help: "Requests answered 413 because their body exceeded body_limit on a route whose rules read body params."})
	m.bansStarted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wootguard_bans_started_total",
		Help: "Fail2Ban/Allow2Ban bans started, by rule."}, []string{"rule"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wootguard_config_reloads_total",
		Help: "Config reloads by result (success, failure)."}, []string{"result"})
	m.lastReload = prometheus.NewGauge(prometheus.GaugeOpts{Name: "wootguard_config_last_reload_success_timestamp_seconds",
		Help: "When the config was last loaded successfully (start or reload)."})
	m.lastReload.SetToCurrentTime()
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "wootguard_build_info",
		Help: "Always 1; the labels name the build.", ConstLabels: buildLabels()})
	build.Set(1)
	m.reg.MustRegister(m.requests, m.upstream, m.bodyLimit, m.bansStarted, m.reloads, m.lastReload, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&scrapeCollector{src: src})
	return m
}

func buildLabels() prometheus.Labels {
	l := prometheus.Labels{"version": "(devel)", "revision": "", "goversion": ""}
	if bi, ok := debug.ReadBuildInfo(); ok {
		l["version"], l["goversion"] = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				l["revision"] = s.Value
			}
		}
	}
	return l
}

// Observe implements gateway.Observer.
func (m *Metrics) Observe(rec *gateway.Record) {
	m.requestCounter(rec.Decision, rec.Rule).Inc()
	if rec.Rule == gateway.RuleBodyLimit {
		m.bodyLimit.Inc()
	}
	for _, ev := range rec.Events {
		if ev.BanStarted {
			m.bansStarted.WithLabelValues(ev.Rule).Inc()
		}
	}
	if rec.Forwarded {
		class := 0 // error: Chatwoot did not answer
		if !rec.UpstreamError && rec.UpstreamStatus >= 100 && rec.UpstreamStatus < 600 {
			class = rec.UpstreamStatus / 100
		}
		m.byClass[class].Observe(rec.UpstreamDuration.Seconds())
	}
}

func (m *Metrics) requestCounter(decision, rule string) prometheus.Counter {
	k := [2]string{decision, rule}
	m.mu.RLock()
	c, ok := m.reqs[k]
	m.mu.RUnlock()
	if ok {
		return c
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok = m.reqs[k]; !ok {
		c = m.requests.WithLabelValues(decision, rule)
		m.reqs[k] = c
	}
	return c
}

// Reloaded counts a config reload.
func (m *Metrics) Reloaded(ok bool) {
	if ok {
		m.reloads.WithLabelValues("success").Inc()
		m.lastReload.SetToCurrentTime()
		return
	}
	m.reloads.WithLabelValues("failure").Inc()
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
}

// Registry is the metrics' registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// scrapeCollector reads the store's statistics, the bans in force and
// maintenance mode when scraped.
type scrapeCollector struct{ src Sources }

var (
	descKeys      = prometheus.NewDesc("wootguard_store_keys", "Keys the counter store holds.", []string{"store"}, nil)
	descEvictions = prometheus.NewDesc("wootguard_store_evictions_total", "Live keys the store dropped to stay within its bound (store.max_keys).", []string{"store"}, nil)
	descErrors    = prometheus.NewDesc("wootguard_store_errors_total", "Failed store calls.", []string{"store"}, nil)
	descFallbacks = prometheus.NewDesc("wootguard_store_fallbacks_total", "Decisions taken by the store failure policy instead of the store.", []string{"store"}, nil)
	descRoundTrip = prometheus.NewDesc("wootguard_store_round_trips_total", "Calls to a remote store (Redis: one script call per decided request); concurrent calls share network round trips, see wootguard_store_pipelines_total.", []string{"store"}, nil)
	descPipelines = prometheus.NewDesc("wootguard_store_pipelines_total", "Network round trips (pipelines) to a remote store; each carries one or more calls.", []string{"store"}, nil)
	descHealthy   = prometheus.NewDesc("wootguard_store_healthy", "1 when the store answered its last call.", []string{"store"}, nil)
	descBans      = prometheus.NewDesc("wootguard_bans_active", "Bans in force, by rule.", []string{"rule"}, nil)
	descMaint     = prometheus.NewDesc("wootguard_maintenance_mode", "1 while maintenance mode answers every request with 503.", nil, nil)
	descLimits    = prometheus.NewDesc("wootguard_limit_refusals_total", "Requests refused (or upgrades dropped) by the gateway's own limits, by limit (limits: in the config).", []string{"limit"}, nil)
	descUnknown   = prometheus.NewDesc("wootguard_unknown_clients_total", "Requests from a trusted proxy whose forwarding header gave no usable client address (counted as one shared \"unknown\" client).", nil, nil)
)

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descKeys, descEvictions, descErrors, descFallbacks, descRoundTrip, descPipelines, descHealthy, descBans, descMaint, descLimits, descUnknown} {
		ch <- d
	}
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Stats != nil {
		if s, ok := c.src.Stats(); ok {
			healthy := 0.0
			if s.Healthy {
				healthy = 1
			}
			if s.Keys >= 0 {
				ch <- prometheus.MustNewConstMetric(descKeys, prometheus.GaugeValue, float64(s.Keys), s.Kind)
			}
			ch <- prometheus.MustNewConstMetric(descEvictions, prometheus.CounterValue, float64(s.Evictions), s.Kind)
			ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(s.Errors), s.Kind)
			ch <- prometheus.MustNewConstMetric(descFallbacks, prometheus.CounterValue, float64(s.Fallbacks), s.Kind)
			ch <- prometheus.MustNewConstMetric(descRoundTrip, prometheus.CounterValue, float64(s.RoundTrips), s.Kind)
			ch <- prometheus.MustNewConstMetric(descPipelines, prometheus.CounterValue, float64(s.Pipelines), s.Kind)
			ch <- prometheus.MustNewConstMetric(descHealthy, prometheus.GaugeValue, healthy, s.Kind)
		}
	}
	if c.src.Bans != nil {
		for rule, n := range c.src.Bans() {
			ch <- prometheus.MustNewConstMetric(descBans, prometheus.GaugeValue, float64(n), rule)
		}
	}
	if c.src.Hardening != nil {
		refusals, unknown := c.src.Hardening()
		for limit, n := range refusals {
			ch <- prometheus.MustNewConstMetric(descLimits, prometheus.CounterValue, float64(n), limit)
		}
		ch <- prometheus.MustNewConstMetric(descUnknown, prometheus.CounterValue, float64(unknown))
	}
	if c.src.Maintenance != nil {
		v := 0.0
		if c.src.Maintenance() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descMaint, prometheus.GaugeValue, v)
	}
}
