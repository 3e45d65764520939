package metrics

// newStackdriver is replaced by the stackdriver provider (issue 18).
func newStackdriver(cfg ProviderConfig) (Provider, error) {
	return nil, notYet(cfg.Type)
}
