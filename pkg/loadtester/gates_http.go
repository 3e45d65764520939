package loadtester

import (
	"fmt"
	"net/http"

	"github.com/sirupsen/logrus"
)

// checkGate answers 200 Approved when the canary's gate of this kind is
// open and 403 Forbidden when it is closed, as Flagger does.
func (s *Server) checkGate(kind GateKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.decodePayload(w, r)
		if !ok {
			return
		}
		gate := Gate{Kind: kind, Namespace: p.Namespace, Name: p.Name}
		open := s.gates.IsOpen(gate)
		result := "closed"
		if open {
			result = "open"
		}
		s.metrics.gateChecks.WithLabelValues(string(kind), result).Inc()
		s.log.WithFields(canaryFields(p)).WithFields(logrus.Fields{"gate": kind, "open": open}).Info("Gate check")
		if open {
			reply(w, http.StatusOK, "Approved")
			return
		}
		reply(w, http.StatusForbidden, "Forbidden")
	}
}

// setGate opens or closes the canary's gate of this kind and answers 202.
func (s *Server) setGate(kind GateKind, open bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.decodePayload(w, r)
		if !ok {
			return
		}
		gate := Gate{Kind: kind, Namespace: p.Namespace, Name: p.Name}
		log := s.log.WithFields(canaryFields(p)).WithFields(logrus.Fields{"gate": kind, "open": open})
		if err := s.gates.Set(r.Context(), gate, open); err != nil {
			log.WithError(err).Error("Changing the gate failed")
			reply(w, http.StatusInternalServerError, err.Error())
			return
		}
		log.Info("Gate changed")
		state := "closed"
		if open {
			state = "opened"
		}
		reply(w, http.StatusAccepted, fmt.Sprintf("%s %s", gate, state))
	}
}
