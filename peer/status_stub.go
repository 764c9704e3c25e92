package peer

import "github.com/dartsync/dartsync/peer/localapi"

// Status returns a minimal status snapshot: the version, the device, and
// the folder with its state (paused, else idle).
//
// TEMPORARY stub so that `dartsync peer`'s progress display builds on this
// branch: the full Status (scan progress, transfers, peers, conflicts,
// errors) is built by the local API's work and replaces this file.
func (d *Daemon) Status() localapi.Status {
	paused, reason := d.f.guard.get()
	f := localapi.Folder{Name: d.cfg.Folder, Path: d.cfg.Root, State: localapi.StateIdle, Seq: d.f.idx.Seq()}
	if paused {
		f.State, f.Reason = localapi.StatePaused, reason
	}
	return localapi.Status{
		Version: d.cfg.Version, Device: d.self.String(), Short: d.self.Short(), StateDir: d.cfg.StateDir,
		Folders: []localapi.Folder{f},
	}
}
