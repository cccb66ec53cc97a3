// policy-analyser: cyclonus's verdict on traffic under a set of NetworkPolicies, as JSON, for the
// tests' connectivity truth tables. Reads {"policies": [NetworkPolicy...], "traffic": [Traffic...]}
// (cyclonus's matcher.Traffic) on stdin; writes one {"ingress", "egress"} per traffic, in order.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	networkingv1 "k8s.io/api/networking/v1"
)

type input struct {
	Policies []*networkingv1.NetworkPolicy `json:"policies"`
	Traffic  []*matcher.Traffic            `json:"traffic"`
}

type verdict struct {
	Ingress bool `json:"ingress"`
	Egress  bool `json:"egress"`
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "policy-analyser: reading the input:", err)
		os.Exit(2)
	}
	policy := matcher.BuildNetworkPolicies(true, in.Policies)
	out := make([]verdict, len(in.Traffic))
	for i, traffic := range in.Traffic {
		result := policy.IsTrafficAllowed(traffic)
		out[i] = verdict{Ingress: result.Ingress.IsAllowed(), Egress: result.Egress.IsAllowed()}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "policy-analyser:", err)
		os.Exit(2)
	}
}
