package peer

// folderList returns the daemon's folders in their configured order
// (folders.go); Status and the local API loop over it. The slice is the
// daemon's own: callers only read it.
func (d *Daemon) folderList() []*folder { return d.folders }
