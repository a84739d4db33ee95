package load

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// groupKeys name the members whose values together identify a case:
// results that share them are runs of the same case.
var groupKeys = []string{"label", "scenario", "mode", "n", "sync", "conns", "subs", "window", "k"}

// shown lists, per scenario, the figures Summarize prints, in order.
var shown = map[string][]string{
	"rtt":        {"ops_s", "ops_per_server_cpu_s", "p50_us", "p99_us", "p999_us", "server_cpu_pct", "loadgen_cpu_pct", "other_cpu_pct", "errors", "result_gaps"},
	"throughput": {"ops_s", "ops_per_server_cpu_s", "p50_us", "p99_us", "p999_us", "server_cpu_pct", "loadgen_cpu_pct", "other_cpu_pct", "errors", "non_monotonic", "result_gaps", "duplicate_results"},
	"fanout":     {"last_p50_us", "last_p99_us", "first_p50_us", "rpc_p50_us", "msgs_per_s", "msgs_per_server_cpu_s", "patches_per_s", "sends_per_s", "patches_lost", "events_lost", "event_before_patch", "bad_msgs", "connect_s", "server_cpu_pct", "loadgen_cpu_pct", "other_cpu_pct"},
	"bigstate":   {"ops_s", "ops_per_server_cpu_s", "p50_us", "p99_us", "sub_p50_us", "append_ops_s", "append_p50_us", "seed_ms", "snapshot_bytes", "snapshot_ms", "avg_patch_bytes", "sub_patches_lost", "server_cpu_pct", "other_cpu_pct"},
	"idlemem":    {"rss_per_conn_kb", "rss_delta_mb", "rss_before_kb", "rss_after_kb", "conns_per_s", "idle_cpu_pct", "alive_at_end"},
}

// SummaryOptions tune Summarize.
type SummaryOptions struct {
	// MaxOther drops results whose other_cpu_pct (background load, percent
	// of one core) is above it; negative keeps every result.
	MaxOther float64
	// Baseline is the label the ratios compare with (default: the first).
	Baseline string
}

// caseRuns is the runs of one case.
type caseRuns struct {
	key, scenario, label string
	rows                 []map[string]any
}

// readCases groups the result lines of r by case, in order of appearance.
func readCases(inputs []io.Reader, maxOther float64) ([]*caseRuns, error) {
	var cases []*caseRuns
	byKey := map[string]*caseRuns{}
	for _, in := range inputs {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			var m map[string]any
			if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &m) != nil {
				continue
			}
			scen, _ := m["scenario"].(string)
			if other, ok := m["other_cpu_pct"].(float64); scen == "" || ok && maxOther >= 0 && other > maxOther {
				continue
			}
			// work per second of server CPU: robust when the load generator is the bottleneck
			if cpu, ok := m["server_cpu_pct"].(float64); ok && cpu > 0 {
				if v, ok := m["ops_s"].(float64); ok {
					m["ops_per_server_cpu_s"] = float64(int64(v / (cpu / 100)))
				}
				if v, ok := m["msgs_per_s"].(float64); ok {
					m["msgs_per_server_cpu_s"] = float64(int64(v / (cpu / 100)))
				}
			}
			var parts []string
			for _, k := range groupKeys {
				if v, ok := m[k]; ok {
					parts = append(parts, fmt.Sprintf("%s=%v", k, v))
				}
			}
			key := strings.Join(parts, " ")
			c := byKey[key]
			if c == nil {
				label, _ := m["label"].(string)
				c = &caseRuns{key: key, scenario: scen, label: label}
				byKey[key] = c
				cases = append(cases, c)
			}
			c.rows = append(c.rows, m)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read results: %w", err)
		}
	}
	return cases, nil
}

// Summarize writes, as Markdown tables, the median, min and max of each
// figure per case of the result lines read from inputs; with several labels
// it adds a table of the medians side by side with ratios to the baseline.
func Summarize(w io.Writer, inputs []io.Reader, o SummaryOptions) error {
	cases, err := readCases(inputs, o.MaxOther)
	if err != nil {
		return err
	}
	medians := map[string]map[string]float64{} // case without label -> label|figure -> median
	var labels, unlabelled []string
	if o.MaxOther >= 0 {
		fmt.Fprintf(w, "(only results with other_cpu_pct <= %g)\n\n", o.MaxOther)
	}
	fmt.Fprintln(w, "| case | metric | median | min | max | runs |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	for _, c := range cases {
		for _, f := range shown[c.scenario] {
			var vals []float64
			for _, r := range c.rows {
				if v, ok := r[f].(float64); ok {
					vals = append(vals, v)
				}
			}
			if len(vals) == 0 {
				continue
			}
			slices.Sort(vals)
			med := median(vals)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d |\n", c.key, f, num(med), num(vals[0]), num(vals[len(vals)-1]), len(vals))
			ck := strings.TrimSpace(strings.TrimPrefix(c.key, "label="+c.label))
			if medians[ck] == nil {
				medians[ck] = map[string]float64{}
				unlabelled = append(unlabelled, ck)
			}
			medians[ck][c.label+"|"+f] = med
			if !slices.Contains(labels, c.label) {
				labels = append(labels, c.label)
			}
		}
	}
	if len(labels) < 2 {
		return nil
	}
	base := cmp.Or(o.Baseline, labels[0])
	fmt.Fprintf(w, "\n| case | metric | %s | ratio vs %s |\n|---|---|%s---|\n", strings.Join(labels, " | "), base, strings.Repeat("---:|", len(labels)))
	for _, ck := range unlabelled {
		var scen string
		for _, p := range strings.Fields(ck) {
			if v, ok := strings.CutPrefix(p, "scenario="); ok {
				scen = v
			}
		}
		for _, f := range shown[scen] {
			var cols, ratios []string
			bv, bok := medians[ck][base+"|"+f]
			found := false
			for _, l := range labels {
				v, ok := medians[ck][l+"|"+f]
				if !ok {
					cols = append(cols, "-")
					continue
				}
				found = true
				cols = append(cols, num(v))
				if l != base && bok && bv != 0 {
					ratios = append(ratios, fmt.Sprintf("%s %.2fx", l, v/bv))
				}
			}
			if found {
				fmt.Fprintf(w, "| %s | %s | %s | %s |\n", ck, f, strings.Join(cols, " | "), strings.Join(ratios, ", "))
			}
		}
	}
	return nil
}

// median of sorted vals.
func median(vals []float64) float64 {
	n := len(vals)
	if n%2 == 0 {
		return (vals[n/2-1] + vals[n/2]) / 2
	}
	return vals[n/2]
}

// num formats an integral value without decimals, others with one.
func num(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
