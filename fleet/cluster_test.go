package fleet

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// freePorts returns n free loopback ports.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// runCluster starts a JetStream cluster of three in-process servers.
func runCluster(t *testing.T) []*server.Server {
	t.Helper()
	ports := freePorts(t, 3)
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	var nodes []*server.Server
	for i, p := range ports {
		ns, err := server.NewServer(&server.Options{ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "procq", Host: "127.0.0.1", Port: p}, Routes: routes})
		if err != nil {
			t.Fatal(err)
		}
		go ns.Start()
		t.Cleanup(ns.Shutdown)
		nodes = append(nodes, ns)
	}
	for _, ns := range nodes {
		if !ns.ReadyForConnections(waitBound) {
			t.Fatal("cluster node not ready")
		}
	}
	return nodes
}

// TestClusterNodeDown: on a cluster of three with the stream kept three
// times, a node stopped leaves the stream accepting and delivering.
func TestClusterNodeDown(t *testing.T) {
	if testing.Short() {
		t.Skip("a JetStream cluster of three: seconds to elect its leaders")
	}
	nodes := runCluster(t)
	var urls []string
	for _, ns := range nodes {
		urls = append(urls, ns.ClientURL())
	}
	// The first connection waits for the cluster to elect its meta leader.
	var c *Conn
	deadline := time.Now().Add(waitBound)
	for {
		var err error
		c, err = Connect(context.Background(), Options{URL: strings.Join(urls, ","), Replicas: 3, PublishTimeout: 2 * time.Second})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling the cluster's readiness, bounded by the deadline
	}
	t.Cleanup(c.Close)
	w := newWorld(t, 11)
	if _, err := c.PublishSnapshot(context.Background(), w.snap, 0); err != nil {
		t.Fatal(err)
	}
	r := startReplica(t, c, filepath.Join(t.TempDir(), "r"), "r", nil)
	r.waitFor(t, w.publish(t, c, 5))
	// Stop a node that neither the connection uses nor leads the stream:
	// the stream keeps its quorum and its leader (a stopped leader costs
	// an election, which is JetStream's to make, not procq's).
	s, err := c.js.Stream(context.Background(), c.opts.Stream)
	if err != nil {
		t.Fatal(err)
	}
	leader := s.CachedInfo().Cluster.Leader
	for _, ns := range nodes {
		if ns.ClientURL() != c.nc.ConnectedUrl() && ns.Name() != leader {
			ns.Shutdown()
			break
		}
	}
	last := w.publish(t, c, 5)
	r.waitFor(t, last)
	if storeDigest(r.st) != w.m.digest(nil) {
		t.Fatal("replica differs from the writer's data after a node stopped")
	}
}
