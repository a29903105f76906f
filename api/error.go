package api

// The error codes of the response envelope. The first three are the
// SPEC's (section 7); the others answer HTTP failures the SPEC gives no
// code for, and each is the HTTP status it goes with. Every package that
// writes an envelope (engine, gsekit, server, replay) takes its codes
// from here.
const (
	// CodeValidation is a request that breaks the request contract: a
	// required field missing, a wrong type, a value out of range, neither
	// scope nor expression_scope, an unknown ordering key or field name.
	CodeValidation = 4100001
	// CodeExprSyntax is an expression_scope expression that cannot be parsed.
	CodeExprSyntax = 4111001
	// CodeSlice is a bk_process_id slice that cannot be parsed.
	CodeSlice = 4111003

	// CodeUnauthorized answers a request whose app credentials or admin
	// bearer token do not match (HTTP 401).
	CodeUnauthorized = 401
	// CodeNotFound answers a path that is not an endpoint (HTTP 404).
	CodeNotFound = 404
	// CodeMethodNotAllowed answers a method the endpoint does not take
	// (HTTP 405).
	CodeMethodNotAllowed = 405
	// CodeConflict answers a request the served data cannot honour, such
	// as a reload of the generated demo data set (HTTP 409).
	CodeConflict = 409
	// CodeInternal is an unexpected failure (HTTP 500).
	CodeInternal = 500
	// CodeUnavailable answers while no data is loaded, a query that ran
	// out of time or whose client went away, and a write the store could
	// not take (HTTP 503).
	CodeUnavailable = 503
)

// Error is a failure answered with result false: Code goes to the
// envelope's code and Message, which names the offending field or
// expression, to its message.
type Error struct {
	Code    int
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }
