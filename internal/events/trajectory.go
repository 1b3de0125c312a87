package events

import "encoding/json"

// trajectoryDropped are browser extras OpenHands leaves out of trajectories (event_to_trajectory):
// large DOM and accessibility trees nobody replays.
var trajectoryDropped = []string{"dom_object", "axtree_object", "active_page_index", "last_browser_action",
	"last_browser_action_error", "focused_element_bid", "extra_element_properties"}

// MarshalTrajectory writes events as an OpenHands trajectory: a JSON array of events, hidden events
// left out, browser observations without their DOM and accessibility trees (and without screenshots
// unless asked for).
func MarshalTrajectory(evs []*Event, includeScreenshots bool) ([]byte, error) {
	out := []byte{'['}
	n := 0
	for _, ev := range evs {
		if ev.Hidden() {
			continue
		}
		raw, err := Marshal(ev)
		if err != nil {
			return nil, err
		}
		if _, browse := ev.Observation.(*BrowserOutputObservation); browse {
			if raw, err = dropExtras(raw, includeScreenshots); err != nil {
				return nil, err
			}
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, raw...)
		n++
	}
	return append(out, ']'), nil
}

func dropExtras(raw []byte, includeScreenshots bool) ([]byte, error) {
	ev, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	extras, err := appendFields(nil, ev.Observation, nil)
	if err != nil {
		return nil, err
	}
	var m map[string]RawJSON
	if err := json.Unmarshal(extras, &m); err != nil {
		return nil, err
	}
	drop := trajectoryDropped
	if !includeScreenshots {
		drop = append(drop[:len(drop):len(drop)], "screenshot", "set_of_marks")
	}
	fields := map[string]RawJSON{}
	for k, v := range m {
		fields[k] = v
	}
	for _, k := range drop {
		delete(fields, k)
	}
	// Re-emit the event with the remaining extras, keeping the envelope as written.
	ev.Observation = &trimmedObservation{BrowserOutputObservation: ev.Observation.(*BrowserOutputObservation), fields: fields}
	return Marshal(ev)
}

// trimmedObservation writes a browser observation with only some of its extras.
type trimmedObservation struct {
	*BrowserOutputObservation
	fields map[string]RawJSON
}

func (t *trimmedObservation) MarshalJSON() ([]byte, error) {
	out := []byte{'{'}
	for i, k := range sortedKeys(t.fields) {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ':')
		out = append(out, t.fields[k]...)
	}
	return append(out, '}'), nil
}
