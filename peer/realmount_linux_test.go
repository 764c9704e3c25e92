package peer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// fatDisk is a FAT image that a test mounts (fusefat) and unmounts at one
// mount point, as a removable disk is plugged in and out.
type fatDisk struct {
	t        *testing.T
	img, mnt string
	mounted  bool
}

// newFATDisk formats a FAT image and mounts it at a new empty directory.
// It skips the test where that cannot be done (not root, no FUSE, no
// mkfs.vfat, fusefat or fusermount).
func newFATDisk(t *testing.T) *fatDisk {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a file system needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE: %v", err)
	}
	for _, bin := range []string{"mkfs.vfat", "fusefat", "fusermount"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("no %s (Debian packages dosfstools, fusefat, fuse): %v", bin, err)
		}
	}
	disk := &fatDisk{t: t, img: filepath.Join(t.TempDir(), "disk.img"), mnt: filepath.Join(t.TempDir(), "media")}
	mustDo(t, os.WriteFile(disk.img, nil, 0o600))
	mustDo(t, os.Truncate(disk.img, 64<<20))
	if out, err := exec.Command("mkfs.vfat", "-F", "32", disk.img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.vfat: %v: %s", err, out)
	}
	mustDo(t, os.Mkdir(disk.mnt, 0o755))
	if out, err := exec.Command("fusefat", "-o", "rw+", disk.img, disk.mnt).CombinedOutput(); err != nil {
		t.Skipf("fusefat: %v: %s", err, out)
	}
	disk.mounted = true
	t.Cleanup(func() {
		if disk.mounted {
			disk.unplug()
		}
	})
	return disk
}

// unplug unmounts the disk (lazily, as a pulled disk is: open files do
// not keep it): its mount point is an empty directory again.
func (f *fatDisk) unplug() {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command("fusermount", "-u", "-z", f.mnt).CombinedOutput()
		if err == nil {
			f.mounted = false
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("unmount %s: %v: %s", f.mnt, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// plug mounts the disk again.
func (f *fatDisk) plug() {
	f.t.Helper()
	// The lazily unmounted file system's daemon may still be ending.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command("fusefat", "-o", "rw+", f.img, f.mnt).CombinedOutput()
		if err == nil {
			f.mounted = true
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("mount %s: %v: %s", f.mnt, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRealDiskUnplugged: the folder is a real mount point (a FAT disk).
// Unplugged while the peer runs, the folder pauses (a mount point sends no
// event but the marker check notices) and the other peer keeps every
// file; plugged back, it resumes and changes from both sides meanwhile
// converge. A peer restarted while the disk is out starts paused and
// creates nothing on the empty mount point.
func TestRealDiskUnplugged(t *testing.T) {
	disk := newFATDisk(t)
	n := newTestNet(t)
	aRec, aLog := newLogRecorder()
	bRec, bLog := newLogRecorder()
	for i := range 12 {
		writeTestFile(t, disk.mnt, fmt.Sprintf("d%d/f%02d.txt", i%3, i), fmt.Sprintf("file %d\n", i))
	}
	state := filepath.Join(t.TempDir(), "state-a")
	a := n.startGuarded(disk.mnt, state, aRec, aLog)
	waitFor(t, "a's first scan", func() bool { return a.d.Stats().LocalChanges == 15 }) // 12 files, 3 dirs
	b := n.startGuarded(filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "state-b"), bRec, bLog)
	want := treeOf(t, disk.mnt)
	waitFor(t, "b synced", treeIs(b.root, want))

	disk.unplug()
	waitFor(t, "a paused", func() bool { return a.d.Stats().Paused })
	kick(a.d.folders[0].scanKick)
	keeps(t, b.root, want, a, 15, time.Second)
	writeTestFile(t, b.root, "d0/f03.txt", "edited on b while the disk was out\n")
	want["d0/f03.txt"] = "edited on b while the disk was out\n"
	waitFor(t, "a told of b's edit", func() bool {
		_, ok := a.d.folders[0].idx.WantID("d0/f03.txt")
		return ok
	})

	// Restarted while the disk is out.
	a.stop()
	a = n.startGuarded(disk.mnt, state, aRec, aLog)
	if !a.d.Stats().Paused {
		t.Fatal("restarted on the empty mount point, not paused")
	}
	keeps(t, b.root, want, a, 0, time.Second)
	if ents, err := os.ReadDir(disk.mnt); err != nil || len(ents) > 0 {
		t.Fatalf("something was created on the empty mount point: %d entries, %v", len(ents), err)
	}

	disk.plug()
	writeTestFile(t, disk.mnt, "d1/f04.txt", "edited on the disk\n")
	want["d1/f04.txt"] = "edited on the disk\n"
	waitFor(t, "a resumed", func() bool { return !a.d.Stats().Paused })
	waitFor(t, "a converged", treeIs(disk.mnt, want))
	waitFor(t, "b converged", treeIs(b.root, want))
}
