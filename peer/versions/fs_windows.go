package versions

import (
	"errors"

	"golang.org/x/sys/windows"
)

// fsSize returns the size in bytes of the volume holding path.
func fsSize(path string) (uint64, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, err
	}
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, &total, &totalFree); err != nil {
		return 0, err
	}
	return total, nil
}

// isCrossDevice reports whether err is a rename across volumes.
func isCrossDevice(err error) bool { return errors.Is(err, windows.ERROR_NOT_SAME_DEVICE) }
