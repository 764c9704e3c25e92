package chunkstore

import (
	"path/filepath"

	"github.com/dartsync/dartsync/internal/folderpath"
	"github.com/dartsync/dartsync/manifest"
)

// layout is where the store's bytes live: the folder's complete files and
// the partial downloads.
type layout struct {
	root    string // absolute folder root
	partDir string // absolute stateDir/partial
}

// partialPath is the file of the partial download of file ID id.
func (l layout) partialPath(id manifest.ID) string {
	return filepath.Join(l.partDir, id.String()+".part")
}

// refPath resolves a ref record to the absolute path of its bytes.
func (l layout) refPath(r *refRec) string {
	if r.kind == kindPartial {
		return l.partialPath(manifest.ID(r.name))
	}
	return filepath.Join(l.root, filepath.FromSlash(string(r.name)))
}

// relPath returns target as a valid folder-relative path, or false if it is
// not inside the folder (or not a syncable path).
func (l layout) relPath(target string) (string, bool) {
	rel, ok := folderpath.Rel(l.root, target)
	if !ok || rel == "." {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	if manifest.ValidatePath(rel) != nil {
		return "", false
	}
	return rel, true
}

// inside reports whether dir is the folder root or below it.
func (l layout) inside(dir string) bool {
	_, ok := folderpath.Rel(l.root, dir)
	return ok
}
