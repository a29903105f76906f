package snapshot

import (
	"fmt"
	"math/rand/v2"

	"github.com/procq/procq/record"
)

// genRecords makes n realistic records, deterministic for a seed: about
// four processes per host, two per service instance, a thousand per set,
// names drawn from small vocabularies, 0-3 config templates and 1-2
// process instances each. Empty lists are nil, as the JSON importer and
// the decoder leave them.
func genRecords(n int, seed uint64) []record.Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	setNames := []string{"大区", "gse", "paas", "job", "cmdb", "存储层", "接入层", "logic"}
	moduleNames := []string{"存储层", "接入层", "逻辑层", "gse_server", "nginx", "mysql", "redis",
		"kafka", "zk", "consul", "es", "web", "api", "worker", "cron", "管控平台"}
	procNames := []string{"gse_dataserver", "gse_task", "gse_data", "gse_agent", "nginx-1", "nginx-2",
		"mysqld", "redis-server", "java", "python", "node", "kafka", "zookeeper", "consul",
		"elasticsearch", "uwsgi", "celery", "beat", "gunicorn", "sshd"}
	cloudNames := []string{"default area", "Direct Area", "云区域A", "云区域B", "idc-sz", "idc-sh", "aws"}
	tmplNames := []string{"通用日志配置", "nginx.conf 模板", "mysql 配置", "redis 配置", "agent 配置"}
	fileNames := []string{"log.conf", "nginx.conf", "my.cnf", "redis.conf", "agent.json", "gse.conf", "app.yaml"}

	recs := make([]record.Record, 0, n)
	pid := int64(1000)
	var (
		setID, moduleID, siID         int64
		setName, moduleName, env      string
		ip, ip6, agent, service, svcP string
		cloudID                       int64
	)
	for i := 0; len(recs) < n; i++ {
		if i%1000 == 0 {
			setID = 900000 + int64(i/1000)
			setName = fmt.Sprintf("%s%d", setNames[rng.IntN(len(setNames))], i/1000)
			env = string(rune('1' + rng.IntN(3)))
		}
		if i%200 == 0 {
			moduleID = 300000 + int64(i/200)
			moduleName = moduleNames[rng.IntN(len(moduleNames))]
		}
		if i%4 == 0 {
			ip = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
			ip6, agent = "", ""
			if rng.IntN(2) == 0 {
				ip6 = fmt.Sprintf("fd00::%x:%x", rng.Uint32()&0xffff, rng.Uint32()&0xffff)
			}
			if rng.IntN(2) == 0 {
				agent = fmt.Sprintf("%022x", rng.Uint64())
			}
			cloudID = int64(rng.IntN(len(cloudNames)))
		}
		if i%2 == 0 {
			siID = 90000000 + int64(i/2)
			svcP = procNames[rng.IntN(len(procNames))]
			service = fmt.Sprintf("%s_%s_%d", ip, svcP, 80+rng.IntN(8000))
		}
		pid += 1 + int64(rng.IntN(1000))
		r := record.Record{
			ID:                int64(i + 1),
			BizID:             int64(2 + rng.IntN(4)),
			CloudID:           cloudID,
			SetID:             setID,
			ModuleID:          moduleID,
			ServiceInstanceID: siID,
			ProcessID:         pid,
			ProcessTemplateID: int64(rng.IntN(100)) * 10,
			ProcessStatus:     int64(rng.IntN(3)),
			IsAuto:            rng.IntN(2) == 0,
			InnerIP:           ip,
			InnerIPv6:         ip6,
			AgentID:           agent,
			CloudName:         cloudNames[cloudID],
			SetEnv:            env,
			SetName:           setName,
			ModuleName:        moduleName,
			ServiceName:       service,
			ProcessName:       procNames[rng.IntN(len(procNames))],
		}
		if rng.IntN(10) < 7 {
			r.ServiceTemplateID, r.HasServiceTemplate = int64(rng.IntN(50)), true
		}
		for range rng.IntN(4) {
			r.ConfigTemplates = append(r.ConfigTemplates, record.ConfigTemplate{
				ConfigTemplateID: int64(rng.IntN(60)),
				TemplateName:     tmplNames[rng.IntN(len(tmplNames))],
				FileName:         fileNames[rng.IntN(len(fileNames))],
			})
		}
		for j := range 1 + rng.IntN(2) {
			r.ProcInstInfos = append(r.ProcInstInfos, record.ProcInstInfo{
				ProcessID:     pid,
				LocalInstID:   int64(j + 1),
				InstID:        int64(rng.IntN(100)),
				ProcessStatus: int64(rng.IntN(3)),
				IsAuto:        rng.IntN(2) == 0,
			})
		}
		if rng.IntN(100) == 0 {
			r.Expression = fmt.Sprintf("custom.%d.%s", i, r.ProcessName)
		} else {
			r.Expression = r.DerivedExpression()
		}
		recs = append(recs, r)
	}
	return recs
}
