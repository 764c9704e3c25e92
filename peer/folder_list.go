package peer

// folderList returns the daemon's folders (Status and the local API loop
// over it).
func (d *Daemon) folderList() []*folder { return []*folder{d.f} }
