package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// do performs one edit of kind on the user's folder.
func (u *user) do(kind string, files []string) error {
	switch kind {
	case "create":
		n := u.freeName(files, u.rng.IntN(2) == 0)
		if n == "" {
			return nil
		}
		return u.write(n, u.randomData(), "create")
	case "append", "overwrite", "truncate":
		n := u.pick(files)
		if n == "" {
			return u.do("create", files)
		}
		if kind == "overwrite" {
			return u.write(n, u.randomData(), kind)
		}
		old, ok := u.read(n)
		if !ok {
			return nil
		}
		var data []byte
		if kind == "append" {
			extra := u.randomData()
			data = append(old, extra[:min(len(extra), 1+u.rng.IntN(4096))]...)
		} else {
			data = old[:u.rng.IntN(len(old)+1)]
		}
		return u.write(n, data, kind)
	case "rename":
		from := u.pick(files)
		if from == "" {
			return nil
		}
		to := u.freeName(files, privateOwner(from) != "")
		if to == "" {
			return nil
		}
		return u.rename(from, to, "rename")
	case "delete":
		n := u.pick(files)
		if n == "" {
			return nil
		}
		h := ""
		if data, ok := u.read(n); ok {
			h = Hash(data)
			u.deleted = append(u.deleted, h)
		}
		return u.remove(n, h)
	case "recreate":
		if len(u.deleted) == 0 {
			return u.do("create", files)
		}
		h := u.deleted[u.rng.IntN(len(u.deleted))]
		data, ok := u.hist.Content(h)
		n := u.freeName(files, u.rng.IntN(2) == 0)
		if !ok || n == "" {
			return nil
		}
		return u.write(n, data, "recreate")
	case "dirmove":
		from, to := fmt.Sprintf("d%d", u.rng.IntN(6)), fmt.Sprintf("d%d", u.rng.IntN(6))
		if u.rng.IntN(2) == 0 {
			from, to = fmt.Sprintf("%s/s%d", u.privateDir(), u.rng.IntN(3)), fmt.Sprintf("%s/s%d", u.privateDir(), u.rng.IntN(3))
		}
		if from == to {
			return nil
		}
		if fi, err := os.Stat(u.abs(from)); err != nil || !fi.IsDir() {
			return nil
		}
		if _, err := os.Lstat(u.abs(to)); !errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return u.rename(from, to, "dirmove")
	case "resolve": // the user deletes a conflict copy of a shared name
		for _, f := range files {
			if isConflictCopy(f) && privateOwner(f) == "" {
				h := ""
				if data, ok := u.read(f); ok {
					h = Hash(data)
				}
				return u.remove(f, h)
			}
		}
	}
	return nil
}

// read returns a file's content and checks that some version had it.
func (u *user) read(rel string) ([]byte, bool) {
	b, err := os.ReadFile(u.abs(rel))
	if err != nil {
		return nil, false // renamed or deleted by the peer meanwhile
	}
	if h := Hash(b); !u.hist.Known(h) {
		msg := fmt.Sprintf("%s read %s: %d bytes (%s) that no version had", u.pp.name, rel, len(b), h[:12])
		u.errs = append(u.errs, msg)
		u.hist.Add(Event{Who: u.pp.name, Kind: "VIOLATION", Path: rel, Note: msg})
	}
	return b, true
}

// write puts a new version at rel atomically: a temporary file outside the
// folder, then a rename. A full file system leaves the old file as it was
// (checked here).
func (u *user) write(rel string, data []byte, note string) error {
	u.n++
	tmp := filepath.Join(u.pp.tmp, fmt.Sprintf("w%d", u.n))
	err := os.WriteFile(tmp, data, 0o644)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(u.abs(rel)), 0o755)
	}
	if err != nil {
		_ = os.Remove(tmp)
		if isNoSpace(err) {
			u.hist.Add(Event{Who: u.pp.name, Kind: "write-nospace", Path: rel, Note: note})
			return nil
		}
		return fmt.Errorf("write %s: %w", rel, err)
	}
	before, _ := os.ReadFile(u.abs(rel))
	u.hist.Written(u.pp.idx, u.pp.name, rel, data, note)
	if err := os.Rename(tmp, u.abs(rel)); err != nil {
		_ = os.Remove(tmp)
		after, _ := os.ReadFile(u.abs(rel))
		if !bytes.Equal(before, after) && !u.hist.Known(Hash(after)) {
			msg := fmt.Sprintf("%s: failed write of %s changed it to bytes no version had", u.pp.name, rel)
			u.errs = append(u.errs, msg)
		}
		return fmt.Errorf("rename into %s: %w", rel, err)
	}
	return nil
}

// rename moves a file or directory of the folder.
func (u *user) rename(from, to, kind string) error {
	if err := os.MkdirAll(filepath.Dir(u.abs(to)), 0o755); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if err := os.Rename(u.abs(from), u.abs(to)); err != nil {
		return fmt.Errorf("%s %s: %w", kind, from, err)
	}
	u.hist.Add(Event{Who: u.pp.name, Kind: kind, Path: from, To: to})
	return nil
}

// remove deletes a file (that held hash), and its directory when it is
// left empty.
func (u *user) remove(rel, hash string) error {
	if err := os.Remove(u.abs(rel)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete %s: %w", rel, err)
	}
	u.hist.Add(Event{Who: u.pp.name, Kind: "delete", Path: rel, Hash: hash})
	if dir := path.Dir(rel); dir != "." && !strings.Contains(dir, "/") {
		_ = os.Remove(u.abs(dir)) // fails unless empty
	}
	return nil
}
