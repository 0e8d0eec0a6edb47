"""The disconnectivity tree of a set of minima joined by transition states (Becker & Karplus 1997).

Generic: nodes are minima with energies (``-inf`` for a funnel that descends without bound),
edges are transition states ``(energy, a, b)``. The tree is the standard construction (Becker &
Karplus, J. Chem. Phys. 106, 1495, 1997; Wales, *Energy Landscapes*, 2003, §4.8): union-find over
the edges in increasing order of energy; each edge that joins two different sets is a branch
point of the tree at its energy. Each node's *barrier* is the lowest saddle out of it minus its
own energy (a saddle to a copy of itself counts: it leaves the node's basin); the energy at
which a node joins the set of the lowest node (the global minimum, or the funnel) is
``joins_lowest`` (for the lowest node: where it first joins another).

`tree_layout` gives the x positions of the leaves and joins, in the order that draws the graph
without crossings (children ordered by their lowest energy, lowest first), as the chemistry
literature draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from landscape.common.results import Result

__all__ = ["Join", "DisconnectivityTree", "disconnectivity_tree", "tree_layout"]


@dataclass(frozen=True)
class Join(Result):
    """A branch point: at ``energy`` the sets ``left`` and ``right`` (node indices) merge."""

    energy: float
    left: tuple[int, ...]
    right: tuple[int, ...]
    edge: int  # the edge (transition state) that joins them


@dataclass(frozen=True)
class DisconnectivityTree(Result):
    """The branch points of the tree, and per node its barrier and the energy where it joins the lowest.

    Attributes:
      energies: node energies (``-inf`` for a funnel).
      joins: the branch points, in increasing energy.
      barrier: per node, the lowest adjacent edge energy minus its energy (inf: no edge).
      exit_edge: per node, that edge's index (−1: none).
      joins_lowest: per node, the energy at which its set first contains the lowest node (for the
        lowest node itself: where it first joins any other; inf if it never does).
      components: the sets left at the end (one if every node is joined).
    """

    energies: tuple[float, ...]
    joins: tuple[Join, ...]
    barrier: tuple[float, ...]
    exit_edge: tuple[int, ...]
    joins_lowest: tuple[float, ...]
    components: tuple[tuple[int, ...], ...]

    @property
    def connected(self) -> bool:
        return len(self.components) == 1


def disconnectivity_tree(energies, edges) -> DisconnectivityTree:
    """Union-find over ``edges`` = [(energy, a, b), ...] in increasing energy (module docstring)."""
    E = [float(e) for e in energies]
    N = len(E)
    if N == 0:
        raise ValueError("energies must list at least one node.")
    for j, (e, a, b) in enumerate(edges):
        if not (0 <= int(a) < N and 0 <= int(b) < N):
            raise ValueError(f"edges[{j}] joins nodes ({a}, {b}); nodes are 0..{N - 1}.")
        if not math.isfinite(float(e)):
            raise ValueError(f"edges[{j}] has energy {e}; a transition state's energy is finite.")
    parent = list(range(N))
    members = {i: [i] for i in range(N)}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    lowest = int(np.argmin(E))
    joins_lowest = [math.inf] * N
    joins_lowest[lowest] = -math.inf
    barrier, exit_edge = [math.inf] * N, [-1] * N
    joins = []
    for j in sorted(range(len(edges)), key=lambda j: (float(edges[j][0]), j)):
        e, a, b = float(edges[j][0]), int(edges[j][1]), int(edges[j][2])
        for node in (a, b):
            if e - E[node] < barrier[node]:
                barrier[node], exit_edge[node] = e - E[node], j
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        left, right = sorted(members[ra]), sorted(members[rb])
        if min(E[i] for i in right) < min(E[i] for i in left):
            left, right = right, left
        joins.append(Join(energy=e, left=tuple(left), right=tuple(right), edge=j))
        low = find(lowest)
        for side, other in ((ra, rb), (rb, ra)):
            if other == low:
                for i in members[side]:
                    joins_lowest[i] = min(joins_lowest[i], e)
        if joins_lowest[lowest] == -math.inf and low in (ra, rb):  # the lowest node: its first join
            joins_lowest[lowest] = e
        parent[rb] = ra
        members[ra] = members.pop(ra) + members.pop(rb)
    if joins_lowest[lowest] == -math.inf:  # the lowest node never joins another
        joins_lowest[lowest] = math.inf
    comps = tuple(tuple(sorted(m)) for m in sorted(members.values(), key=lambda m: min(E[i] for i in m)))
    return DisconnectivityTree(
        energies=tuple(E),
        joins=tuple(joins),
        barrier=tuple(barrier),
        exit_edge=tuple(exit_edge),
        joins_lowest=tuple(joins_lowest),
        components=comps,
    )


def tree_layout(tree: DisconnectivityTree) -> dict:
    """Positions for drawing: leaf x (0..N−1), and for every join its x and its children's x.

    Returns {"leaf_x": array (N,), "joins": [(energy, x_left, x_right, x_join)], "top": [(x, energy)]}:
    a set's x is the mean of its two children's; "top" lists each final component's x and the
    energy of its last join (its lowest node's energy if it has none). Children are placed
    lowest-minimum first.
    """
    E = np.asarray(tree.energies)
    N = E.size
    # binary tree: each join is a node with two children (sets); leaves are the minima
    node_of = {(i,): ("leaf", i) for i in range(N)}
    children = {}
    for k, jn in enumerate(tree.joins):
        children[k] = (node_of.pop(jn.left), node_of.pop(jn.right))
        node_of[tuple(sorted(jn.left + jn.right))] = ("join", k)
    roots = sorted(node_of.values(), key=lambda nd: _low(nd, children, E))
    order: list[int] = []

    def visit(nd):
        if nd[0] == "leaf":
            order.append(nd[1])
            return
        a, b = sorted(children[nd[1]], key=lambda c: _low(c, children, E))
        visit(a)
        visit(b)

    for r in roots:
        visit(r)
    leaf_x = np.empty(N)
    leaf_x[order] = np.arange(N, dtype=float)
    xs = {}

    def x_of(nd):
        if nd[0] == "leaf":
            return float(leaf_x[nd[1]])
        if nd[1] not in xs:
            a, b = children[nd[1]]
            xs[nd[1]] = 0.5 * (x_of(a) + x_of(b))
        return xs[nd[1]]

    joins = []
    for k, jn in enumerate(tree.joins):
        a, b = children[k]
        joins.append((jn.energy, x_of(a), x_of(b), x_of(("join", k))))
    top = [(x_of(r), tree.joins[r[1]].energy if r[0] == "join" else float(E[r[1]])) for r in roots]
    return {"leaf_x": leaf_x, "joins": joins, "top": top, "order": order}


def _low(nd, children, E) -> float:
    if nd[0] == "leaf":
        return float(E[nd[1]])
    return min(_low(c, children, E) for c in children[nd[1]])
