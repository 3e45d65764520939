package metrics

// newInfluxDB is replaced by the influxdb provider (issue 18).
func newInfluxDB(cfg ProviderConfig) (Provider, error) {
	return nil, notYet(cfg.Type)
}
