package peer

import (
	"log/slog"

	"github.com/dartsync/dartsync/peer/index"
)

// wholeWant returns w with its piece list. A pull lists its wants as heads
// (index.Index.WantsPage: no piece lists, whatever sizes the tracker announced)
// and decodes a file's manifest only when it handles that file, so a peer
// holds whole at most the manifests of the files it is fetching or moving
// (Config.Parallel large ones and smallParallel of at most one piece), not
// every want at once. A want replaced or forgotten since the round listed
// it is obsolete: the next round sees what replaced it.
func wholeWant(idx *index.Index, log *slog.Logger, w index.Want) (index.Want, outcome) {
	if w.Whole() {
		return w, done
	}
	full, ok, err := idx.Want(w.Manifest.Path, w.Manifest.ID)
	switch {
	case err != nil:
		log.Warn("cannot read a wanted version", "path", w.Manifest.Path, "err", err)
		return w, retry
	case !ok:
		return w, obsolete
	}
	return full, done
}

// pieceCount is how many pieces w's version has, whether w is whole or a
// head.
func pieceCount(w *index.Want) int { return max(w.Pieces, len(w.Manifest.Pieces)) }
