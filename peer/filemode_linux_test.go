package peer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// umaskChildEnv marks the test process TestNewFileModeUmask runs with its
// own umask (the umask is process-wide: never set in the parent).
const umaskChildEnv = "DARTSYNC_TEST_UMASK_CHILD"

// TestNewFileModeUmask: in a child test process whose umask is 027, a new
// file synced from another daemon is 0640 and a new executable 0750 (0666
// and 0777 less the umask), whatever their modes on the sender.
func TestNewFileModeUmask(t *testing.T) {
	if os.Getenv(umaskChildEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNewFileModeUmask$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), umaskChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNewFileModeUmask") {
			t.Fatalf("child test with umask 027: %v\n%s", err, out)
		}
		return
	}
	syscall.Umask(0o027)
	if u := processUmask(); u != 0o027 {
		t.Fatalf("processUmask = %#o, want 027", u)
	}
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	for _, f := range []struct {
		name string
		perm os.FileMode // on a
		want os.FileMode // on b
	}{
		{"plain.txt", 0o644, 0o640},
		{"open.txt", 0o666, 0o640},
		{"run.sh", 0o755, 0o750},
		{"private.sh", 0o700, 0o750},
	} {
		p := filepath.Join(a.root, f.name)
		mustDo(t, os.WriteFile(p, []byte(f.name), 0o600))
		mustDo(t, os.Chmod(p, f.perm))
		pb := filepath.Join(b.root, f.name)
		waitFor(t, f.name+" on b", fileIs(pb, []byte(f.name)))
		fi, err := os.Stat(pb)
		mustDo(t, err)
		if got := fi.Mode().Perm(); got != f.want {
			t.Errorf("%s (%#o on a) is %#o on b, want %#o", f.name, f.perm, got, f.want)
		}
	}
}
