package record

// StatusUpdate is the new status of one process, as GSE reports it: the
// fields a status batch changes, leaving the process's topology alone.
type StatusUpdate struct {
	ProcessID     int64
	ProcessStatus int64
	IsAuto        bool
	// ProcInstInfos replaces the record's list when SetProcInstInfos is
	// true; otherwise the list is kept.
	ProcInstInfos    []ProcInstInfo
	SetProcInstInfos bool
}
