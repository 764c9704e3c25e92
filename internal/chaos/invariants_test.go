package chaos

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// fakeCluster is a cluster of folders without processes, for the checks.
func fakeCluster(t *testing.T, peers int) *cluster {
	t.Helper()
	c := &cluster{hist: NewHistory(), cfg: Config{Logf: t.Logf}}
	for i := range peers {
		pp := &peerProc{idx: i, dir: filepath.Join(t.TempDir(), "folder"), device: "DEV" + string(rune('A'+i))}
		pp.name = peerName(i)
		if err := os.MkdirAll(pp.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		c.peers = append(c.peers, pp)
	}
	return c
}

func put(t *testing.T, dir, rel, data string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func kinds(vs []violation) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.kind)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestCheckAll(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, c *cluster)
		want  string // violation kinds, sorted
	}{
		{"clean", func(t *testing.T, c *cluster) {
			c.hist.Written(0, "peer1", "a.txt", []byte("x"), "")
			for _, pp := range c.peers {
				put(t, pp.dir, "a.txt", "x")
			}
		}, ""},
		{"foreign bytes", func(t *testing.T, c *cluster) {
			put(t, c.peers[1].dir, "a.txt", "half")
		}, "foreign"},
		{"kept version with foreign bytes", func(t *testing.T, c *cluster) {
			put(t, c.peers[1].dir, ".dartsync/versions/a~20260101-000000.txt", "half")
		}, "foreign"},
		{"last write lost", func(t *testing.T, c *cluster) {
			c.hist.Written(1, "peer2", "a.txt", []byte("x"), "")
		}, "lost"},
		{"last write kept as a version", func(t *testing.T, c *cluster) {
			c.hist.Written(1, "peer2", "a.txt", []byte("x"), "")
			put(t, c.peers[0].dir, ".dartsync/versions/a~20260101-000000.txt", "x")
		}, ""},
		{"renamed by its writer", func(t *testing.T, c *cluster) {
			c.hist.Written(1, "peer2", "d1/a.bin", []byte("x"), "")
			c.hist.Add(Event{Who: "peer2", Kind: "dirmove", Path: "d1", To: "d2"})
			put(t, c.peers[3].dir, "d2/a.bin", "x")
		}, ""},
		{"overwritten by its writer", func(t *testing.T, c *cluster) {
			c.hist.Written(1, "peer2", "a.txt", []byte("x"), "")
			c.hist.Written(1, "peer2", "a.txt", []byte("y"), "")
			put(t, c.peers[0].dir, "a.txt", "y")
		}, ""},
		{"deleted by its writer", func(t *testing.T, c *cluster) {
			c.hist.Written(1, "peer2", "a.txt", []byte("x"), "")
			c.hist.Add(Event{Who: "peer2", Kind: "delete", Path: "a.txt"})
		}, ""},
		{"temporary file", func(t *testing.T, c *cluster) {
			c.hist.Written(0, "peer1", "a.txt", []byte("x"), "")
			put(t, c.peers[0].dir, ".tmp-123", "x")
		}, "temp"},
		{"copy equal to the winner", func(t *testing.T, c *cluster) {
			c.hist.Written(0, "peer1", "a.txt", []byte("x"), "")
			put(t, c.peers[0].dir, "a.txt", "x")
			put(t, c.peers[0].dir, "a.sync-conflict-20261203-070101-DEVA.txt", "x")
		}, "spurious"},
		{"copy of a version its device never wrote", func(t *testing.T, c *cluster) {
			c.hist.Written(0, "peer1", "a.txt", []byte("x"), "")
			c.hist.Written(1, "peer2", "a.txt", []byte("y"), "")
			put(t, c.peers[0].dir, "a.txt", "y")
			put(t, c.peers[0].dir, "a.sync-conflict-20261203-070101-DEVC.txt", "x")
		}, "spurious"},
		{"real conflict copy", func(t *testing.T, c *cluster) {
			c.hist.Written(0, "peer1", "a.txt", []byte("x"), "")
			c.hist.Written(1, "peer2", "a.txt", []byte("y"), "")
			put(t, c.peers[0].dir, "a.txt", "y")
			put(t, c.peers[0].dir, "a.sync-conflict-20261203-070101-DEVA.txt", "x")
		}, ""},
		{"copy of a private name", func(t *testing.T, c *cluster) {
			c.hist.Written(1, "peer2", "u2/s0/g1.dat", []byte("x"), "")
			c.hist.Written(1, "peer2", "u2/s0/g1.dat", []byte("y"), "")
			put(t, c.peers[0].dir, "u2/s0/g1.dat", "y")
			put(t, c.peers[0].dir, "u2/s0/g1.sync-conflict-20261203-070101-DEVB.dat", "x")
		}, "spurious"},
		{"copy of a file its device moved there", func(t *testing.T, c *cluster) {
			c.hist.Written(0, "peer1", "b.txt", []byte("x"), "")
			c.hist.Add(Event{Who: "peer3", Kind: "rename", Path: "b.txt", To: "a.txt"})
			c.hist.Written(1, "peer2", "a.txt", []byte("y"), "")
			put(t, c.peers[0].dir, "a.txt", "y")
			put(t, c.peers[0].dir, "a.sync-conflict-20261203-070101-DEVC.txt", "x")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeCluster(t, 4)
			tt.setup(t, c)
			if got := kinds(checkAll(c, true)); got != tt.want {
				t.Errorf("violations %q, want %q: %v", got, tt.want, checkAll(c, true))
			}
		})
	}
}

func TestConflictBase(t *testing.T) {
	tests := []struct {
		in, base, dev string
		ok            bool
	}{
		{"d/a.sync-conflict-20261203-070101-ABCDEFG.bin", "d/a.bin", "ABCDEFG", true},
		{"a.sync-conflict-20261203-070101-ABCDEFG-2.txt", "a.txt", "ABCDEFG", true},
		{".bashrc.sync-conflict-20261203-070101-ABCDEFG", ".bashrc", "ABCDEFG", true},
		{"a.txt", "", "", false},
		{"a.sync-conflict-x.txt", "", "", false},
	}
	for _, tt := range tests {
		base, dev, ok := conflictBase(tt.in)
		if base != tt.base || dev != tt.dev || ok != tt.ok {
			t.Errorf("conflictBase(%q) = %q, %q, %v; want %q, %q, %v", tt.in, base, dev, ok, tt.base, tt.dev, tt.ok)
		}
	}
}

func TestPrivateOwner(t *testing.T) {
	for in, want := range map[string]string{
		"u2/s0/g1.dat": "peer2", "u12/x": "peer12", "f1.txt": "", "d1/f2.bin": "", "ux/a": "", "u/a": "", "u3": "",
	} {
		if got := privateOwner(in); got != want {
			t.Errorf("privateOwner(%q) = %q, want %q", in, got, want)
		}
	}
}
