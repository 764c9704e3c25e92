package tracker

import (
	"context"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// TestDevicesRemembered: a device's name, version and address shown while
// it is online, and still known (offline, with its last-seen time and the
// files it owns) after the tracker restarts on the same state.
func TestDevicesRemembered(t *testing.T) {
	dir := t.TempDir()
	srv, err := New(ServerConfig{Listen: "127.0.0.1:0", StateDir: dir, Interval: 100 * time.Millisecond, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	named := func(c *ClientConfig) { c.DeviceName, c.Version = "laptop\x00\n  ", "v1.2.3" }
	tc := startClient(t, srv.Addr().String(), srv.Token(), nil, named)
	tc.registered(t)
	tc.update(t, testFile("a.txt", "aaa", t0, manifest.ID{}), testFile("b.txt", "bb", t0, manifest.ID{}))
	ds := srv.Overview().Devices()
	if len(ds) != 1 || ds[0].Name != "laptop" || ds[0].Version != "v1.2.3" || !ds[0].Online ||
		ds[0].Addr == "" || ds[0].FilesOwned != 2 || len(ds[0].Folders) != 1 {
		t.Fatalf("online: %+v", ds)
	}
	if tot := srv.Overview().Totals(); tot.Files != 2 || tot.Bytes != 5 || tot.Members != 1 || tot.Online != 1 {
		t.Fatalf("totals %+v", tot)
	}
	tc.stop(t)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	srv2, err := New(ServerConfig{Listen: "127.0.0.1:0", StateDir: dir, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Run(canceledCtx())
	ds = srv2.Overview().Devices()
	if len(ds) != 1 || ds[0].Name != "laptop" || ds[0].Version != "v1.2.3" || ds[0].Online || ds[0].LastSeen.IsZero() ||
		ds[0].FilesOwned != 2 || ds[0].ID != tc.id.ID {
		t.Fatalf("after restart: %+v", ds)
	}
	fs := srv2.Overview().Folders()
	if len(fs) != 1 || fs[0].Files != 2 || fs[0].Bytes != 5 || fs[0].Online != 0 {
		t.Fatalf("folders after restart: %+v", fs)
	}
	if cs := srv2.Overview().RecentChanges(); len(cs) != 2 || cs[0].Path != "b.txt" || cs[0].Device != tc.id.ID {
		t.Fatalf("recent changes after restart: %+v", cs)
	}
}

func canceledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
