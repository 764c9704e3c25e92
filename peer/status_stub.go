package peer

import "github.com/dartsync/dartsync/peer/localapi"

// Status returns a minimal status snapshot: the version, the device, and
// the folder with its state (paused, else idle).
//
// TEMPORARY stub so that `dartsync peer`'s progress display builds on this
// branch: the full Status (scan progress, transfers, peers, conflicts,
// errors) is built by the local API's work and replaces this file.
func (d *Daemon) Status() localapi.Status {
	st := localapi.Status{Version: d.cfg.Version, Device: d.self.String(), Short: d.self.Short()}
	for _, f := range d.folderList() {
		paused, reason := f.guard.get()
		lf := localapi.Folder{Name: f.name, Path: f.root, State: localapi.StateIdle, Seq: f.idx.Seq()}
		if paused {
			lf.State, lf.Reason = localapi.StatePaused, reason
		}
		if st.StateDir == "" {
			st.StateDir = f.stateDir
		}
		st.Folders = append(st.Folders, lf)
	}
	return st
}
