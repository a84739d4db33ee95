package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Result is one result line: figure name to value.
type Result map[string]any

// add copies every figure of other into r.
func (r Result) add(other Result) {
	for k, v := range other {
		r[k] = v
	}
}

// Output writes results as JSON lines, each stamped with the label (when
// set), the time and the load generator's GOMAXPROCS.
type Output struct {
	W     io.Writer
	Label string
}

// Emit writes one result line.
func (o Output) Emit(r Result) {
	if o.Label != "" {
		r["label"] = o.Label
	}
	r["ts"] = time.Now().UTC().Format(time.RFC3339)
	r["gomaxprocs"] = runtime.GOMAXPROCS(0)
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("load: result: %v", err)) // values are numbers, strings and bools
	}
	fmt.Fprintf(o.W, "%s\n", b)
}

// latencies collects durations; percentile figures are in microseconds.
type latencies []time.Duration

func us(d time.Duration) float64 { return round(float64(d)/float64(time.Microsecond), 1) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// pct is the nearest-rank percentile p (0..100) of sorted s.
func pct(s latencies, p float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return us(s[min(max(i, 0), len(s)-1)])
}

// addTo adds prefix+"p<P>_us" for each percentile, prefix+"mean_us" and
// prefix+"max_us" to r (p99.9 is named p999).
func (l latencies) addTo(r Result, prefix string, pcts ...float64) {
	s := slices.Clone(l)
	slices.Sort(s)
	for _, p := range pcts {
		name := strings.ReplaceAll(strconv.FormatFloat(p, 'f', -1, 64), ".", "")
		r[prefix+"p"+name+"_us"] = jsonFloat(pct(s, p))
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	if len(s) == 0 {
		r[prefix+"mean_us"] = nil
		return
	}
	r[prefix+"mean_us"] = us(sum / time.Duration(len(s)))
	r[prefix+"max_us"] = us(s[len(s)-1])
}

// jsonFloat maps NaN (no samples) to null, which JSON can carry.
func jsonFloat(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// clockTicks is USER_HZ, the unit of /proc CPU times on Linux.
const clockTicks = 100

// procCPU is the user+system CPU time of process pid, in seconds.
func procCPU(pid int) (float64, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	i := strings.LastIndexByte(string(b), ')') // the command name may hold spaces
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 { // utime and stime are fields 14 and 15 of the line
		return 0, false
	}
	user, err1 := strconv.ParseFloat(f[11], 64)
	sys, err2 := strconv.ParseFloat(f[12], 64)
	return (user + sys) / clockTicks, err1 == nil && err2 == nil
}

// procStatusKB is the "key:" line of /proc/<pid>/status, in kB.
func procStatusKB(pid int, key string) (int64, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			if fs := strings.Fields(rest); len(fs) > 0 {
				v, err := strconv.ParseInt(fs[0], 10, 64)
				return v, err == nil
			}
		}
	}
	return 0, false
}

// selfCPU is this process's user+system CPU time, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// hostBusy is the machine's non-idle CPU time (/proc/stat), in seconds.
func hostBusy() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var busy float64
	for i, x := range f[1:min(len(f), 9)] { // guest time is counted in user already
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		v, _ := strconv.ParseFloat(x, 64)
		busy += v
	}
	return busy / clockTicks, true
}

// cpuWindow measures the CPU time of the server, of the load generator and
// of everything else on the machine over a wall-clock window.
type cpuWindow struct {
	pid           int
	start         time.Time
	srv, self     float64
	host          float64
	srvOK, hostOK bool
}

func startCPU(pid int) *cpuWindow {
	w := &cpuWindow{pid: pid, start: time.Now(), self: selfCPU()}
	w.srv, w.srvOK = procCPU(pid)
	w.host, w.hostOK = hostBusy()
	return w
}

// stop adds loadgen_cpu_pct, server_cpu_s, server_cpu_pct (100 = one core)
// and other_cpu_pct (background load: a noise indicator) to r.
func (w *cpuWindow) stop(r Result) {
	wall := time.Since(w.start).Seconds()
	self := selfCPU() - w.self
	r["loadgen_cpu_pct"] = round(self/wall*100, 1)
	srv := 0.0
	if s, ok := procCPU(w.pid); ok && w.srvOK {
		srv = s - w.srv
		r["server_cpu_s"] = round(srv, 2)
		r["server_cpu_pct"] = round(srv/wall*100, 1)
	}
	if h, ok := hostBusy(); ok && w.hostOK {
		r["other_cpu_pct"] = round(max(0, h-w.host-srv-self)/wall*100, 1)
	}
}
