package main

import (
	"encoding/json"
	"fmt"

	"github.com/anishathalye/porcupine"
)

// A register's values are any JSON; they are kept as canonical JSON text (object keys sorted)
// so that equal values compare equal as strings.
type registerInput struct {
	Op     string
	Value  string
	Expect string
}

type registerOutput struct {
	Value string
	Ok    bool
}

func canonical(raw json.RawMessage) (string, error) {
	if raw == nil {
		return "null", nil
	}
	var value interface{}
	if err := json.Unmarshal(raw, &value); err != nil {
		return "", err
	}
	text, err := json.Marshal(value)
	return string(text), err
}

func parseRegister(op string, input, output json.RawMessage) (interface{}, interface{}, error) {
	var fields struct {
		Value  json.RawMessage `json:"value"`
		Expect json.RawMessage `json:"expect"`
	}
	if err := json.Unmarshal(input, &fields); err != nil {
		return nil, nil, fmt.Errorf("input: %v", err)
	}
	in := &registerInput{Op: op}
	var err error
	if in.Value, err = canonical(fields.Value); err != nil {
		return nil, nil, err
	}
	if in.Expect, err = canonical(fields.Expect); err != nil {
		return nil, nil, err
	}
	if op != "read" && op != "write" && op != "cas" {
		return nil, nil, fmt.Errorf("unknown register operation %q", op)
	}
	if output == nil {
		return in, nil, nil
	}
	var result struct {
		Value json.RawMessage `json:"value"`
		Ok    bool            `json:"ok"`
	}
	if err := json.Unmarshal(output, &result); err != nil {
		return nil, nil, fmt.Errorf("output: %v", err)
	}
	out := &registerOutput{Ok: result.Ok}
	if out.Value, err = canonical(result.Value); err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

// registerStep: the value after the operation and whether the recorded output fits.
func registerStep(value string, in *registerInput, out *registerOutput) (string, bool) {
	switch in.Op {
	case "read":
		return value, out == nil || out.Value == value
	case "write":
		return in.Value, true
	}
	swapped := value == in.Expect
	if swapped {
		value = in.Value
	}
	return value, out == nil || out.Ok == swapped
}

// registerModel: a state is the set of values the history so far allows (more than one only
// after an indeterminate write or cas), compared as sets.
func registerModel() porcupine.Model {
	return porcupine.Model{
		Init: func() interface{} { return []string{"null"} },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			in := input.(*registerInput)
			var out *registerOutput
			if output != nil {
				out = output.(*registerOutput)
			}
			var next []string
			for _, value := range state.([]string) {
				after, ok := registerStep(value, in, out)
				if out == nil { // indeterminate: it never took effect, or it did
					next = addValue(addValue(next, value), after)
				} else if ok {
					next = addValue(next, after)
				}
			}
			return len(next) > 0, next
		},
		Equal: func(a, b interface{}) bool {
			left, right := a.([]string), b.([]string)
			if len(left) != len(right) {
				return false
			}
			for _, value := range left {
				if !containsValue(right, value) {
					return false
				}
			}
			return true
		},
		DescribeOperation: func(input, output interface{}) string {
			in := input.(*registerInput)
			if output == nil {
				return fmt.Sprintf("%s(%s, %s) -> ?", in.Op, in.Expect, in.Value)
			}
			out := output.(*registerOutput)
			return fmt.Sprintf("%s(%s, %s) -> %s %v", in.Op, in.Expect, in.Value, out.Value, out.Ok)
		},
		DescribeState: func(state interface{}) string { return fmt.Sprint(state.([]string)) },
	}
}

func containsValue(values []string, value string) bool {
	for _, other := range values {
		if other == value {
			return true
		}
	}
	return false
}

func addValue(values []string, value string) []string {
	if containsValue(values, value) {
		return values
	}
	return append(values, value)
}
