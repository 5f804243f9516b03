"""The `pyha` command for administrators: `pyha check` (the stack's semantics) and, to
come, `pyha migrate`. Nothing here runs inside an agent: the agents never import it."""
