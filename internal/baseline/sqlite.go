package baseline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/procq/procq/api"
	"github.com/procq/procq/internal/match"
	"github.com/procq/procq/record"
)

// SQLite answers requests the way a web service built on an ORM and a SQL
// table would: one in-memory SQLite table of the records' scalar columns
// with an index on every filter column (and on the sort columns), a
// COUNT(*) and a page query per request with WHERE … IN (…), LIKE '%x%'
// and ORDER BY … LIMIT … OFFSET, every page row read in full. Expressions
// are evaluated as GSEKit's reference service does it: fetch the id and
// the name fields of every record of the business, match them in Go, then
// filter the table with bk_process_id IN (the matching ids).
type SQLite struct {
	db *sql.DB
}

// sqliteColumns are the table's columns, in the order the page query
// reads them; ip_key is the address sort key (match.IPSortKey).
var sqliteColumns = []string{
	"bk_process_id", "id", "bk_biz_id", "expression", "bk_host_innerip",
	"bk_host_innerip_v6", "bk_agent_id", "bk_cloud_id", "bk_cloud_name",
	"bk_set_env", "bk_set_id", "bk_module_id", "bk_set_name",
	"bk_module_name", "service_template_id", "service_instance_id",
	"bk_service_name", "bk_process_name", "process_template_id",
	"process_status", "is_auto", "ip_key",
}

// sqliteIndexed are the columns that get an index of their own;
// bk_process_id is the primary key.
var sqliteIndexed = []string{
	"bk_biz_id", "bk_set_env", "bk_set_id", "bk_module_id",
	"service_instance_id", "bk_process_name", "bk_cloud_id",
	"bk_host_innerip", "process_status", "is_auto", "id", "ip_key",
}

// NewSQLite creates an in-memory database holding recs, indexes it and
// runs ANALYZE so the planner knows the columns' selectivity. progress,
// when not nil, is called as rows are inserted.
func NewSQLite(ctx context.Context, recs []*record.Record, progress func(done, total int)) (*SQLite, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// Each connection to ":memory:" is a database of its own: keep one.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	s := &SQLite{db: db}
	if err := s.load(ctx, recs, progress); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

func (s *SQLite) load(ctx context.Context, recs []*record.Record, progress func(done, total int)) error {
	var ddl strings.Builder
	ddl.WriteString("CREATE TABLE process_status (bk_process_id INTEGER PRIMARY KEY")
	for _, c := range sqliteColumns[1:] {
		switch c {
		case "expression", "bk_host_innerip", "bk_host_innerip_v6", "bk_agent_id", "bk_cloud_name",
			"bk_set_env", "bk_set_name", "bk_module_name", "bk_service_name", "bk_process_name", "ip_key":
			ddl.WriteString(", " + c + " TEXT NOT NULL")
		case "service_template_id": // null when unknown, as in the API
			ddl.WriteString(", " + c + " INTEGER")
		default:
			ddl.WriteString(", " + c + " INTEGER NOT NULL")
		}
	}
	ddl.WriteString(")")
	for _, stmt := range []string{
		// LIKE is ASCII case-insensitive by default; the API's search is
		// case-sensitive.
		"PRAGMA case_sensitive_like = ON",
		"PRAGMA journal_mode = OFF",
		"PRAGMA synchronous = OFF",
		ddl.String(),
	} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlite: %s: %w", stmt, err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	marks := strings.TrimSuffix(strings.Repeat("?,", len(sqliteColumns)), ",")
	ins, err := tx.PrepareContext(ctx, "INSERT INTO process_status ("+strings.Join(sqliteColumns, ",")+") VALUES ("+marks+")")
	if err != nil {
		return fmt.Errorf("sqlite: prepare insert: %w", err)
	}
	defer ins.Close()
	for i, r := range recs {
		var stID any
		if r.HasServiceTemplate {
			stID = r.ServiceTemplateID
		}
		if _, err := ins.ExecContext(ctx, r.ProcessID, r.ID, r.BizID, r.Expression, r.InnerIP,
			r.InnerIPv6, r.AgentID, r.CloudID, r.CloudName, r.SetEnv, r.SetID, r.ModuleID,
			r.SetName, r.ModuleName, stID, r.ServiceInstanceID, r.ServiceName, r.ProcessName,
			r.ProcessTemplateID, r.ProcessStatus, r.IsAuto, match.IPSortKey(r.InnerIP)); err != nil {
			return fmt.Errorf("sqlite: insert bk_process_id %d: %w", r.ProcessID, err)
		}
		if progress != nil && (i%4096 == 0 || i == len(recs)-1) {
			progress(i+1, len(recs))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	for _, c := range sqliteIndexed {
		stmt := "CREATE INDEX idx_" + c + " ON process_status (" + c + ")"
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlite: %s: %w", stmt, err)
		}
	}
	if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("sqlite: analyze: %w", err)
	}
	return nil
}

// Name returns "sqlite".
func (s *SQLite) Name() string { return "sqlite" }

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// where is a WHERE clause under construction.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// inList adds "col IN (?, ?, …)" for a non-empty list.
func inList[T any](w *where, col string, vals []T) {
	if len(vals) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString(col + " IN (")
	for i, v := range vals {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("?")
		w.args = append(w.args, v)
	}
	b.WriteString(")")
	w.conds = append(w.conds, b.String())
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

// likeEscape escapes LIKE's wildcards in a search term.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// conditions returns the WHERE clause of q, or nil when its expression matches
// nothing.
func (s *SQLite) conditions(ctx context.Context, q *api.Query) (*where, error) {
	w := &where{}
	w.add("bk_biz_id = ?", q.BizID)
	switch {
	case q.Scope != nil:
		sc := q.Scope
		if sc.Env != "0" {
			w.add("bk_set_env = ?", sc.Env)
		}
		inList(w, "bk_set_id", sc.SetIDs)
		inList(w, "bk_module_id", sc.ModuleIDs)
		inList(w, "service_instance_id", sc.ServiceIDs)
		inList(w, "bk_process_name", sc.ProcessNames)
		inList(w, "bk_process_id", sc.ProcessIDs)
	case q.Expr != nil:
		ids, err := s.exprIDs(ctx, q.BizID, q.Expr)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, nil
		}
		// Like a MySQL client library, the ORM writes the ids into the
		// statement: there are too many for bound parameters.
		b := make([]byte, 0, 16+len(ids)*11)
		b = append(b, "bk_process_id IN ("...)
		for i, id := range ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		w.add(string(append(b, ')')))
	}
	inList(w, "bk_cloud_id", q.CloudIDs)
	inList(w, "bk_host_innerip", q.InnerIPs)
	if q.Status != nil {
		w.add("process_status = ?", q.Status[0])
	}
	inList(w, "process_status", q.StatusList)
	if q.IsAuto != nil {
		w.add("is_auto = ?", q.IsAuto[0])
	}
	inList(w, "is_auto", q.IsAutoList)
	for _, t := range q.Searches {
		pat := "%" + likeEscape.Replace(t) + "%"
		w.add(`(bk_host_innerip LIKE ? ESCAPE '\' OR bk_cloud_name LIKE ? ESCAPE '\')`, pat, pat)
	}
	return w, nil
}

// Query answers q with a COUNT(*) and a page query.
func (s *SQLite) Query(ctx context.Context, q *api.Query) (Answer, error) {
	w, err := s.conditions(ctx, q)
	if err != nil || w == nil {
		return Answer{IDs: []int64{}}, err
	}
	cond := w.String()

	var count uint64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM process_status WHERE "+cond, w.args...).Scan(&count); err != nil {
		return Answer{}, fmt.Errorf("sqlite: count: %w", err)
	}
	ans := Answer{Count: count, IDs: []int64{}}
	if q.Offset >= count {
		return ans, nil
	}
	ids, err := s.page(ctx, q, cond, w.args)
	ans.IDs = ids
	return ans, err
}

// page returns the bk_process_ids of q's page of the rows matching cond.
func (s *SQLite) page(ctx context.Context, q *api.Query, cond string, wargs []any) ([]int64, error) {
	ids := []int64{}
	var order strings.Builder
	for _, k := range q.Ordering {
		col := k.Field.String()
		if k.Field == record.FieldInnerIP {
			col = "ip_key"
		}
		order.WriteString(col)
		if k.Desc {
			order.WriteString(" DESC")
		}
		order.WriteString(", ")
	}
	order.WriteString("bk_process_id")
	stmt := "SELECT " + strings.Join(sqliteColumns, ", ") + " FROM process_status WHERE " + cond +
		" ORDER BY " + order.String() + " LIMIT ? OFFSET ?"
	args := append(wargs[:len(wargs):len(wargs)], q.Limit, int64(min(q.Offset, math.MaxInt64)))
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: page: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r record.Record
		var stID sql.NullInt64
		var ipKey string
		if err := rows.Scan(&r.ProcessID, &r.ID, &r.BizID, &r.Expression, &r.InnerIP,
			&r.InnerIPv6, &r.AgentID, &r.CloudID, &r.CloudName, &r.SetEnv, &r.SetID, &r.ModuleID,
			&r.SetName, &r.ModuleName, &stID, &r.ServiceInstanceID, &r.ServiceName, &r.ProcessName,
			&r.ProcessTemplateID, &r.ProcessStatus, &r.IsAuto, &ipKey); err != nil {
			return nil, fmt.Errorf("sqlite: page row: %w", err)
		}
		r.ServiceTemplateID, r.HasServiceTemplate = stID.Int64, stID.Valid
		ids = append(ids, r.ProcessID)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: page rows: %w", err)
	}
	return ids, nil
}

// exprIDs evaluates an expression_scope as the reference service does:
// every (id, names) row of the business and environment is fetched and
// matched in Go; a slice cuts the matching ids in ascending order.
func (s *SQLite) exprIDs(ctx context.Context, biz int64, x *api.ExprScope) ([]int64, error) {
	m, err := match.ExprOf(x)
	if err != nil {
		return nil, err
	}
	stmt := "SELECT bk_process_id, bk_set_name, bk_module_name, bk_service_name, bk_process_name FROM process_status WHERE bk_biz_id = ?"
	args := []any{biz}
	if m.Env != "0" {
		stmt += " AND bk_set_env = ?"
		args = append(args, m.Env)
	}
	stmt += " ORDER BY bk_process_id"
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: expression rows: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var pid int64
		var set, module, service, process string
		if err := rows.Scan(&pid, &set, &module, &service, &process); err != nil {
			return nil, fmt.Errorf("sqlite: expression row: %w", err)
		}
		if m.Match(set, module, service, process, pid) {
			ids = append(ids, pid)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: expression rows: %w", err)
	}
	return m.SliceIDs(ids), nil
}
