package api

// The error codes of the response envelope (SPEC section 7).
const (
	// CodeValidation is a request that breaks the request contract: a
	// required field missing, a wrong type, a value out of range, neither
	// scope nor expression_scope, an unknown ordering key or field name.
	CodeValidation = 4100001
	// CodeExprSyntax is an expression_scope expression that cannot be parsed.
	CodeExprSyntax = 4111001
	// CodeSlice is a bk_process_id slice that cannot be parsed.
	CodeSlice = 4111003
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
