package judge

import (
	"math"
	"slices"
)

// mannWhitney fills U, Z, PValue, Exact and the effect sizes of the
// one-sided test "the canary (k) is stochastically larger than the baseline
// (b)".
func mannWhitney(b, k []float64, s *RankSummary) {
	n, m := float64(len(b)), float64(len(k))
	ranks, tieTerm := midRanks(b, k)
	var rk float64
	for _, r := range ranks[len(b):] {
		rk += r
	}
	// The canary's rank sum minus its least possible value counts the pairs
	// in which the canary is larger, a tie counting one half.
	s.U = rk - m*(m+1)/2
	s.Effect = s.U / (n * m)
	s.RankBiserial = 2*s.Effect - 1
	if tieTerm == 0 && max(len(b), len(k)) <= maxExactPoints {
		s.Exact = true
		s.PValue = exactUpperTail(len(b), len(k), int(math.Round(s.U)))
		return
	}
	// Variance of U under H0 with ties: nm/12·((N+1) − Σ(t³−t)/(N(N−1))).
	total := n + m
	variance := n * m / 12 * ((total + 1) - tieTerm/(total*(total-1)))
	if variance <= 0 { // every value tied: no evidence either way
		s.PValue = 1
		return
	}
	s.Z = (s.U - n*m/2 - 0.5) / math.Sqrt(variance) // continuity correction
	s.PValue = 0.5 * math.Erfc(s.Z/math.Sqrt2)
}

// midRanks ranks b then k together (1-based), tied values sharing the mean
// of their ranks, and returns Σ(t³−t) over the groups of t tied values.
func midRanks(b, k []float64) ([]float64, float64) {
	all := append(slices.Clone(b), k...)
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		switch {
		case all[i] < all[j]:
			return -1
		case all[i] > all[j]:
			return 1
		}
		return 0
	})
	ranks := make([]float64, len(all))
	var tieTerm float64
	for lo := 0; lo < len(order); {
		hi := lo + 1
		for hi < len(order) && all[order[hi]] == all[order[lo]] {
			hi++
		}
		mid := float64(lo+hi+1) / 2 // mean of the ranks lo+1 .. hi
		for _, i := range order[lo:hi] {
			ranks[i] = mid
		}
		t := float64(hi - lo)
		tieTerm += t*t*t - t
		lo = hi
	}
	return ranks, tieTerm
}

// exactUpperTail is P(U ≥ u) for sizes n (baseline) and m (canary) without
// ties, from the Mann-Whitney recursion on the number of orderings:
// f(i, j, u) = f(i, j−1, u−i) + f(i−1, j, u), the largest value being the
// canary's (it is larger than all i baseline values) or a baseline value.
func exactUpperTail(n, m, u int) float64 {
	// f[i][v] holds f(i, j, v) for the current j.
	f := make([][]float64, n+1)
	for i := range f {
		f[i] = make([]float64, n*m+1)
		f[i][0] = 1 // j = 0: the one ordering, U = 0
	}
	for j := 1; j <= m; j++ {
		next := make([][]float64, n+1)
		for i := range next {
			next[i] = make([]float64, n*m+1)
			for v := 0; v <= i*j; v++ {
				if v >= i {
					next[i][v] = f[i][v-i]
				}
				if i > 0 {
					next[i][v] += next[i-1][v]
				}
			}
		}
		f = next
	}
	var tail, all float64
	for v, ways := range f[n] {
		all += ways
		if v >= u {
			tail += ways
		}
	}
	return tail / all
}
