package loadtester

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/serin-dev/serin/pkg/loadtester/hey"
	"github.com/serin-dev/serin/pkg/loadtester/shlex"
)

// typeHey is the metrics and log type of a hey command run in-process.
const typeHey = "hey"

// planCommand decides how a cmd task runs. A plain hey command (no pipe,
// redirection, variable or other program) runs in-process, so the image
// needs no hey binary; a hey command with flags the generator cannot
// honour, and anything else, runs with sh -c as in Flagger. A hey command
// with invalid flags is an error, reported to the caller rather than
// failing later in the background.
func planCommand(command string) (string, runFunc, error) {
	if args, ok := heyArgs(command); ok {
		opts, err := hey.Parse(args)
		switch {
		case err == nil:
			return typeHey, func(ctx context.Context) ([]byte, error) {
				res, err := hey.Run(ctx, opts)
				return []byte(res.String()), err
			}, nil
		case !errors.Is(err, hey.ErrUnsupported):
			return "", nil, fmt.Errorf("invalid hey command: %w", err)
		}
	}
	return TypeCmd, func(ctx context.Context) ([]byte, error) {
		return runProcess(ctx, "sh", "-c", command)
	}, nil
}

// heyArgs returns the arguments of a plain hey command line.
func heyArgs(command string) ([]string, bool) {
	toks, err := shlex.Words(command)
	if err != nil || len(toks) == 0 {
		return nil, false
	}
	for _, t := range toks {
		if t.Expands {
			return nil, false
		}
	}
	if path.Base(toks[0].Text) != "hey" {
		return nil, false
	}
	return shlex.Texts(toks[1:]), true
}
