package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// LogTail returns up to the last limit bytes of the file at path, starting at a line boundary
// and without the final newline. It describes an empty or unreadable file in parentheses
// instead of failing, since it only ever decorates another error.
func LogTail(path string, limit int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	offset := max(info.Size()-limit, 0)
	buf := make([]byte, info.Size()-offset)
	if _, err := f.ReadAt(buf, offset); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if offset > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	if len(bytes.TrimSpace(buf)) == 0 {
		return "(log is empty)"
	}
	return string(bytes.TrimRight(buf, "\n"))
}
