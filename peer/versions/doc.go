// Package versions keeps the file versions a peer replaces or deletes
// because of a remote change, in DIR/.dartsync/versions/, and lists,
// restores and prunes them. It is the device's own safety net against a
// mistaken deletion or edit on another device, or a wrong tracker: whatever
// arrives from elsewhere, the bytes it replaced stay here for a while.
//
// Terms:
//
//   - Versions directory: DIR/.dartsync/versions (Dir). It mirrors the
//     folder's directories; it is below manifest.StateDir, so the scanner
//     and watcher never see it, manifest.ValidatePath refuses its paths
//     (the chunk store never indexes them, so the piece server, which
//     serves only by hash from indexed files, never serves them), and no
//     version is ever synced.
//   - Version name: a kept file of the folder's a/b/name.ext is
//     versions/a/b/name~YYYYMMDD-HHMMSS.ext, the time (UTC, seconds) being
//     when it was kept; a second version of the same file in the same
//     second is name~YYYYMMDD-HHMMSS-2.ext, and so on. The extension stays
//     last (the file still opens with its program) and is split as for
//     conflict copies ("a.tar.gz" keeps ".gz"; ".bashrc" has none).
//     Versions of one file sort by time in a directory listing. A name too
//     long for that (over 233 bytes: the name limit is 255) keeps its
//     versions in a directory named as the file:
//     versions/a/b/<long name>/~YYYYMMDD-HHMMSS[-N].ext. Where even the
//     versions path exceeds the system's limit, the file is replaced or
//     deleted without a version (with a warning): refusing would stop its
//     sync for good.
//   - Keep: before a remote version is renamed over a file, the file is
//     hard-linked into the versions directory (no bytes copied, and the
//     path never goes missing). Where links are impossible (another file
//     system, FAT, a policy) it is copied: to a temporary file, made
//     durable, then renamed to its version name, so a version is never a
//     partial file.
//   - Remove: a remote deletion moves the file into the versions directory
//     (one rename), then checks it was the file meant; an edit made at that
//     moment is put back (or, if a new file took the path, stays kept).
//   - Restore: a copy of a chosen version is written to a temporary file,
//     given the modification time of now and renamed over the path (whatever
//     was there is kept first): a new local edit, which the peer reports and
//     every device takes as the newest version. The chosen version is the
//     newest one kept at or before a given time, or the newest of all.
//   - Prune: versions kept longer than Options.MaxAge (DefaultMaxAge) are
//     removed, then the oldest until the rest fit in the size cap
//     (Options.MaxBytes, else Options.MaxPercent of the folder's file
//     system); empty directories go too.
//
// A Store keeps no state in memory: the peer, `dartsync versions` and
// `dartsync restore` may use one folder's versions at the same time, and
// none of them needs the peer's index.
//
// Sentinel errors: ErrChanged (a file changed while it was being removed:
// left in place), ErrNoVersion (nothing kept matches).
package versions
