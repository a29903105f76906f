// Package synth generates a seeded, realistic synthetic GSEKit data set:
// process-status records (SPEC section 1) laid out like a real deployment,
// and matching "process_status" request bodies (SPEC sections 2 to 4).
//
// The data set has one large business holding about 85% of the processes
// and seven small and medium ones; hundreds of sets and thousands of
// modules with ASCII and Chinese names; hosts in a few cloud areas, each
// carrying several service instances named like 10.0.3.17_nginx_80; and
// 1 to 5 processes per service instance. All ids are unique and scattered
// rather than sequential in topology order. The same Options always give
// the same records in the same order.
//
// Generate streams the records and keeps none of them; it is what
// `procq gen`, the demo server and the benchmarks use. Requests builds a
// mix of request bodies aimed at a data set made with the same Options.
package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/procq/procq/record"
)

// Defaults used by `procq gen` when no --processes or --seed is given.
const (
	DefaultProcesses = 100000
	DefaultSeed      = 1
)

// MaxProcesses is the largest Options.Processes Generate accepts.
const MaxProcesses = 1 << 30

// Options selects a data set: how many processes (records) it has and the
// seed that fixes every random choice.
type Options struct {
	// Processes is the exact number of records; 0 gives none.
	Processes int
	// Seed selects the data set; equal Options give identical output.
	Seed int64
}

func (o Options) check() error {
	if o.Processes < 0 {
		return fmt.Errorf("synth: processes must be >= 0, got %d", o.Processes)
	}
	if o.Processes > MaxProcesses {
		return fmt.Errorf("synth: processes must be <= %d, got %d", MaxProcesses, o.Processes)
	}
	return nil
}

// Generate calls emit once per record, opt.Processes times exactly, in a
// deterministic order (business by business, then set, module and service
// instance). Each record is fresh and emit may keep it, but records share
// their strings and their ConfigTemplates slices with other records and
// their ProcInstInfos and Expression storage with neighbouring records, so
// emit must treat them as read-only. Generate stops at the first error
// emit returns and returns it. It holds no more than a small batch of
// records itself.
func Generate(opt Options, emit func(*record.Record) error) error {
	if err := opt.check(); err != nil {
		return err
	}
	if emit == nil {
		return errors.New("synth: nil emit function")
	}
	if opt.Processes == 0 {
		return nil
	}
	g := newGenerator(opt, emit)
	return g.run()
}

// Collect generates the data set of opt and returns all its records.
func Collect(opt Options) ([]*record.Record, error) {
	recs := make([]*record.Record, 0, max(opt.Processes, 0))
	err := Generate(opt, func(r *record.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// batchSize is how many records are built before they are emitted; their
// expressions share one string.
const batchSize = 256

// Rates, per mille unless noted.
const (
	templatedModule = 750 // module created from a service template
	emptyIP         = 5   // host without an IPv4 address
	withIPv6        = 200 // host with an IPv6 address
	withAgentID     = 700 // host with an agent id
	hostDown        = 20  // host whose processes are all terminated
	running         = 925 // process running on a live host
	terminated      = 40  // process terminated on a live host (rest: unregistered)
	autoManaged     = 880 // process is_auto
	twoInstances    = 150 // process with two proc_inst_infos
	duplicateRowID  = 10  // record reusing the previous record's row id
	withPort        = 600 // service instances of a module with a port carry it
	randomPort      = 120 // module without a usual port gets a random one
	gseAgentInSet   = 500 // set that surely has a gse_agent module
)

// host is one machine of a set; its strings are shared by every process on it.
type host struct {
	ip, ip6, agent string
	cloud          *cloud
	down           bool
	inst           int64 // last inst_id handed out on this host
}

// slot is one process of a service instance recipe.
type slot struct {
	name    string
	ptID    int64 // process_template_id, 0 without a service template
	configs []record.ConfigTemplate
}

// recipe is the list of processes every service instance of a module runs.
type recipe struct {
	slots []slot
	port  int
	stID  int64 // service_template_id, 0 for none
}

// bizState is what the generator remembers about the current business.
type bizState struct {
	id         int64
	idx        int
	templates  []*recipe // by module base, when templated
	decided    []bool    // whether templates[i] was decided
	fixedStart int
	fixedNext  int
	wordStart  int
	wordNext   int
	famCtr     []int
}

type generator struct {
	rng  *rand.Rand
	n    int
	emit func(*record.Record) error

	setPerm, modPerm, siPerm, procPerm, rowPerm, v6Perm perm
	ipPerm                                              [3]perm
	ipSpace                                             [3]uint64 // addresses per network
	setCtr, modCtr, siCtr, procCtr, rowCtr, v6Ctr       uint64
	ipCtr                                               [3]uint64
	stCtr, ptCtr                                        int64
	lastRowID                                           int64
	cloudCum                                            []int

	biz        bizState
	hosts      []host
	baseOrder  []int
	weights    []float64
	setBudget  []int
	modBudget  []int
	scratch    []byte
	exprBuf    []byte
	exprEnd    []int
	batch      []record.Record
	bi         int
	left       int // records not yet placed in a batch
	insts      []record.ProcInstInfo
	setID      int64
	setName    string
	setEnv     string
	moduleID   int64
	moduleName string
}

func newGenerator(opt Options, emit func(*record.Record) error) *generator {
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x5eed_9e37_79b9_7f4a))
	n := opt.Processes
	g := &generator{rng: rng, n: n, emit: emit, left: n, stCtr: 0, ptCtr: 1000}
	g.setPerm = newPerm(rng, bitsFor(n, 20))
	g.modPerm = newPerm(rng, bitsFor(n, 20))
	g.siPerm = newPerm(rng, bitsFor(n, 27))
	g.procPerm = newPerm(rng, bitsFor(n, 31))
	g.rowPerm = newPerm(rng, bitsFor(n, 10))
	g.v6Perm = newPerm(rng, 32)

	// IPv4 space: enough /24 subnets of each network for about twice the
	// hosts expected there, so addresses stay dense like a real intranet.
	hosts := uint64(n/6 + 64)
	shares := [3]uint64{600, 200, 200} // 10/8, 172.16/12, 192.168/16
	maxSubnets := [3]uint64{1 << 16, 1 << 12, 1 << 8}
	for i := range g.ipPerm {
		need := (2*hosts*shares[i]/1000)/254 + 1
		subnets := uint64(4)
		for subnets < need && subnets < maxSubnets[i] {
			subnets <<= 1
		}
		if subnets > maxSubnets[i] {
			subnets = maxSubnets[i]
		}
		g.ipSpace[i] = subnets * 254
		g.ipPerm[i] = newPerm(rng, bitsFor(int(g.ipSpace[i]-1), 4)-1)
	}
	sum := 0
	for _, c := range clouds {
		sum += c.weight
		g.cloudCum = append(g.cloudCum, sum)
	}
	g.baseOrder = make([]int, len(moduleBases))
	for i := range g.baseOrder {
		g.baseOrder[i] = i
	}
	return g
}

// chance reports true with probability perMille/1000.
func (g *generator) chance(perMille int) bool { return g.rng.IntN(1000) < perMille }

func (g *generator) run() error {
	budgets := bizBudgets(g.n)
	for i := range businesses {
		if budgets[i] == 0 {
			continue
		}
		if err := g.business(i, budgets[i]); err != nil {
			return err
		}
	}
	return g.flush()
}

// bizBudgets splits n processes over the businesses by their shares.
func bizBudgets(n int) []int {
	out := make([]int, len(businesses))
	rest := n
	for i := 1; i < len(businesses); i++ {
		out[i] = int(float64(n) * businesses[i].share)
		rest -= out[i]
	}
	out[0] = rest
	return out
}

// split divides total over k parts with log-normal weights into dst; every
// part gets at least 1 when total >= k.
func (g *generator) split(dst []int, total, k int) []int {
	dst = dst[:0]
	w := g.weights[:0]
	sum := 0.0
	for range k {
		x := math.Exp(0.8 * g.rng.NormFloat64())
		w = append(w, x)
		sum += x
	}
	g.weights = w
	base := 0
	if total >= k {
		base = 1
	}
	rest := total - base*k
	for i := range k {
		x := rest
		if i < k-1 {
			x = int(math.Round(float64(rest) * w[i] / sum))
			x = min(max(x, 0), rest)
		}
		sum -= w[i]
		rest -= x
		dst = append(dst, base+x)
	}
	return dst
}

func (g *generator) business(idx, budget int) error {
	nb := len(moduleBases)
	g.biz = bizState{
		id:         businesses[idx].id,
		idx:        idx,
		templates:  make([]*recipe, nb),
		decided:    make([]bool, nb),
		fixedStart: g.rng.IntN(len(fixedSetNames)),
		wordStart:  g.rng.IntN(len(setWords) * len(setStages)),
		famCtr:     make([]int, len(numberedSets)),
	}
	sets := max(1, int(math.Sqrt(float64(budget))*0.9))
	sets = min(sets, budget)
	g.setBudget = g.split(g.setBudget, budget, sets)
	// g.setBudget is not touched again until the next business.
	for _, b := range g.setBudget {
		if b == 0 {
			continue
		}
		if err := g.set(b); err != nil {
			return err
		}
	}
	return nil
}

// nextID maps the next value of ctr through p to a positive id.
func nextID(p *perm, ctr *uint64) int64 {
	v := p.apply(*ctr)
	*ctr++
	return int64(v) + 1
}

func (g *generator) newSetName() string {
	b := &g.biz
	r := g.rng.IntN(100)
	if r < 10 && b.fixedNext < len(fixedSetNames) {
		name := fixedSetNames[(b.fixedStart+b.fixedNext)%len(fixedSetNames)]
		b.fixedNext++
		return name
	}
	words := len(setWords) * len(setStages)
	if r < 22 && b.wordNext < words {
		i := (b.wordStart + b.wordNext) % words
		b.wordNext++
		return setWords[i/len(setStages)] + "." + setStages[i%len(setStages)]
	}
	f := g.rng.IntN(len(numberedSets))
	b.famCtr[f] += 1 + g.rng.IntN(3)
	fam := numberedSets[f]
	buf := append(g.scratch[:0], fam.prefix...)
	buf = strconv.AppendInt(buf, int64(b.famCtr[f]), 10)
	buf = append(buf, fam.suffix...)
	g.scratch = buf
	return string(buf)
}

func (g *generator) set(budget int) error {
	g.setID = nextID(&g.setPerm, &g.setCtr)
	g.setName = g.newSetName()
	switch r := g.rng.IntN(100); {
	case r < 75:
		g.setEnv = "3"
	case r < 87:
		g.setEnv = "1"
	default:
		g.setEnv = "2"
	}

	// Hosts of this set: each carries 4 to 12 processes on average.
	perHost := 4 + g.rng.IntN(9)
	nh := (budget + perHost - 1) / perHost
	g.hosts = g.hosts[:0]
	for range nh {
		g.hosts = append(g.hosts, g.newHost())
	}

	// Modules: distinct bases, so names are unique within the set.
	mods := 2 + g.rng.IntN(10) + min(12, budget/300)
	mods = min(mods, budget, len(moduleBases))
	order := g.baseOrder
	for i := range mods {
		j := i + g.rng.IntN(len(order)-i)
		order[i], order[j] = order[j], order[i]
	}
	if g.chance(gseAgentInSet) {
		has := false
		for _, b := range order[:mods] {
			has = has || b == gseAgentModule
		}
		if !has {
			for j := mods; j < len(order); j++ {
				if order[j] == gseAgentModule {
					order[mods-1], order[j] = order[j], order[mods-1]
					break
				}
			}
		}
	}
	g.modBudget = g.split(g.modBudget, budget, mods)
	for i, b := range g.modBudget {
		if b == 0 {
			continue
		}
		if err := g.module(order[i], b); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) newHost() host {
	h := host{}
	c := g.rng.IntN(1000)
	for i, cum := range g.cloudCum {
		if c < cum {
			h.cloud = &clouds[i]
			break
		}
	}
	if !g.chance(emptyIP) {
		h.ip = g.newIP()
	}
	if g.chance(withIPv6) {
		v := g.v6Perm.apply(g.v6Ctr)
		g.v6Ctr++
		buf := append(g.scratch[:0], "fd00::"...)
		buf = strconv.AppendUint(buf, v>>16, 16)
		buf = append(buf, ':')
		buf = strconv.AppendUint(buf, v&0xffff, 16)
		g.scratch = buf
		h.ip6 = string(buf)
	}
	if g.chance(withAgentID) {
		// GSE 2.0 style: two digits of cloud id, eight zeros, 12 hex digits.
		buf := g.scratch[:0]
		if h.cloud.id < 10 {
			buf = append(buf, '0')
		}
		buf = strconv.AppendInt(buf, h.cloud.id%100, 10)
		buf = append(buf, "00000000"...)
		v := g.rng.Uint64() & (1<<48 - 1)
		for s := 44; s >= 0; s -= 4 {
			buf = append(buf, "0123456789abcdef"[(v>>uint(s))&15])
		}
		g.scratch = buf
		h.agent = string(buf)
	}
	h.down = g.chance(hostDown)
	return h
}

// newIP returns a unique private IPv4 address (until a network's space is
// exhausted, when addresses repeat), never ending in .0 or .255.
func (g *generator) newIP() string {
	var n int
	switch r := g.rng.IntN(1000); {
	case r < 600:
		n = 0
	case r < 800:
		n = 1
	default:
		n = 2
	}
	idx := g.ipPerm[n].within(g.ipCtr[n]%g.ipSpace[n], g.ipSpace[n])
	g.ipCtr[n]++
	subnet, last := idx/254, idx%254+1
	buf := g.scratch[:0]
	switch n {
	case 0:
		buf = append(buf, "10."...)
		buf = strconv.AppendUint(buf, subnet>>8, 10)
	case 1:
		buf = append(buf, "172."...)
		buf = strconv.AppendUint(buf, 16+subnet>>8, 10)
	default:
		buf = append(buf, "192.168"...)
	}
	buf = append(buf, '.')
	buf = strconv.AppendUint(buf, subnet&255, 10)
	buf = append(buf, '.')
	buf = strconv.AppendUint(buf, last, 10)
	g.scratch = buf
	return string(buf)
}

// newRecipe draws the processes of a module's service instances.
func (g *generator) newRecipe(base int, templated bool) *recipe {
	mb := &moduleBases[base]
	rc := &recipe{}
	if templated {
		g.stCtr++
		rc.stID = g.stCtr
	}
	switch {
	case mb.port > 0 && g.chance(withPort):
		rc.port = mb.port
	case mb.port == 0 && g.chance(randomPort):
		rc.port = 8000 + g.rng.IntN(2000)
	}
	extra := 0
	switch r := g.rng.IntN(100); {
	case r < 35:
	case r < 65:
		extra = 1
	case r < 85:
		extra = 2
	case r < 95:
		extra = 3
	default:
		extra = 4
	}
	slots := make([]slot, 0, 1+extra)
	slots = append(slots, slot{name: mb.mains[g.rng.IntN(len(mb.mains))]})
	for tries := 0; len(slots) < 1+extra && tries < 20; tries++ {
		name := sidecars[g.rng.IntN(len(sidecars))]
		dup := false
		for _, s := range slots {
			dup = dup || s.name == name
		}
		if !dup {
			slots = append(slots, slot{name: name})
		}
	}
	for i := range slots {
		if templated {
			g.ptCtr++
			slots[i].ptID = g.ptCtr
		}
		slots[i].configs = g.newConfigs()
	}
	rc.slots = slots
	return rc
}

// newConfigs draws 0 to 3 distinct config templates of the business.
func (g *generator) newConfigs() []record.ConfigTemplate {
	k := 0
	switch r := g.rng.IntN(100); {
	case r < 30:
	case r < 70:
		k = 1
	case r < 90:
		k = 2
	default:
		k = 3
	}
	if k == 0 {
		return []record.ConfigTemplate{}
	}
	out := make([]record.ConfigTemplate, 0, k)
	first := g.rng.IntN(len(configFiles))
	step := 1 + g.rng.IntN(len(configFiles)-1)
	for i := range k {
		j := (first + i*step) % len(configFiles)
		dup := false
		for _, c := range out {
			dup = dup || c.TemplateName == configFiles[j].template
		}
		if dup {
			continue
		}
		out = append(out, record.ConfigTemplate{
			ConfigTemplateID: int64(g.biz.idx*len(configFiles) + j + 1),
			TemplateName:     configFiles[j].template,
			FileName:         configFiles[j].file,
		})
	}
	return out[:len(out):len(out)]
}

func (g *generator) module(base, budget int) error {
	g.moduleID = nextID(&g.modPerm, &g.modCtr)
	g.moduleName = moduleBases[base].name
	b := &g.biz
	if !b.decided[base] {
		b.decided[base] = true
		if g.chance(templatedModule) {
			b.templates[base] = g.newRecipe(base, true)
		}
	}
	rc := b.templates[base]
	templated := rc != nil
	if !templated {
		rc = g.newRecipe(base, false)
	}
	nh := len(g.hosts)
	offset := g.rng.IntN(nh)
	for j := 0; budget > 0; j++ {
		h := &g.hosts[(offset+j)%nh]
		round := j / nh
		nproc := min(len(rc.slots), budget)
		if !templated && nproc > 1 && g.chance(300) {
			nproc = 1 + g.rng.IntN(nproc)
		}
		budget -= nproc
		if err := g.instance(h, rc, round, nproc); err != nil {
			return err
		}
	}
	return nil
}

// instance emits the first nproc processes of one service instance of
// recipe rc on host h; round counts earlier instances of the module there.
func (g *generator) instance(h *host, rc *recipe, round, nproc int) error {
	siID := nextID(&g.siPerm, &g.siCtr)
	port := rc.port
	if round > 0 {
		if port == 0 {
			port = 10000
		}
		port += round
	}
	buf := g.scratch[:0]
	if h.ip != "" {
		buf = append(buf, h.ip...)
		buf = append(buf, '_')
	}
	buf = append(buf, rc.slots[0].name...)
	if port > 0 {
		buf = append(buf, '_')
		buf = strconv.AppendInt(buf, int64(port), 10)
	}
	g.scratch = buf
	siName := string(buf)

	for i := range nproc {
		if g.bi == len(g.batch) {
			if err := g.flush(); err != nil {
				return err
			}
			k := min(batchSize, g.left)
			g.batch = make([]record.Record, k)
			g.left -= k
		}
		r := &g.batch[g.bi]
		g.bi++
		s := &rc.slots[i]

		if g.lastRowID > 0 && g.chance(duplicateRowID) {
			r.ID = g.lastRowID
		} else {
			r.ID = nextID(&g.rowPerm, &g.rowCtr)
			g.lastRowID = r.ID
		}
		r.BizID = g.biz.id
		r.CloudID = h.cloud.id
		r.SetID = g.setID
		r.ModuleID = g.moduleID
		r.ServiceInstanceID = siID
		r.ProcessID = nextID(&g.procPerm, &g.procCtr)
		r.ProcessTemplateID = s.ptID
		r.ServiceTemplateID = rc.stID
		r.HasServiceTemplate = rc.stID != 0
		switch x := g.rng.IntN(1000); {
		case h.down || (x >= running && x < running+terminated):
			r.ProcessStatus = 2
		case x < running:
			r.ProcessStatus = 1
		default:
			r.ProcessStatus = 0
		}
		r.IsAuto = g.chance(autoManaged)
		r.InnerIP = h.ip
		r.InnerIPv6 = h.ip6
		r.AgentID = h.agent
		r.CloudName = h.cloud.name
		r.SetEnv = g.setEnv
		r.SetName = g.setName
		r.ModuleName = g.moduleName
		r.ServiceName = siName
		r.ProcessName = s.name
		r.ConfigTemplates = s.configs

		r.ProcInstInfos = g.procInstInfos(h, r)
	}
	return nil
}

// procInstInfos returns the one or two instances of process r on host h,
// carved from a shared slab.
func (g *generator) procInstInfos(h *host, r *record.Record) []record.ProcInstInfo {
	k := 1
	if g.chance(twoInstances) {
		k = 2
	}
	if cap(g.insts)-len(g.insts) < k {
		g.insts = make([]record.ProcInstInfo, 0, 2*batchSize)
	}
	l := len(g.insts)
	g.insts = g.insts[:l+k]
	infos := g.insts[l : l+k : l+k]
	for li := range infos {
		h.inst++
		infos[li] = record.ProcInstInfo{
			ProcessID:     r.ProcessID,
			LocalInstID:   int64(li + 1),
			InstID:        h.inst,
			ProcessStatus: r.ProcessStatus,
			IsAuto:        r.IsAuto,
		}
	}
	return infos
}

// flush gives the batch its expressions, all substrings of one string,
// and emits it.
func (g *generator) flush() error {
	recs := g.batch[:g.bi]
	buf := g.exprBuf[:0]
	ends := g.exprEnd[:0]
	for i := range recs {
		buf = recs[i].AppendDerivedExpression(buf)
		ends = append(ends, len(buf))
	}
	g.exprBuf, g.exprEnd = buf, ends
	all := string(buf)
	start := 0
	for i := range recs {
		recs[i].Expression = all[start:ends[i]]
		start = ends[i]
	}
	g.batch, g.bi = nil, 0
	for i := range recs {
		if err := g.emit(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}
