package engine

// WithVersion returns an engine answering from the same data as e whose
// data version is v, for a server that loads a new data set (a reload
// builds an engine at version 1) and keeps its versions growing across
// loads. e is unchanged; engines derived from the result count on from v.
func (e *Engine) WithVersion(v uint64) *Engine {
	n := *e
	n.version = v
	return &n
}
