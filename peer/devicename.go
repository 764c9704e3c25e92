package peer

import "os"

// deviceName is the name this device gives the tracker for its dashboard:
// Config.DeviceName, else the host name, else "".
func (d *Daemon) deviceName() string {
	if d.cfg.DeviceName != "" {
		return d.cfg.DeviceName
	}
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}
