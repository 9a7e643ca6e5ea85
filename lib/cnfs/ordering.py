"""Dependency ordering shared by the codebook (universes) and the synthetic twin (correlations)."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def topological_order(ids: Iterable[str], deps: Callable[[str], Iterable[str]]) -> list[str]:
    """Ids in their given order, each moved after the ids it depends on; ValueError on a cycle."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(node: str, stack: tuple[str, ...]) -> None:
        if node in seen:
            return
        if node in stack:
            raise ValueError(f"circular dependency: {' -> '.join(stack + (node,))}")
        for d in deps(node):
            visit(d, stack + (node,))
        seen.add(node)
        order.append(node)

    for node in ids:
        visit(node, ())
    return order
