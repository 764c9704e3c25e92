package peer

import (
	"os"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// recognize reports whether one of the first recognizeTries indexed
// files is in the folder with the size, mtime and inode it was synced with.
func (g *folderGuard) recognize() bool {
	tries := 0
	after := ""
	for {
		page, err := g.idx.Page(after, recognizePage)
		if err != nil {
			return false
		}
		for _, e := range page {
			p := e.Manifest.Path
			if e.Manifest.Deleted || e.Manifest.Kind != manifest.KindFile || e.Stat.Size < 0 {
				continue
			}
			if tries++; tries > recognizeTries {
				return false
			}
			abs, _, err := target(g.root, p, existingParents)
			if err != nil {
				continue
			}
			if fi, err := os.Lstat(abs); err == nil && fi.Mode().IsRegular() && scan.StatOf(fi) == e.Stat {
				return true
			}
		}
		if len(page) < recognizePage {
			return false
		}
		after = page[len(page)-1].Manifest.Path
	}
}

// recognizePage is how many index entries recognize reads at once.
const recognizePage = 256
