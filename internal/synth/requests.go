package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/procq/procq/record"
)

// Requests returns n realistic GSEKit request bodies (JSON objects, SPEC
// sections 2 to 4) for the data set Generate makes with opt. The mix holds
// env-only scopes; set and module id lists; process status and is_auto
// filters; cloud ids; IP lists; searches on an IP fragment and on a
// cloud-name fragment; every ordering key ascending and descending; deep
// pages (some past the end); fields projections; and expression scopes
// with all `*`, a bracket list of set names, a numeric range on
// bk_process_id, a suffix glob on service instance names (`*_gse_agent`)
// and slices such as `[0:100]`. About 85% target the large business, a few
// an unknown one. Ids and names come from the data set itself: Requests
// runs Generate once and keeps bounded samples. The result depends only on
// opt, n and seed.
func Requests(opt Options, n int, seed int64) ([][]byte, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("synth: request count must be >= 0, got %d", n)
	}
	sm := newSampler(seed)
	if err := Generate(opt, sm.add); err != nil {
		return nil, err
	}
	sm.finish()
	rb := &reqBuilder{rng: rand.New(rand.NewPCG(uint64(seed), 0x7265_7175_6573_7473)), s: sm}
	out := make([][]byte, 0, n)
	for range n {
		body, err := json.Marshal(rb.next())
		if err != nil {
			return nil, err
		}
		out = append(out, body)
	}
	return out, nil
}

// reservoirSize bounds every per-business sample.
const reservoirSize = 512

// reservoir keeps a uniform sample of at most reservoirSize items.
type reservoir[T any] struct {
	items []T
	seen  int
}

func (r *reservoir[T]) add(rng *rand.Rand, v T) {
	r.seen++
	if len(r.items) < reservoirSize {
		r.items = append(r.items, v)
		return
	}
	if j := rng.IntN(r.seen); j < reservoirSize {
		r.items[j] = v
	}
}

type setSample struct {
	id   int64
	name string
	env  string
}

type moduleSample struct {
	id, setID int64
	env       string
}

// bizSample is what Requests knows of one business.
type bizSample struct {
	id        int64
	count     int
	envCount  [4]int // by env digit; [0] is the total
	sets      reservoir[setSample]
	modules   reservoir[moduleSample]
	services  reservoir[int64]
	processes reservoir[int64]
	ips       reservoir[string]
	procNames map[string]bool
	clouds    map[int64]string
	names     []string // sorted process names
	cloudIDs  []int64  // sorted cloud ids
	lastSet   int64
	lastMod   int64
	lastSI    int64
}

type sampler struct {
	rng  *rand.Rand
	bizs []*bizSample
	cur  *bizSample
}

func newSampler(seed int64) *sampler {
	return &sampler{rng: rand.New(rand.NewPCG(uint64(seed), 0x5a4d_706c_6572_0001))}
}

func (s *sampler) add(r *record.Record) error {
	b := s.cur
	if b == nil || b.id != r.BizID {
		b = nil
		for _, x := range s.bizs {
			if x.id == r.BizID {
				b = x
			}
		}
		if b == nil {
			b = &bizSample{id: r.BizID, procNames: map[string]bool{}, clouds: map[int64]string{}}
			s.bizs = append(s.bizs, b)
		}
		s.cur = b
	}
	b.count++
	env := int(r.SetEnv[0] - '0')
	b.envCount[0]++
	if env >= 1 && env <= 3 {
		b.envCount[env]++
	}
	if r.SetID != b.lastSet {
		b.lastSet = r.SetID
		b.sets.add(s.rng, setSample{r.SetID, r.SetName, r.SetEnv})
	}
	if r.ModuleID != b.lastMod {
		b.lastMod = r.ModuleID
		b.modules.add(s.rng, moduleSample{r.ModuleID, r.SetID, r.SetEnv})
	}
	if r.ServiceInstanceID != b.lastSI {
		b.lastSI = r.ServiceInstanceID
		b.services.add(s.rng, r.ServiceInstanceID)
		if r.InnerIP != "" {
			b.ips.add(s.rng, r.InnerIP)
		}
	}
	b.processes.add(s.rng, r.ProcessID)
	b.procNames[r.ProcessName] = true
	b.clouds[r.CloudID] = r.CloudName
	return nil
}

// finish turns the maps into sorted slices, so nothing later depends on
// map iteration order.
func (s *sampler) finish() {
	for _, b := range s.bizs {
		for name := range b.procNames {
			b.names = append(b.names, name)
		}
		slices.Sort(b.names)
		for id := range b.clouds {
			b.cloudIDs = append(b.cloudIDs, id)
		}
		slices.Sort(b.cloudIDs)
	}
}

// The request body; field order is the order of SPEC section 2.
type request struct {
	BizID             int64            `json:"bk_biz_id"`
	Scope             *scope           `json:"scope,omitempty"`
	ExpressionScope   *expressionScope `json:"expression_scope,omitempty"`
	CloudIDs          []int64          `json:"bk_cloud_ids,omitempty"`
	IPs               []string         `json:"bk_host_innerips,omitempty"`
	ProcessStatus     *int             `json:"process_status,omitempty"`
	ProcessStatusList []int            `json:"process_status_list,omitempty"`
	IsAuto            *bool            `json:"is_auto,omitempty"`
	IsAutoList        []bool           `json:"is_auto_list,omitempty"`
	Searches          []string         `json:"searches,omitempty"`
	Ordering          string           `json:"ordering,omitempty"`
	Fields            []string         `json:"fields,omitempty"`
	Page              int64            `json:"page"`
	Pagesize          int64            `json:"pagesize"`
	AppCode           string           `json:"bk_app_code,omitempty"`
	Username          string           `json:"bk_username,omitempty"`
}

type scope struct {
	Env          string   `json:"bk_set_env"`
	SetIDs       []int64  `json:"bk_set_ids,omitempty"`
	ModuleIDs    []int64  `json:"bk_module_ids,omitempty"`
	ServiceIDs   []int64  `json:"bk_service_ids,omitempty"`
	ProcessNames []string `json:"bk_process_names,omitempty"`
	ProcessIDs   []int64  `json:"bk_process_ids,omitempty"`
}

type expressionScope struct {
	Env         string `json:"bk_set_env"`
	SetName     string `json:"bk_set_name"`
	ModuleName  string `json:"bk_module_name"`
	ServiceName string `json:"service_instance_name"`
	ProcessName string `json:"bk_process_name"`
	ProcessID   string `json:"bk_process_id"`
}

// orderingKeys are the sort keys of SPEC section 6.
var orderingKeys = []string{"id", "bk_set_id", "bk_module_id", "bk_process_name", "bk_process_id", "bk_host_innerip"}

// projections are typical fields lists.
var projections = [][]string{
	{"bk_process_id", "bk_process_name", "process_status"},
	{"id", "bk_host_innerip", "bk_service_name", "process_status", "is_auto"},
	{"expression", "bk_process_id"},
	{"bk_set_name", "bk_module_name", "bk_service_name", "bk_process_name", "bk_process_id", "proc_inst_infos"},
	{"bk_process_id", "config_templates"},
}

var cloudFragments = []string{"云区域", "default", "广州", "Direct", "hk-cloud", "阿里云", "area"}

var serviceSuffixes = []string{"*_gse_agent", "*_gse_agent", "*_nginx", "*_mysqld_3306", "*_redis-server_6379", "*_kafka_9092"}

var pageSizes = []int64{10, 20, 50, 50, 50, 100, 100, 200, 500, 1000}

// kinds of request, drawn uniformly.
const (
	kEnvOnly = iota
	kSetIDs
	kModuleIDs
	kSetAndModule
	kServiceAndProcess
	kStatusAuto
	kClouds
	kIPs
	kSearchIP
	kSearchCloud
	kOrdering
	kDeepPage
	kFields
	kExprAll
	kExprSetList
	kExprRange
	kExprSuffix
	kExprSlice
	kExprMixed
	numKinds
)

type reqBuilder struct {
	rng *rand.Rand
	s   *sampler
}

func (rb *reqBuilder) pick(n int) int { return rb.rng.IntN(n) }

// env draws a bk_set_env, mostly the default formal one.
func (rb *reqBuilder) env() string {
	switch r := rb.pick(100); {
	case r < 60:
		return "3"
	case r < 85:
		return "0"
	case r < 93:
		return "1"
	default:
		return "2"
	}
}

func (rb *reqBuilder) biz() *bizSample {
	bizs := rb.s.bizs
	r := rb.pick(100)
	switch {
	case len(bizs) == 0 || r < 2:
		return &bizSample{id: 999999} // unknown business: empty answers
	case r < 87 && bizs[0].id == LargeBizID:
		return bizs[0]
	default:
		return bizs[rb.pick(len(bizs))]
	}
}

func sampleOf[T any](rb *reqBuilder, r *reservoir[T], k int) []T {
	if len(r.items) == 0 {
		return nil
	}
	k = min(k, len(r.items))
	out := make([]T, 0, k)
	for _, i := range rb.rng.Perm(len(r.items))[:k] {
		out = append(out, r.items[i])
	}
	return out
}

func (rb *reqBuilder) ordering() string {
	key := orderingKeys[rb.pick(len(orderingKeys))]
	if rb.pick(2) == 0 {
		key = "-" + key
	}
	if rb.pick(5) == 0 {
		second := orderingKeys[rb.pick(len(orderingKeys))]
		if rb.pick(2) == 0 {
			second = "-" + second
		}
		key += "," + second
	}
	return key
}

func (rb *reqBuilder) next() *request {
	b := rb.biz()
	req := &request{BizID: b.id, Page: 1, Pagesize: pageSizes[rb.pick(len(pageSizes))]}
	if rb.pick(10) < 2 {
		req.Page = int64(2 + rb.pick(5))
	}
	if rb.pick(10) < 2 {
		req.Ordering = rb.ordering()
	}
	if rb.pick(10) == 0 {
		// As sent through the API gateway; the engine ignores these.
		req.AppCode, req.Username = "bk_gsekit", "admin"
	}
	sc := &scope{Env: rb.env()}
	req.Scope = sc
	switch rb.pick(numKinds) {
	case kEnvOnly:
	case kSetIDs:
		rb.setIDs(b, req, sc)
	case kModuleIDs:
		rb.moduleIDs(b, req, sc)
	case kSetAndModule:
		rb.setAndModule(b, req, sc)
	case kServiceAndProcess:
		rb.serviceAndProcess(b, req, sc)
	case kStatusAuto:
		rb.statusAuto(b, req, sc)
	case kClouds:
		rb.clouds(b, req, sc)
	case kIPs:
		rb.ips(b, req, sc)
	case kSearchIP:
		req.Searches = []string{rb.ipFragment(b)}
	case kSearchCloud:
		req.Searches = []string{cloudFragments[rb.pick(len(cloudFragments))]}
		if rb.pick(4) == 0 {
			req.Searches = append(req.Searches, rb.ipFragment(b))
		}
	case kOrdering:
		req.Ordering = rb.ordering()
	case kDeepPage:
		rb.deepPage(b, req, sc)
	case kFields:
		req.Fields = projections[rb.pick(len(projections))]
	default:
		req.Scope = nil
		req.ExpressionScope = rb.expression(b)
	}
	return req
}

// setIDs fills the request of kind kSetIDs.
func (rb *reqBuilder) setIDs(b *bizSample, req *request, sc *scope) {
	sets := sampleOf(rb, &b.sets, 1+rb.pick(20))
	for _, s := range sets {
		sc.SetIDs = append(sc.SetIDs, s.id)
	}
	if len(sets) > 0 && rb.pick(2) == 0 {
		sc.Env = sets[0].env
	} else {
		sc.Env = "0"
	}
}

// moduleIDs fills the request of kind kModuleIDs.
func (rb *reqBuilder) moduleIDs(b *bizSample, req *request, sc *scope) {
	mods := sampleOf(rb, &b.modules, 1+rb.pick(50))
	for _, m := range mods {
		sc.ModuleIDs = append(sc.ModuleIDs, m.id)
	}
	if len(mods) > 0 && rb.pick(2) == 0 {
		sc.Env = mods[0].env
	} else {
		sc.Env = "0"
	}
}

// setAndModule fills the request of kind kSetAndModule.
func (rb *reqBuilder) setAndModule(b *bizSample, req *request, sc *scope) {
	mods := sampleOf(rb, &b.modules, 1+rb.pick(5))
	for _, m := range mods {
		sc.ModuleIDs = append(sc.ModuleIDs, m.id)
		if !slices.Contains(sc.SetIDs, m.setID) {
			sc.SetIDs = append(sc.SetIDs, m.setID)
		}
	}
	if len(mods) > 0 {
		sc.Env = mods[0].env
	}
}

// serviceAndProcess fills the request of kind kServiceAndProcess.
func (rb *reqBuilder) serviceAndProcess(b *bizSample, req *request, sc *scope) {
	sc.Env = "0"
	switch rb.pick(3) {
	case 0:
		sc.ServiceIDs = sampleOf(rb, &b.services, 1+rb.pick(30))
	case 1:
		sc.ProcessIDs = sampleOf(rb, &b.processes, 1+rb.pick(100))
	default:
		for range 1 + rb.pick(3) {
			if len(b.names) > 0 {
				name := b.names[rb.pick(len(b.names))]
				if !slices.Contains(sc.ProcessNames, name) {
					sc.ProcessNames = append(sc.ProcessNames, name)
				}
			}
		}
	}
}

// statusAuto fills the request of kind kStatusAuto.
func (rb *reqBuilder) statusAuto(b *bizSample, req *request, sc *scope) {
	if rb.pick(2) == 0 {
		st := rb.pick(3)
		req.ProcessStatus = &st
	} else {
		req.ProcessStatusList = []int{0, 2}
	}
	switch rb.pick(3) {
	case 0:
		auto := rb.pick(4) != 0
		req.IsAuto = &auto
	case 1:
		req.IsAutoList = []bool{false}
	}
}

// clouds fills the request of kind kClouds.
func (rb *reqBuilder) clouds(b *bizSample, req *request, sc *scope) {
	for range 1 + rb.pick(3) {
		if len(b.cloudIDs) > 0 {
			id := b.cloudIDs[rb.pick(len(b.cloudIDs))]
			if !slices.Contains(req.CloudIDs, id) {
				req.CloudIDs = append(req.CloudIDs, id)
			}
		}
	}
	if req.CloudIDs == nil {
		req.CloudIDs = []int64{0}
	}
}

// ips fills the request of kind kIPs.
func (rb *reqBuilder) ips(b *bizSample, req *request, sc *scope) {
	sc.Env = "0"
	for _, ip := range sampleOf(rb, &b.ips, 1+rb.pick(100)) {
		// Hosts carry several service instances, so the sample repeats IPs.
		if !slices.Contains(req.IPs, ip) {
			req.IPs = append(req.IPs, ip)
		}
	}
	if req.IPs == nil || rb.pick(20) == 0 {
		req.IPs = append(req.IPs, "")
	}
}

// deepPage fills the request of kind kDeepPage.
func (rb *reqBuilder) deepPage(b *bizSample, req *request, sc *scope) {
	sc.Env = "0"
	if rb.pick(2) == 0 {
		req.Ordering = rb.ordering()
	}
	// Offset anywhere from half-way to 10% past the end.
	off := int64(float64(b.count) * (0.5 + 0.6*rb.rng.Float64()))
	req.Page = off/req.Pagesize + 1
}

// ipFragment is a prefix of a sampled IP ending in a dot, like "10.0.3.",
// or a well-known network prefix.
func (rb *reqBuilder) ipFragment(b *bizSample) string {
	ips := sampleOf(rb, &b.ips, 1)
	if len(ips) == 0 || rb.pick(4) == 0 {
		return []string{"10.0.", "192.168.", "172.16.", ".1"}[rb.pick(4)]
	}
	ip := ips[0]
	cut := strings.LastIndexByte(ip, '.')
	if rb.pick(3) == 0 {
		cut = strings.LastIndexByte(ip[:cut], '.')
	}
	return ip[:cut+1]
}

func (rb *reqBuilder) expression(b *bizSample) *expressionScope {
	es := &expressionScope{Env: rb.env(), SetName: "*", ModuleName: "*", ServiceName: "*", ProcessName: "*", ProcessID: "*"}
	switch kExprAll + rb.pick(numKinds-kExprAll) {
	case kExprAll:
	case kExprSetList:
		sets := sampleOf(rb, &b.sets, 1+rb.pick(5))
		var names []string
		for _, s := range sets {
			if !slices.Contains(names, s.name) {
				names = append(names, s.name)
			}
		}
		if len(names) == 0 {
			names = []string{"zone.7", "大区11"}
		}
		es.SetName = "[" + strings.Join(names, ", ") + "]"
		if len(sets) > 0 {
			es.Env = sets[0].env
		}
	case kExprRange:
		lo := 1 + rb.rng.Int64N(1<<31)
		hi := lo + rb.rng.Int64N(1<<29)
		if rb.pick(3) == 0 {
			lo, hi = 1, 100000000
		}
		es.ProcessID = "[" + strconv.FormatInt(lo, 10) + "-" + strconv.FormatInt(hi, 10) + "]"
	case kExprSuffix:
		es.ServiceName = serviceSuffixes[rb.pick(len(serviceSuffixes))]
	case kExprSlice:
		es.ProcessID = []string{"[0:100]", "[0:100]", "[-100:]", "[1000:2000]", "[:50]", "[10 : 20]"}[rb.pick(6)]
		if rb.pick(2) == 0 {
			es.ServiceName = "*_gse_agent"
		}
	default: // kExprMixed
		es.ModuleName = []string{"kafka-*", "gse_*", "[nginx, 接入层]", "*层", "m?"}[rb.pick(5)]
		es.ProcessName = []string{"*", "gse_agent", "[nginx, nginx-1, nginx-2]", "*agent*", "进程?"}[rb.pick(5)]
		if rb.pick(2) == 0 {
			es.SetName = []string{"zone.*", "大区*", "set_[1-20]", "cluster-[1-9]?"}[rb.pick(4)]
		}
	}
	return es
}
