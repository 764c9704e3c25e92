// Package peer is the DartSync peer daemon (DESIGN §5): it keeps one folder
// in sync with the other devices through a tracker.
//
// Terms:
//
//   - Folder: the directory being synced (Config.Root). Every path the daemon
//     handles is folder-relative and passes manifest.ValidatePath.
//   - Index: what the peer last synced, per path (peer/index). A file whose
//     stat matches its index entry is unchanged; a file that differs is a
//     local edit, to be reported with base = the index's file ID.
//   - Local scan: peer/scan over the folder with the index as Prev, then a
//     diff against the index that yields `base -> new` changes, reported to
//     the tracker in batches. The watcher (peer/watch) decides when to scan.
//   - Want: a version the tracker announced (an Updates entry) that differs
//     from the index; stored in the index until applied.
//   - Puller: turns wants into files: directories first, then new paths,
//     then updates of existing paths, then deletions, so a renamed file's
//     pieces are still on disk when its new path is built. Each piece is
//     planned (plan): copied from the chunk store when any local file or
//     partial has it (zero network bytes), else fetched from every live owner
//     at once (peer/transfer).
//   - Apply: a complete partial is committed over the target only if the
//     target still matches the index (else it is a local edit: reported, and
//     the tracker decides the conflict), with mtime and exec bit set, then
//     staged in the index before anything else can see the new file, and the
//     tracker is told this peer owns the version. Single-piece files are
//     applied in batches (apply_batch.go): their data is made durable
//     together, each target is checked right before its own rename, each
//     touched directory is fsynced once, then the batch is staged and
//     announced.
//   - Move: a new path whose version is exactly a local, unchanged file that
//     a tombstone of the same pull deletes is renamed there (a remote rename
//     costs neither network nor disk bytes).
//   - Ownership: after applying, the peer tells the tracker it owns the
//     version (a change whose new file ID is current), so other peers fetch
//     from it too; a version superseded meanwhile is not announced (it would
//     read as a concurrent edit).
//   - Safe path: every write or delete happens below the folder through real
//     directories only; a symlink in a parent component refuses the write.
//   - Folder marker: DIR/.dartsync/folder (peer/marker) names the tracker
//     folder, this device and the absolute state directory. A folder whose
//     index holds no live entry (a first start) is created if missing and
//     marked; a folder marked by this device is synced (at start, a stale
//     state directory or folder name in the marker is rewritten).
//   - Paused: the folder is missing or lacks its marker while its index
//     holds files (a disk or share not mounted, the folder moved away), or
//     it is marked by another device (two peers never sync one folder).
//     Absence is not deletion: nothing is scanned, reported or applied, and
//     nothing (marker, partials, temporary files, parent directories) is
//     created in the folder. The peer logs why once, stays registered,
//     keeps serving the pieces it can and stores announced versions as
//     wants. The marker is checked every Config.FolderPoll, when the
//     watcher sees the root or DIR/.dartsync change, before every scan,
//     after its walk and after its diff (a deletion is reported only if it
//     was seen between two checks that found the marker: the disk may go,
//     and come back, during a scan), before every pull and right before
//     each write of a pull (one lstat of the marker). When the marker is back the folder resumes: a
//     new watcher, a full scan, then a pull. At start only, an unmarked
//     folder that is provably the one indexed is marked instead (a folder
//     synced before markers existed, or whose marker was deleted by hand):
//     its index lives in it, or an indexed file is there unchanged (same
//     size, mtime and inode, which an empty mount point or another disk
//     cannot have). Stats report Paused and PausedReason.
//   - State inside the folder (the default, DIR/.dartsync): a folder that is
//     missing has no index either. Without a tracker and token to join, New
//     fails with ErrNoTracker and creates nothing; with them, it is a first
//     start (a new, empty member). Keep the state outside a removable disk
//     (--state) so a peer started while it is not mounted pauses instead.
//   - Stats: counters of bytes and pieces moved, written to Config.StatsFile.
//
// Sentinel errors: ErrUnsafePath (a path would leave the folder),
// ErrNoTracker (no index and no tracker to join).
package peer
