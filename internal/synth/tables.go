package synth

// The fixed vocabularies the generator draws from. Every name handed to a
// record comes from these tables or is built once per set, module, service
// instance or host, so records share their strings.

// business is one bk_biz_id and the share of all processes it holds. The
// first entry is the large business; it takes whatever the others leave.
type business struct {
	id    int64
	share float64
}

// LargeBizID is the bk_biz_id of the business that holds most (about 85%)
// of the generated processes.
const LargeBizID = 2

var businesses = []business{
	{LargeBizID, 0}, // the remainder, about 0.85
	{3, 0.05},
	{7, 0.03},
	{100, 0.025},
	{1001, 0.02},
	{100605, 0.015},
	{9, 0.007},
	{10, 0.003},
}

// cloud is one cloud area; weight is its share of hosts (per mille).
type cloud struct {
	id     int64
	name   string
	weight int
}

var clouds = []cloud{
	{0, "default area", 720},
	{1, "云区域A", 70},
	{2, "云区域B", 60},
	{3, "hk-cloud.1", 40},
	{5, "阿里云-杭州", 20},
	{10, "Direct Area", 40},
	{23, "腾讯云-广州", 40},
	{77, "area-77", 10},
}

// fixedSetNames are hand-written set names a business may carry once each.
var fixedSetNames = []string{
	"paas", "作业平台", "蓝鲸监控", "登录服", "PaaS", "测试 集群", "bk-paas",
	"公共组件", "管控平台", "cluster-a", "web.front", "数据平台", "配置平台",
}

// setWords × setStages give names like web.prod; they never collide with
// fixedSetNames or the numbered families.
var (
	setWords  = []string{"web", "api", "db", "game", "login", "pay", "cdn", "search"}
	setStages = []string{"prod", "test", "gray"}
)

// numberedSet is a family of set names prefix<n>suffix, n increasing.
type numberedSet struct{ prefix, suffix string }

var numberedSets = []numberedSet{
	{"zone.", ""},
	{"大区", ""},
	{"set_", ""},
	{"cluster-", ""},
	{"db_cluster_", ""},
	{"华东", "区"},
	{"测试服", ""},
	{"game", ".prod"},
}

// moduleBase is a module name with the main processes of its service
// instances and their usual port (0: none).
type moduleBase struct {
	name  string
	mains []string
	port  int
}

// gseAgentModule is the index of the gse_agent module in moduleBases.
const gseAgentModule = 0

var moduleBases = []moduleBase{
	{"gse_agent", []string{"gse_agent"}, 0},
	{"nginx", []string{"nginx"}, 80},
	{"接入层", []string{"nginx-1", "nginx-2", "tconnd"}, 8080},
	{"存储层", []string{"mysqld", "mysql_3306", "redis-server"}, 3306},
	{"逻辑层", []string{"gamesvr", "java", "进程A"}, 0},
	{"kafka-1", []string{"kafka"}, 9092},
	{"kafka-2", []string{"kafka"}, 9092},
	{"zk.node", []string{"zookeeper"}, 2181},
	{"mysql_3306", []string{"mysqld", "mysql_3306"}, 3306},
	{"redis", []string{"redis-server"}, 6379},
	{"gse_data", []string{"gse_dataserver"}, 58625},
	{"gse_task", []string{"gse_task"}, 48673},
	{"agent", []string{"gse_agent", "agent"}, 0},
	{"paas-api", []string{"paas-api", "gunicorn"}, 8000},
	{"cmdb.core", []string{"cmdb_coreservice", "cmdb_apiserver"}, 9000},
	{"job-gateway", []string{"job-gateway", "java"}, 8090},
	{"模块_A", []string{"进程A", "进程B"}, 0},
	{"m1", []string{"proc2", "proc_99"}, 0},
	{"m12", []string{"proc_99", "pass"}, 0},
	{"appo", []string{"java", "python3"}, 8080},
	{"appt", []string{"python3", "uwsgi"}, 0},
	{"z-a", []string{"pass", "proc2"}, 0},
	{"consul", []string{"consul-agent"}, 8500},
	{"etcd", []string{"etcd"}, 2379},
	{"prometheus", []string{"prometheus"}, 9090},
	{"es-data", []string{"elasticsearch"}, 9200},
	{"es-master", []string{"elasticsearch"}, 9300},
	{"mongodb", []string{"mongod"}, 27017},
	{"rabbitmq", []string{"rabbitmq-server"}, 5672},
	{"web", []string{"nginx", "uwsgi"}, 80},
	{"api-server", []string{"java", "gunicorn"}, 8000},
	{"auth", []string{"iam"}, 5001},
	{"login", []string{"登录服务", "java"}, 0},
	{"gateway", []string{"nginx-1", "apisix"}, 9080},
	{"cron", []string{"crond", "python3"}, 0},
	{"worker", []string{"celery", "python3"}, 0},
	{"scheduler", []string{"scheduler", "java"}, 0},
	{"日志服务", []string{"日志采集器", "filebeat"}, 0},
	{"监控中心", []string{"监控采集器", "bkmonitorbeat", "prometheus"}, 0},
	{"调度器", []string{"调度服务"}, 0},
	{"缓存", []string{"redis-server", "memcached"}, 6379},
	{"消息队列", []string{"kafka", "rabbitmq-server"}, 0},
	{"数据库", []string{"mysqld"}, 3306},
	{"前端", []string{"nginx"}, 80},
	{"后台", []string{"进程A", "java"}, 0},
	{"gamesvr", []string{"gamesvr"}, 0},
	{"dbproxy", []string{"dbproxy"}, 0},
	{"tconnd", []string{"tconnd"}, 0},
	{"lobby", []string{"lobbysvr"}, 0},
	{"matchsvr", []string{"matchsvr"}, 0},
	{"对战服", []string{"对战服务"}, 0},
	{"聊天服", []string{"聊天服务"}, 0},
	{"支付", []string{"支付网关", "java"}, 443},
	{"iam", []string{"iam"}, 0},
	{"usermgr", []string{"usermgr"}, 0},
	{"bkdata", []string{"bkdata-api"}, 0},
	{"gse_btsvr", []string{"gse_btsvr"}, 0},
	{"gse_procmgr", []string{"gse_procmgr"}, 0},
	{"nodeman", []string{"nodeman", "celery"}, 0},
	{"zookeeper", []string{"zookeeper"}, 2181},
	{"hdfs-namenode", []string{"namenode"}, 8020},
	{"hdfs-datanode", []string{"datanode"}, 0},
}

// sidecars are the helper processes a service instance may run next to
// its main process.
var sidecars = []string{
	"bkmonitorbeat", "gse_agent", "consul-agent", "监控采集器", "日志采集器",
	"filebeat", "supervisord", "crond", "进程B", "nginx",
}

// configFile is one entry of the config template pool.
type configFile struct{ template, file string }

var configFiles = []configFile{
	{"gse_agent配置", "agent.conf"},
	{"nginx.conf模板", "nginx.conf"},
	{"mysql主配置", "my.cnf"},
	{"通用日志配置", "log.conf"},
	{"redis", "redis.conf"},
	{"app.yaml", "app.yaml"},
	{"supervisor配置", "supervisord.conf"},
	{"启动脚本", "start.sh"},
	{"kafka server", "server.properties"},
	{"zoo.cfg", "zoo.cfg"},
	{"环境变量", "env.sh"},
	{"监控采集配置", "bkmonitorbeat.yml"},
}
