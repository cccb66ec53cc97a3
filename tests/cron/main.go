// Kubernetes' own verdict on CronJob schedules: the CronJob controller and API validation parse a
// schedule with robfig/cron's standard parser. Reads a JSON list of schedules on stdin and prints,
// for each, the parser's error or "" (tests/cron.test.ts compares src/settings/rules.ts with it).
package main

import (
	"encoding/json"
	"os"

	"github.com/robfig/cron/v3"
)

func main() {
	var schedules []string
	if err := json.NewDecoder(os.Stdin).Decode(&schedules); err != nil {
		panic(err)
	}
	verdicts := make([]string, len(schedules))
	for i, s := range schedules {
		if _, err := cron.ParseStandard(s); err != nil {
			verdicts[i] = err.Error()
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(verdicts); err != nil {
		panic(err)
	}
}
