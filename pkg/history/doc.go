// Package history keeps what each analysis run of a canary did, tick by
// tick: the checks with their values and verdicts, the weight, and the
// events that explain why it promoted or rolled back. The operator appends
// to it; kubectl serin explain and replay read it.
//
// A history lives in one ConfigMap per canary, owned by the Canary, one key
// per run ("run-7") holding JSON lines, one Entry per tick. It is bounded:
// the current run and the last few, each cut to a byte budget from its
// oldest ticks (the end of a run, which says how it ended, is kept), so
// that the object stays far below the API server's 1 MiB limit.
package history
