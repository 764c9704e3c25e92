package peer

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// caseInsensitiveDir returns an empty directory on a real case-insensitive,
// case-preserving file system: a fresh FAT image mounted with fusefat,
// unmounted when the test ends. It skips the test where that cannot be
// done (not root, no /dev/fuse, no mkfs.vfat, fusefat or fusermount).
func caseInsensitiveDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a case-insensitive file system needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE: %v", err)
	}
	for _, bin := range []string{"mkfs.vfat", "fusefat", "fusermount"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("no %s (Debian packages dosfstools, fusefat, fuse): %v", bin, err)
		}
	}
	img := filepath.Join(t.TempDir(), "fat.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.vfat", "-F", "32", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.vfat: %v: %s", err, out)
	}
	mnt := t.TempDir()
	// fusefat returns once the file system is mounted; its daemon ends
	// when it is unmounted.
	if out, err := exec.Command("fusefat", "-o", "rw+", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("fusefat: %v: %s", err, out)
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, err := exec.Command("fusermount", "-u", mnt).CombinedOutput()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("unmount %s: %v: %s", mnt, err, out)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	dir := filepath.Join(mnt, "folder")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Probe"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "PROBE")); err != nil {
		t.Skipf("the mounted file system is not case-insensitive: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "Probe")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestJudgeNameOnCaseInsensitiveFS: the name decisions on a real
// case-insensitive file system, where Lstat("foo") finds "Foo".
func TestJudgeNameOnCaseInsensitiveFS(t *testing.T) {
	dir := caseInsensitiveDir(t)
	if err := os.MkdirAll(filepath.Join(dir, "Docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Docs", "ReadMe.md"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := diskNames{dir}
	none := func(string) bool { return false }
	docs := func(p string) bool { return p == "Docs" }
	tests := []struct {
		rel      string
		tracked  func(string) bool
		want     nameVerdict
		wantDisk string
	}{
		{"Docs/ReadMe.md", none, nameExact, ""},
		{"Docs/readme.md", none, nameRenamed, "Docs/ReadMe.md"},
		{"docs/ReadMe.md", none, nameRenamed, "Docs"},
		{"docs/ReadMe.md", docs, nameClash, "Docs"},
		{"docs/new.txt", docs, nameClash, "Docs"},
		{"other", none, nameExact, ""},
	}
	for _, tt := range tests {
		if v, _, disk := judgeName(tt.rel, fs, tt.tracked); v != tt.want || disk != tt.wantDisk {
			t.Errorf("judgeName(%q) = %d %q, want %d %q", tt.rel, v, disk, tt.want, tt.wantDisk)
		}
	}
	if got, ok := diskSpelling("DOCS/README.MD", fs); !ok || got != "Docs/ReadMe.md" {
		t.Errorf("diskSpelling = %q %v", got, ok)
	}
}
