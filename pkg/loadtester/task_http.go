package loadtester

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"

	"github.com/sirupsen/logrus"

	"github.com/serin-dev/serin/pkg/loadtester/shlex"
	"github.com/serin-dev/serin/pkg/webhook"
)

// Task types, the values of metadata.type.
const (
	// TypeCmd runs a command asynchronously with sh -c, or a hey command
	// in-process; it is the default.
	TypeCmd = "cmd"
	// TypeBash runs a command with bash -c and answers when it ends.
	TypeBash = "bash"
	// TypeKubectl runs kubectl with the command's words as arguments.
	TypeKubectl = "kubectl"
	// TypeHelm runs helm with the command's words as arguments.
	TypeHelm = "helm"
	// TypeHelmv3 is Flagger's name for helm 3, the only helm there is now.
	TypeHelmv3 = "helmv3"
)

// Metadata keys read from a payload.
const (
	metaType            = "type"
	metaCmd             = "cmd"
	metaLogCmdOutput    = "logCmdOutput"
	metaReturnCmdOutput = "returnCmdOutput"
)

// runFunc runs one command within ctx and returns its output.
type runFunc func(ctx context.Context) ([]byte, error)

// handleTask runs the task a payload's metadata describes.
func (s *Server) handleTask(w http.ResponseWriter, r *http.Request) {
	p, ok := s.decodePayload(w, r)
	if !ok {
		return
	}
	if len(p.Metadata) == 0 {
		reply(w, http.StatusBadRequest, "metadata not found in payload")
		return
	}
	typ := p.Metadata[metaType]
	if typ == "" {
		typ = TypeCmd
	}
	command := p.Metadata[metaCmd]
	if command == "" {
		reply(w, http.StatusBadRequest, "cmd not found in metadata")
		return
	}
	switch typ {
	case TypeCmd:
		s.startCommand(w, p, command)
	case TypeBash:
		if err := s.allow.checkShell(command); err != nil {
			s.refuse(w, p, typ, err)
			return
		}
		s.runBlocking(w, p, typ, func(ctx context.Context) ([]byte, error) {
			return runProcess(ctx, "bash", "-c", command)
		})
	case TypeKubectl, TypeHelm, TypeHelmv3:
		s.runTool(w, p, typ, command)
	case "concord", "ngrinder":
		reply(w, http.StatusBadRequest, fmt.Sprintf("task type %s is not supported by this load tester", typ))
	default:
		reply(w, http.StatusBadRequest, fmt.Sprintf("unknown task type %s", typ))
	}
}

// startCommand starts a cmd task in the background and answers 202 at
// once. While the same command of the same canary runs, a new request is
// answered 202 too but starts nothing.
func (s *Server) startCommand(w http.ResponseWriter, p webhook.Payload, command string) {
	if err := s.allow.checkShell(command); err != nil {
		s.refuse(w, p, TypeCmd, err)
		return
	}
	typ, run, err := planCommand(command)
	if err != nil {
		reply(w, http.StatusBadRequest, err.Error())
		return
	}
	log := s.taskLog(p, typ)
	ctx, done, err := s.tasks.begin(&taskKey{canary: p.Namespace + "/" + p.Name, command: command})
	if errors.Is(err, errAlreadyRunning) {
		s.metrics.skipped.Inc()
		log.Info("Command skipped, it is already running")
		reply(w, http.StatusAccepted, "command is already running")
		return
	}
	if err != nil {
		replyError(w, err)
		return
	}
	go func() {
		defer done()
		_, _ = s.execute(ctx, log, typ, run, metaBool(p, metaLogCmdOutput))
	}()
	reply(w, http.StatusAccepted, "command started")
}

// runTool runs kubectl or helm without a shell: the command's words are
// the arguments.
func (s *Server) runTool(w http.ResponseWriter, p webhook.Payload, typ, command string) {
	bin, args, err := toolArgs(typ, command)
	if err != nil {
		reply(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.allow.checkWords(append([]string{bin}, args...)); err != nil {
		s.refuse(w, p, typ, err)
		return
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		reply(w, http.StatusInternalServerError, fmt.Sprintf("%s not found: install it in the load tester's image or use type bash", bin))
		return
	}
	s.runBlocking(w, p, typ, func(ctx context.Context) ([]byte, error) {
		return runProcess(ctx, path, args...)
	})
}

// refuse answers a command the allow-list rejected with 403 and the
// reason, which the operator puts in the canary's warning event, and logs
// and counts the refusal: the caller may not be a canary at all.
func (s *Server) refuse(w http.ResponseWriter, p webhook.Payload, typ string, err error) {
	s.metrics.denied.WithLabelValues(typ).Inc()
	s.taskLog(p, typ).WithField("reason", err.Error()).Warn("Command refused by -allow-cmd")
	reply(w, http.StatusForbidden, err.Error())
}

// toolArgs returns the program and arguments of a kubectl or helm task.
func toolArgs(typ, command string) (string, []string, error) {
	bin := typ
	if typ == TypeHelmv3 {
		bin = TypeHelm
	}
	words, err := shlex.Words(command)
	if err != nil {
		return "", nil, fmt.Errorf("%s commands run without a shell: %w", typ, err)
	}
	args := shlex.Texts(words)
	// Flagger prepends the program name; tolerate a command that already
	// starts with it, since "kubectl kubectl" is never meant.
	if len(args) > 0 && args[0] == bin {
		args = args[1:]
	}
	return bin, args, nil
}

// runBlocking runs a task and answers when it ends: 200 (with the output
// when metadata.returnCmdOutput is true) or 500 with the error and output.
func (s *Server) runBlocking(w http.ResponseWriter, p webhook.Payload, typ string, run runFunc) {
	ctx, done, err := s.tasks.begin(nil)
	if err != nil {
		replyError(w, err)
		return
	}
	defer done()
	out, err := s.execute(ctx, s.taskLog(p, typ), typ, run, metaBool(p, metaLogCmdOutput))
	if err != nil {
		reply(w, http.StatusInternalServerError, fmt.Sprintf("command %s failed: %v: %s", p.Metadata[metaCmd], err, out))
		return
	}
	body := ""
	if metaBool(p, metaReturnCmdOutput) {
		body = string(out)
	}
	reply(w, http.StatusOK, body)
}

// execute runs a task and records it in the logs and metrics.
func (s *Server) execute(ctx context.Context, log *logrus.Entry, typ string, run runFunc, logOutput bool) ([]byte, error) {
	s.metrics.commands.WithLabelValues(typ).Inc()
	s.metrics.running.Inc()
	defer s.metrics.running.Dec()
	log.Info("Command starting")
	out, err := run(ctx)
	if err != nil {
		s.metrics.failures.WithLabelValues(typ).Inc()
		log.WithError(err).WithField("output", string(out)).Error("Command failed")
		return out, err
	}
	if logOutput {
		log = log.WithField("output", string(out))
	}
	log.Info("Command finished")
	return out, nil
}

func (s *Server) taskLog(p webhook.Payload, typ string) *logrus.Entry {
	return s.log.WithFields(canaryFields(p)).WithFields(logrus.Fields{"type": typ, "cmd": p.Metadata[metaCmd]})
}

// metaBool reads a boolean metadata value; anything but a true value is false.
func metaBool(p webhook.Payload, key string) bool {
	b, _ := strconv.ParseBool(p.Metadata[key])
	return b
}
