package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func listFlags(o *options) {
	o.outputFlag()
	o.fs.BoolVar(&o.allNamespaces, "all-namespaces", false, "list the canaries of every namespace")
	o.fs.BoolVar(&o.allNamespaces, "A", false, "short for --all-namespaces")
}

// runList prints every canary of the namespace, or of all of them with -A,
// sorted by namespace and name.
func runList(ctx context.Context, c *cli) int {
	namespace := c.namespace
	if c.opts.allNamespaces {
		namespace = metav1.NamespaceAll
	}
	list, err := c.serin.FlaggerV1beta1().Canaries(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		fmt.Fprintf(c.errOut, "kubectl serin list: %v\n", err)
		return exitError
	}
	rows := make([]row, 0, len(list.Items))
	for i := range list.Items {
		rows = append(rows, rowOf(&list.Items[i]))
	}
	slices.SortFunc(rows, func(a, b row) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	if len(rows) == 0 && c.opts.output == "" {
		if c.opts.allNamespaces {
			fmt.Fprintln(c.errOut, "No canaries found.")
		} else {
			fmt.Fprintf(c.errOut, "No canaries found in %s namespace.\n", c.namespace)
		}
		return exitOK
	}
	text, err := c.format(rows, func() string { return renderRows(rows, c.opts.allNamespaces, c.color, time.Now()) })
	if err != nil {
		fmt.Fprintf(c.errOut, "kubectl serin list: %v\n", err)
		return exitError
	}
	fmt.Fprint(c.out, text)
	return exitOK
}
