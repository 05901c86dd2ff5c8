package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wootguard/wootguard/internal/journal"
	"github.com/wootguard/wootguard/internal/notify"
)

func (r *Runner) save() error {
	r.st.Updated = r.Now().UTC()
	return saveState(r.dir, r.st)
}

func (r *Runner) openLog() error {
	f, err := os.OpenFile(filepath.Join(r.dir, "logs", r.st.UpdateID+".log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	// Kept open for the life of the process; it only holds command output.
	r.log = f
	return nil
}

// record journals rec with the update's context and echoes it.
func (r *Runner) record(rec journal.Record) {
	rec.UpdateID = r.st.UpdateID
	rec.Target = r.Target.Name
	rec.To = r.st.To
	if rec.From == "" {
		rec.From = r.st.From[orWord(rec.Instance, Production)]
	}
	r.j.Fill(&rec)
	if err := r.j.Append(rec); err != nil {
		r.say("WARNING: journal: %v", err)
	}
	if r.JSON != nil {
		line, _ := json.Marshal(rec)
		r.JSON.Write(append(line, '\n'))
	}
	switch {
	case rec.Phase == journal.PhaseStart:
		r.say("%s ...", rec.Step)
	case rec.Phase == journal.PhaseNote:
		r.say("%s", rec.Decision)
	case rec.Outcome == journal.OutcomeOK && rec.Step != "update":
		r.say("%s ok", rec.Step)
	case rec.Step == "update":
		r.say("%s", strings.ToUpper(rec.Outcome[:1])+rec.Outcome[1:]+": "+rec.Decision)
	default:
		r.say("%s FAILED: %s", rec.Step, rec.Error)
	}
}

func (r *Runner) note(role, decision string) {
	r.record(journal.Record{Step: "decision", Instance: role, Phase: journal.PhaseNote, Decision: decision})
}

func (r *Runner) say(format string, args ...any) {
	if r.Human != nil {
		fmt.Fprintf(r.Human, r.Now().Format("15:04:05")+" "+format+"\n", args...)
	}
}

func (r *Runner) notify(ctx context.Context, kind, severity, title, text string) {
	if r.Notify == nil {
		return
	}
	e := notify.Event{Kind: kind, Key: kind + ":" + r.st.UpdateID, Severity: severity, Title: title, Text: text, Time: r.Now().UTC(),
		Fields: map[string]string{"update_id": r.st.UpdateID, "target": r.Target.Name, "to": "v" + r.st.To, "from": "v" + r.st.From[Production]}}
	if kind == "update.failed" || kind == "update.backup_verified" {
		e.Key = "" // may legitimately happen more than once per update
	}
	if err := r.Notify.Send(ctx, e); err != nil {
		r.say("WARNING: notification %s not delivered: %v", kind, err)
		r.j.Append(journal.Record{UpdateID: r.st.UpdateID, Target: r.Target.Name, Step: "notify", Phase: journal.PhaseNote, Error: err.Error(), Decision: "notification " + kind + " not delivered"})
	}
}
