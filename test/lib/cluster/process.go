package cluster

import (
	"errors"
	"strings"

	"github.com/serin-dev/serin/test/lib/proc"
)

// errPortInUse marks a start failure caused by a loopback port that another process took
// between freePorts and the component binding it; Start retries those with new ports.
var errPortInUse = errors.New("port already in use")

// failure is p.Failure, marked with errPortInUse when the component could not bind its port.
func failure(p *proc.Process, format string, args ...any) error {
	err := p.Failure(format, args...)
	if strings.Contains(err.Error(), "address already in use") {
		return errors.Join(errPortInUse, err)
	}
	return err
}
