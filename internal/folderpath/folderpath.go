// Package folderpath answers one question for every part of DartSync: is a
// path the synced folder itself or inside it? The answer is lexical: the
// paths are compared as strings after cleaning, nothing is read from the
// file system, so a symlink below the folder that points elsewhere still
// counts as inside. Keeping what is written below the folder from following
// such a symlink is the job of the code that opens the files (peer's
// safe-path walk, which refuses symlinked parents).
package folderpath

import "path/filepath"

// Rel returns p relative to root (in the operating system's form, "." for
// root itself) and true when p is root or below it; otherwise "" and false.
// root and p must both be absolute or both relative; a path that cannot be
// made relative to root (one absolute and one not, another volume on
// Windows) is not inside. A name that merely begins with two dots
// ("..config") is inside; on Windows the comparison ignores case, as the
// file system does, and a reserved device name (NUL, COM1) is not inside.
func Rel(root, p string) (string, bool) {
	rel, err := filepath.Rel(root, p)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	return rel, true
}

// Below reports whether p is strictly below root (inside and not root
// itself); see Rel.
func Below(root, p string) bool {
	rel, ok := Rel(root, p)
	return ok && rel != "."
}
