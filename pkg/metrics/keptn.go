package metrics

// newKeptn is replaced by the keptn provider (issue 18).
func newKeptn(cfg ProviderConfig) (Provider, error) {
	return nil, notYet(cfg.Type)
}
