package expr

import (
	"fmt"
	"math/rand"
	"strconv"
	"testing"
)

// serviceNames are service-instance-like names: ip_process[_port].
func serviceNames(n int) []string {
	r := rand.New(rand.NewSource(1))
	procs := []string{"gse_agent", "nginx", "redis-server", "mysqld", "bkmonitorbeat", "gse_dataserver", "consul-agent"}
	out := make([]string, n)
	for i := range out {
		s := fmt.Sprintf("10.0.%d.%d_%s", r.Intn(256), r.Intn(256), procs[r.Intn(len(procs))])
		if r.Intn(2) == 0 {
			s += "_" + strconv.Itoa(80+r.Intn(50000))
		}
		out[i] = s
	}
	return out
}

func processIDs(n int) []string {
	r := rand.New(rand.NewSource(2))
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.FormatInt(1+r.Int63n(2000000000), 10)
	}
	return out
}

func benchMatch(b *testing.B, expr string, values []string, sim bool) {
	p, err := Parse(expr)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	hits := 0
	for i := 0; b.Loop(); i++ {
		v := values[i%len(values)]
		var ok bool
		if sim {
			ok = p.simulate(v)
		} else {
			ok = p.Match(v)
		}
		if ok {
			hits++
		}
	}
	_ = hits
}

// tenGroups is an expression with ten bracket groups of every kind.
const tenGroups = "[10, 127, 172].[0-255].[0-255].[1-254]_[gse, bk][_, -][a-z][!x]*[agent, dataserver, monitorbeat]*[1-65535, 80]"

// suiteTenGroups is bench/suite.go's TenGroups, the suite's slowest
// expression on service-instance names (issue 11).
const suiteTenGroups = "[1-255].[0-255].[0-255].[0-255]_[gse, nginx, redis][_,-][a-z][a-z][a-z,-][a-z,0-9]*"

func BenchmarkMatch(b *testing.B) {
	names := serviceNames(1024)
	ids := processIDs(1024)
	b.Run("suffix/*_gse_agent", func(b *testing.B) { benchMatch(b, "*_gse_agent", names, false) })
	b.Run("suffix/*_gse_agent/sim", func(b *testing.B) { benchMatch(b, "*_gse_agent", names, true) })
	b.Run("word/10.0.1.2_gse_agent", func(b *testing.B) { benchMatch(b, "10.0.1.2_gse_agent", names, false) })
	b.Run("word/10.0.1.2_gse_agent/sim", func(b *testing.B) { benchMatch(b, "10.0.1.2_gse_agent", names, true) })
	b.Run("ten-groups", func(b *testing.B) { benchMatch(b, tenGroups, names, false) })
	b.Run("ten-groups/sim", func(b *testing.B) { benchMatch(b, tenGroups, names, true) })
	b.Run("suite-ten-groups", func(b *testing.B) { benchMatch(b, suiteTenGroups, names, false) })
	b.Run("suite-ten-groups/sim", func(b *testing.B) { benchMatch(b, suiteTenGroups, names, true) })
	b.Run("id/word", func(b *testing.B) { benchMatch(b, "1234567890", ids, false) })
	b.Run("id/word/sim", func(b *testing.B) { benchMatch(b, "1234567890", ids, true) })
	b.Run("id/[1-1000000000]", func(b *testing.B) { benchMatch(b, "[1-1000000000]", ids, false) })
	b.Run("id/[1-1000000000]/sim", func(b *testing.B) { benchMatch(b, "[1-1000000000]", ids, true) })
	b.Run("id/*[1-1000000000]*", func(b *testing.B) { benchMatch(b, "*[1-1000000000]*", ids, false) })
	b.Run("zone/zone.[1-1000000000]", func(b *testing.B) {
		benchMatch(b, "zone.[1-1000000000]", []string{"zone.7", "zone.123456", "zone.x", "zone.1000000001"}, false)
	})
	b.Run("zone/zone.12345", func(b *testing.B) {
		benchMatch(b, "zone.12345", []string{"zone.7", "zone.123456", "zone.x", "zone.1000000001"}, false)
	})
	long := []string{fmt.Sprintf("%0500d", 7)}
	b.Run("long/*[1-100]?", func(b *testing.B) { benchMatch(b, "*[1-100]?", long, false) })
}

func BenchmarkParse(b *testing.B) {
	for _, e := range []string{"*_gse_agent", "[1-1000000000]", tenGroups} {
		b.Run(e, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
