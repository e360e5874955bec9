"""Clusters of duplicates: connected components of the duplicate graph.

Alternating large-star/small-star rounds (Kiveris et al. 2014) use GroupByKeys only: a round
is three of them over the edge list (|E| ≤ |V|·(bands+2)), and a node's neighbour list, bounded
by the largest cluster, is the only state a worker holds. The alternation converges in
O(log² n) rounds; `cc_rounds` are unrolled in the graph, a check counts nodes not yet in star
shape, and if any remain, the remaining edges (at most `fallback_max_edges`, else the run
fails with that number) are finished by union-find on one worker.
"""

from __future__ import annotations

import apache_beam as beam

from rootstock.filters import dedup as d


class Membership(beam.PTransform):
    """Undirected edges → (node, root) for every node of a cluster, the root (its smallest node) included."""

    def __init__(self, rounds: int, fallback_max_edges: int):
        super().__init__()
        self.rounds, self.fallback_max_edges = rounds, fallback_max_edges

    def expand(self, edges):
        components = edges | "Components" >> ConnectedComponents(self.rounds, self.fallback_max_edges)
        roots = components | "Roots" >> beam.Map(lambda e: (e[1], e[1])) | "DistinctRoots" >> beam.Distinct()
        return (components, roots) | "WithRoots" >> beam.Flatten()


class ConnectedComponents(beam.PTransform):
    """Undirected edges (a, b) → (node, smallest node of its component) for every non-root node."""

    def __init__(self, rounds: int, fallback_max_edges: int):
        super().__init__()
        self.rounds, self.fallback_max_edges = rounds, fallback_max_edges

    def expand(self, edges):
        # The star steps read their neighbours as sets, so duplicate edges between rounds are
        # harmless: one Distinct at the end instead of two per round.
        for i in range(self.rounds):
            edges = (
                edges
                | f"Both{i}" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
                | f"LargeGroup{i}" >> beam.GroupByKey()
                | f"LargeStar{i}" >> beam.FlatMap(lambda kv: d.large_star(kv[0], kv[1]))
                | f"Orient{i}" >> beam.Map(lambda e: (max(e), min(e)))
                | f"SmallGroup{i}" >> beam.GroupByKey()
                | f"SmallStar{i}" >> beam.FlatMap(lambda kv: d.small_star(kv[0], kv[1]))
            )
        edges = edges | "DistinctEdges" >> beam.Distinct()
        # Converged iff every component is a star around its smallest node: no node is both a
        # child and a parent, and no child has two parents.
        # Both roles of an edge from one step: a Flatten of two would be held whole by the local runner.
        unfinished = (
            edges
            | "Roles" >> beam.FlatMap(lambda e: [(e[0], ("child", e[1])), (e[1], ("parent", e[0]))])
            | "RolesByNode" >> beam.GroupByKey()
            | "NotStar" >> beam.Map(lambda kv: int(_not_star(kv[1])))
            | "CountNotStar" >> beam.CombineGlobally(sum)
        )
        routed = edges | "SplitConverged" >> beam.ParDo(_Route(), beam.pvalue.AsSingleton(unfinished)).with_outputs(
            "residual", main="done"
        )
        finished = (
            routed.residual
            | "OneKey" >> beam.Map(lambda e: (0, e))
            | "Gather" >> beam.GroupByKey()
            | "UnionFind" >> beam.FlatMap(_finish, self.fallback_max_edges)
        )
        return (routed.done, finished) | "Components" >> beam.Flatten()


def _not_star(roles) -> bool:
    parents, child_of = set(), set()
    for role, other in roles:
        (child_of if role == "child" else parents).add(other)
    return bool(child_of and parents) or len(child_of) > 1


class _Route(beam.DoFn):
    """Every edge to `residual` if some node is not in star shape yet, else to the main output."""

    def process(self, edge, unfinished):
        if unfinished:
            yield beam.pvalue.TaggedOutput("residual", edge)
        else:
            yield edge


def _finish(kv, limit):
    edges = list(kv[1])
    if len(edges) > limit:
        raise RuntimeError(
            f"connected components did not converge in the unrolled rounds and {len(edges)} edges remain, "
            f"over fallback_max_edges={limit}; raise stages.dedup.cc_rounds"
        )
    for node, root in d.union_find(edges).items():
        if node != root:
            yield node, root
